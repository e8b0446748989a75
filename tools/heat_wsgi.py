"""Heat's API (heat.api.openstack.wsgi), for gunicorn (tools/heat.sh).

heat-wsgi-api serves with wsgiref's simple_server: one request at a time
("for testing only"). Heat's engine calls its own API while it answers
some requests (`openstack stack resource show` of an OS::Heat::SoftwareConfig
or SoftwareDeployment shows the config through heatclient), so that
request waits for the one it is serving and times out after 60 s; and
every os-collect-config poll queues behind every other request. gunicorn
serves the same application with several workers, as uwsgi or mod_wsgi do
in a real deployment.

init_application() parses sys.argv with oslo.config: inside a gunicorn
worker that is gunicorn's own command line. The configuration file comes
from HEAT_CONFIG_FILE instead.
"""

import os
import sys

sys.argv = [sys.argv[0], '--config-file', os.environ['HEAT_CONFIG_FILE']]

from heat.api.openstack import wsgi  # noqa: E402

application = wsgi.init_application()
