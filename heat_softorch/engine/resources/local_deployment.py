"""OS::SoftOrch::LocalSoftwareDeployment and LocalStructuredDeployment."""

from heat.common import exception
from heat.db import api as db_api
from heat.engine.resources.openstack.heat import software_deployment
from heat.engine.resources.openstack.heat import structured_config
from heat.engine import support
from oslo_config import cfg

from heat_softorch.engine import options


class LocalServerDeployment(object):
    """What a deployment asks Nova, asked of Heat's own records instead.

    Heat's deployments ask Nova about their server in one place only: on
    delete, a deployment with DELETE in its ``actions`` waits for the
    server's signal only while ``_server_exists``, which asks Nova (and
    fails with EndpointNotFound where there is none). A LocalServer exists
    while Heat has a resource with its id that is not being deleted: the
    same lookup by physical id that Heat's engine uses to push the
    deployments metadata to the server.
    """

    def validate(self):
        super(LocalServerDeployment, self).validate()
        if not cfg.CONF[options.GROUP].enable_local_servers:
            raise exception.StackValidationFailed(message=(
                '%s: %s is for OS::SoftOrch::LocalServer, which is disabled '
                '([softorch] enable_local_servers).' % (
                    self.name, self.type())))

    def _server_exists(self, sd):
        server = db_api.resource_get_by_physical_resource_id(
            self.context, sd['server_id'])
        return server is not None and server.action != self.DELETE


class LocalSoftwareDeployment(LocalServerDeployment,
                              software_deployment.SoftwareDeployment):
    """OS::Heat::SoftwareDeployment for OS::SoftOrch::LocalServer.

    Heat's own OS::Heat::SoftwareDeployment, unchanged but for one thing:
    whether its server still exists is read from Heat's records, not asked
    of Nova (a deployment with DELETE in its ``actions`` asks on delete).
    ``examples/env-local.yaml`` maps OS::Heat::SoftwareDeployment to it,
    along with OS::Nova::Server to OS::SoftOrch::LocalServer; members of an
    OS::Heat::SoftwareDeploymentGroup get it through that mapping too.
    """

    support_status = support.SupportStatus(version='2026.2')


class LocalStructuredDeployment(LocalServerDeployment,
                                structured_config.StructuredDeployment):
    """OS::Heat::StructuredDeployment for OS::SoftOrch::LocalServer.

    Heat's own OS::Heat::StructuredDeployment, unchanged but for one thing:
    whether its server still exists is read from Heat's records, not asked
    of Nova (see OS::SoftOrch::LocalSoftwareDeployment).
    """

    support_status = support.SupportStatus(version='2026.2')


def resource_mapping():
    return {
        'OS::SoftOrch::LocalSoftwareDeployment': LocalSoftwareDeployment,
        'OS::SoftOrch::LocalStructuredDeployment': LocalStructuredDeployment,
    }
