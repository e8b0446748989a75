"""Heat's API, engine and convergence worker in one process, for tests.

usage: heat_allinone.py --config-file heat.conf --port PORT

With ``transport_url = fake://`` every RPC party must live in one process;
Heat no longer ships heat-all, so this starts the same pieces heat-engine
and heat-wsgi-api do, minus the forking. The real services, over RabbitMQ,
are what ``make up`` runs.
"""

import os
import signal
import socketserver
import sys
import wsgiref.simple_server as wss

from oslo_service import backend

backend.init_backend(backend.BackendType.THREADING)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import heat_noauth  # noqa: E402
from heat.api.openstack import wsgi as api_wsgi  # noqa: E402
from heat.common import config  # noqa: E402
from heat.rpc import api as rpc_api  # noqa: E402
from oslo_config import cfg  # noqa: E402


class QuietHandler(wss.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class ThreadingWSGIServer(socketserver.ThreadingMixIn, wss.WSGIServer):
    daemon_threads = True


def main():
    port = 8004
    if '--port' in sys.argv:
        i = sys.argv.index('--port')
        port = int(sys.argv[i + 1])
        del sys.argv[i:i + 2]
    # Parses sys.argv[1:], sets up logging and messaging.
    app = api_wsgi.init_application()
    heat_noauth.patch()
    from heat.engine import service as engine_service
    config.startup_sanity_check()
    engine = engine_service.EngineService(cfg.CONF.host,
                                          rpc_api.ENGINE_TOPIC)
    engine.start()
    # Engine threads are not daemons: make SIGTERM really end the process.
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    httpd = wss.make_server('127.0.0.1', port, app,
                            server_class=ThreadingWSGIServer,
                            handler_class=QuietHandler)
    print('heat all-in-one on http://127.0.0.1:%d' % port, flush=True)
    httpd.serve_forever()


if __name__ == '__main__':
    main()
