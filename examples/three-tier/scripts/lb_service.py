#!/usr/bin/env python3
"""The lb tier: a round-robin HTTP reverse proxy (stdlib only).

Each request goes to the next --backend in turn; when a backend does not
answer, the next one is tried, and 502 comes back only when none does.
Every answer carries the header X-Backend: <backend URL>.

    GET /_lb/status   {"backends": [...], "served": {backend: count}}

It writes --pidfile once it listens and removes it on exit.
"""

import argparse
import http.client
import http.server
import json
import os
import signal
import sys
import threading
import urllib.parse

# Headers that belong to one connection, not to the message (RFC 7230 6.1).
HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-authenticate',
              'proxy-authorization', 'te', 'trailer', 'transfer-encoding',
              'upgrade'}


class Balancer(object):

    def __init__(self, backends):
        self.backends = backends
        self.next = 0
        self.served = {b: 0 for b in backends}
        self.lock = threading.Lock()

    def order(self):
        """The backends, starting with the one whose turn it is."""
        with self.lock:
            i = self.next
            self.next = (self.next + 1) % len(self.backends)
        return self.backends[i:] + self.backends[:i]

    def count(self, backend):
        with self.lock:
            self.served[backend] += 1


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'three-tier-lb/1'

    def _send(self, code, body, ctype, extra=()):
        data = body.encode('utf-8')
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def _forward(self, backend, body):
        url = urllib.parse.urlsplit(backend)
        conn = http.client.HTTPConnection(url.hostname, url.port or 80,
                                          timeout=10)
        try:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP_BY_HOP and k.lower() != 'host'}
            headers['Host'] = url.netloc
            headers['X-Forwarded-For'] = self.client_address[0]
            conn.request(self.command, url.path.rstrip('/') + self.path,
                         body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _proxy(self):
        balancer = self.server.balancer
        if self.path == '/_lb/status':
            with balancer.lock:
                status = {'backends': balancer.backends,
                          'served': dict(balancer.served)}
            self._send(200, json.dumps(status), 'application/json')
            return
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        errors = []
        for backend in balancer.order():
            try:
                status, headers, data = self._forward(backend, body)
            except (OSError, http.client.HTTPException) as exc:
                errors.append('%s: %s' % (backend, exc))
                self.log_message('backend %s failed: %s', backend, exc)
                continue
            balancer.count(backend)
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in HOP_BY_HOP | {'content-length'}:
                    self.send_header(k, v)
            self.send_header('Content-Length', str(len(data)))
            self.send_header('X-Backend', backend)
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(data)
            return
        self._send(502, 'no backend answered:\n%s\n' % '\n'.join(errors),
                   'text/plain')

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _proxy


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--address', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--backend', action='append', required=True,
                   help='a backend URL; repeat for each')
    p.add_argument('--pidfile', required=True)
    args = p.parse_args()
    for backend in args.backend:
        url = urllib.parse.urlsplit(backend)
        if url.scheme != 'http' or not url.hostname:
            p.error('backend %r is not an http://host[:port]/ URL' % backend)

    server = http.server.ThreadingHTTPServer((args.address, args.port),
                                             Handler)
    server.daemon_threads = True
    server.balancer = Balancer(args.backend)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.pidfile, 'w') as f:
        f.write('%d\n' % os.getpid())
    print('lb: serving http://%s:%d/ round-robin over %s' % (
        args.address, args.port, ', '.join(args.backend)), flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        try:
            with open(args.pidfile) as f:
                mine = f.read().strip() == str(os.getpid())
            if mine:
                os.unlink(args.pidfile)
        except OSError:
            pass
        print('lb: stopped', flush=True)


if __name__ == '__main__':
    main()
