"""OS::SoftOrch::ComponentLink."""

from heat.engine import properties
from heat.engine import resource
from heat.engine import support

from heat_softorch.engine import preprocessor


class ComponentLink(resource.Resource):
    """An explicit edge between two software components.

    ``from`` and ``to`` name components of this stack. With a ``map``
    (``{to_input: from_output}``) the edge carries those values, like
    ``get_attr`` in ``input_values``; without one it is pure ordering: ``to``
    starts once ``from`` has finished, on whatever VMs they run (the
    sugar-coated wait condition). The edge lives in ZooKeeper: it does not
    make Heat wait, and the link resource itself has nothing to create.
    """

    support_status = support.SupportStatus(version='2026.2')
    softorch_kind = preprocessor.LINK

    PROPERTIES = (FROM, TO, MAP) = ('from', 'to', 'map')

    properties_schema = {
        FROM: properties.Schema(
            properties.Schema.STRING,
            'Name of the upstream component resource.',
            required=True, update_allowed=True),
        TO: properties.Schema(
            properties.Schema.STRING,
            'Name of the downstream component resource.',
            required=True, update_allowed=True),
        MAP: properties.Schema(
            properties.Schema.MAP,
            'Inputs of "to" set from outputs of "from": '
            '{to_input: from_output}. Empty for a pure ordering edge.',
            default={}, update_allowed=True),
    }

    def handle_create(self):
        self.resource_id_set('%s->%s' % (self.properties[self.FROM],
                                         self.properties[self.TO]))

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        # The pre-processor reads links from the template; the components
        # at both ends take part in every update and re-register.
        return None


def resource_mapping():
    return {'OS::SoftOrch::ComponentLink': ComponentLink}
