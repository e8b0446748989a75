#!/usr/bin/env python3
"""The app tier: an HTML page naming this app and showing the db's content
(stdlib only).

    GET /         the page; reads --db-url/data on every request
    GET /health   {"app", "ok": true}

Every answer carries the header X-App: <name>. It writes --portfile (the
port it listens on: --port 0 takes any free one) and --pidfile once it
listens, and removes the pidfile on exit.
"""

import argparse
import html
import http.server
import json
import os
import signal
import sys
import urllib.request

# Straight to the db, whatever http_proxy says.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

PAGE = '''<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{name}</title></head>
<body>
<h1>Served by {name}</h1>
<p>Message of the day: <b>{motd}</b></p>
<p>db data_version {live_version}
(this app was deployed with {deployed_version}),
read {reads} time(s) since the db loaded it at {loaded_at}.</p>
<p>db: {db_url}</p>
</body></html>
'''


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'three-tier-app/1'

    def _send(self, code, body, ctype):
        data = body.encode('utf-8')
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-App', self.server.args.name)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def do_GET(self):
        args = self.server.args
        if self.path == '/health':
            self._send(200, json.dumps({'app': args.name, 'ok': True}),
                       'application/json')
            return
        if self.path not in ('/', '/index.html'):
            self._send(404, 'no such page: %s\n' % self.path, 'text/plain')
            return
        try:
            with OPENER.open(args.db_url.rstrip('/') + '/data',
                             timeout=3) as r:
                row = json.loads(r.read().decode('utf-8'))
        except Exception as exc:
            self._send(503, '%s: the db at %s does not answer: %s\n' % (
                args.name, args.db_url, exc), 'text/plain')
            return
        self._send(200, PAGE.format(
            name=html.escape(args.name),
            motd=html.escape(str(row.get('motd'))),
            live_version=html.escape(str(row.get('data_version'))),
            deployed_version=html.escape(args.data_version),
            reads=row.get('reads'),
            loaded_at=html.escape(str(row.get('loaded_at'))),
            db_url=html.escape(args.db_url)), 'text/html; charset=utf-8')

    do_HEAD = do_GET


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--name', required=True)
    p.add_argument('--address', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--db-url', required=True)
    p.add_argument('--data-version', default='')
    p.add_argument('--pidfile', required=True)
    p.add_argument('--portfile',
                   help='write the port listened on here (--port 0: any)')
    args = p.parse_args()

    server = http.server.ThreadingHTTPServer((args.address, args.port),
                                             Handler)
    server.daemon_threads = True
    server.args = args
    args.port = server.server_address[1]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.portfile:
        with open(args.portfile, 'w') as f:
            f.write('%d\n' % args.port)
    with open(args.pidfile, 'w') as f:
        f.write('%d\n' % os.getpid())
    print('%s: serving http://%s:%d/ with db %s (data_version %s)' % (
        args.name, args.address, args.port, args.db_url, args.data_version),
        flush=True)
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
        print('%s: stopped' % args.name, flush=True)


if __name__ == '__main__':
    main()
