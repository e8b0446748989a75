"""Keystone's public WSGI application, for gunicorn (tools/keystone.sh).

keystone.server.wsgi parses sys.argv with oslo.config when it configures
itself: inside a gunicorn worker that is gunicorn's own command line (-b,
-w, ...), and every worker would die with "unrecognized arguments" while the
master kept respawning them. Keystone finds its configuration through
OS_KEYSTONE_CONFIG_DIR / OS_KEYSTONE_CONFIG_FILES instead.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402,F401
