"""OS::SoftOrch::LocalScalingPolicy."""

from heat.common import exception
from heat.engine.resources.openstack.heat import scaling_policy
from heat.engine import support
from oslo_config import cfg

from heat_softorch.engine import options


class LocalScalingPolicy(scaling_policy.AutoScalingPolicy):
    """A stand-in for OS::Heat::ScalingPolicy on a Heat without Keystone.

    Heat's policy makes a Keystone user in the stack's domain when it is
    created, for the ``alarm_url`` it offers an alarm; a private Heat with
    noauth (``make up``, the tests) has no Keystone to ask. This one makes
    none and offers no alarm URL; everything else is Heat's own policy: a
    signal (``openstack stack resource signal STACK <policy>``) adjusts its
    group as on a cloud. So ``resource_registry: {"OS::Heat::ScalingPolicy":
    "OS::SoftOrch::LocalScalingPolicy"}`` (examples/env-local.yaml) runs a
    cloud template's scaling on one machine. Refused unless heat.conf sets
    ``[softorch] enable_local_servers = true``, as OS::SoftOrch::LocalServer
    is: for demos, development and tests only.
    """

    support_status = support.SupportStatus(version='2026.2')

    def validate(self):
        super(LocalScalingPolicy, self).validate()
        if not cfg.CONF[options.GROUP].enable_local_servers:
            raise exception.StackValidationFailed(message=(
                '%s: OS::SoftOrch::LocalScalingPolicy is disabled: it is a '
                'scaling policy for a Heat without Keystone, for demos and '
                'tests only; set [softorch] enable_local_servers = true in '
                'heat.conf to allow it.' % self.name))

    def handle_create(self):
        self.resource_id_set(self.physical_resource_name())

    def _resolve_attribute(self, name):
        # No Keystone user: no signed alarm URL to give.
        return None


def resource_mapping():
    return {'OS::SoftOrch::LocalScalingPolicy': LocalScalingPolicy}
