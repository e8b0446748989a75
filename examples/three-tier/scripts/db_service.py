#!/usr/bin/env python3
"""The db tier: a tiny JSON data service over a sqlite file (stdlib only).

    GET /data     {"motd", "data_version", "reads", "loaded_at"}, and
                  counts the read in "reads"
    GET /health   {"ok": true, "data_version"}

On start it loads the content of --content-file into the sqlite file (the
message of the day the apps show) and computes its data_version (a digest of
the content). It writes --pidfile once it listens and removes it on exit.
"""

import argparse
import hashlib
import http.server
import json
import os
import signal
import sqlite3
import sys
import threading
import time


def data_version(content):
    return hashlib.sha256(content.encode('utf-8')).hexdigest()[:12]


class Store(object):

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        with self._connect() as db:
            db.execute('CREATE TABLE IF NOT EXISTS kv '
                       '(k TEXT PRIMARY KEY, v TEXT NOT NULL)')

    def _connect(self):
        return sqlite3.connect(self.path, timeout=10)

    def load(self, content):
        with self.lock, self._connect() as db:
            db.executemany('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)', [
                ('motd', content),
                ('data_version', data_version(content)),
                ('loaded_at', time.strftime('%Y-%m-%dT%H:%M:%SZ',
                                            time.gmtime())),
                ('reads', '0')])

    def read(self, count=True):
        with self.lock, self._connect() as db:
            if count:
                db.execute("UPDATE kv SET v = CAST(v AS INTEGER) + 1 "
                           "WHERE k = 'reads'")
            rows = dict(db.execute('SELECT k, v FROM kv'))
        rows['reads'] = int(rows.get('reads', 0))
        return rows


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'three-tier-db/1'

    def _json(self, code, body):
        data = json.dumps(body).encode('utf-8')
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def do_GET(self):
        store = self.server.store
        if self.path == '/data':
            self._json(200, store.read())
        elif self.path == '/health':
            row = store.read(count=False)
            self._json(200, {'ok': True, 'data_version': row['data_version']})
        else:
            self._json(404, {'error': 'no such path: %s' % self.path})

    do_HEAD = do_GET


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--address', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--db', required=True, help='the sqlite file')
    p.add_argument('--content-file', required=True)
    p.add_argument('--pidfile', required=True)
    args = p.parse_args()

    store = Store(args.db)
    with open(args.content_file, encoding='utf-8') as f:
        store.load(f.read())
    server = http.server.ThreadingHTTPServer((args.address, args.port),
                                             Handler)
    server.daemon_threads = True
    server.store = store
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.pidfile, 'w') as f:
        f.write('%d\n' % os.getpid())
    print('db: serving http://%s:%d/ data_version %s' % (
        args.address, args.port, store.read(count=False)['data_version']),
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
        print('db: stopped', flush=True)


if __name__ == '__main__':
    main()
