# Test-only resource types, loaded by the tests' Heat (tests/heatenv.py adds
# this directory to plugin_dirs), never by a real cloud.
from heat.engine.resources.openstack.heat import scaling_policy


class KeystonelessScalingPolicy(scaling_policy.AutoScalingPolicy):
    """OS::Heat::ScalingPolicy for a cloud without Keystone.

    Heat's policy makes a Keystone user in the stack's domain at create,
    for the alarm URL it offers; the tests' Heat runs without Keystone.
    Everything else is Heat's own: a signal (`openstack stack resource
    signal`) adjusts the group as it would on a cloud.
    """

    def handle_create(self):
        self.resource_id_set(self.physical_resource_name())


def available_resource_mapping():
    return {'OS::SoftOrch::Test::ScalingPolicy': KeystonelessScalingPolicy}
