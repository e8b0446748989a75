"""OS::SoftOrch::ComponentLink."""

from heat.engine import constraints
from heat.engine import properties
from heat.engine import resource
from heat.engine import support

from heat_softorch.engine import preprocessor


class ComponentLink(resource.Resource):
    """An explicit edge between two software components.

    ``to`` names a component of this stack; ``from`` one of this stack, or
    of another stack of the same root stack:

    - ``from: ../db`` (in a member template): component ``db`` of the
      parent stack, the stack that holds the group (or nested stack
      resource) this stack is a member of. No Heat dependency: the
      member's servers boot while db deploys, and ``to`` runs as soon as
      db has published.
    - ``from: app_tier/app``: component ``app`` in every member of group
      ``app_tier`` of this stack (an OS::Heat::ResourceGroup, an
      OS::Heat::AutoScalingGroup, or a nested stack resource, a group of
      one). With ``map: {backends: url}`` input ``backends`` of ``to`` is
      a JSON list of every member's ``url``, ordered by member name (``2``
      before ``10``); ``collect: map`` gives ``{member name: url}``. ``to``
      first runs once every member the group has in this Heat operation
      (its count or desired capacity) has published, then follows the
      membership: members that join or leave, by a stack update or a
      scaling policy's signal, re-run it (UPDATE) with the new list, and
      a leaving member's DELETE config runs only once ``to`` runs without
      it. A member is its component's agent: one replaced after ``mark
      unhealthy`` is a new member.

    With a ``map`` (``{to_input: from_output}``) the edge carries those
    values, like ``get_attr`` in ``input_values``; without one it is pure
    ordering: ``to`` starts once ``from`` has finished, on whatever VMs
    they run (the sugar-coated wait condition). The edge lives in
    ZooKeeper: it does not make Heat wait, and the link resource itself
    has nothing to create.
    """

    support_status = support.SupportStatus(version='2026.2')
    softorch_kind = preprocessor.LINK

    PROPERTIES = (FROM, TO, MAP, COLLECT) = ('from', 'to', 'map', 'collect')

    properties_schema = {
        FROM: properties.Schema(
            properties.Schema.STRING,
            'The upstream component: its resource name in this stack, '
            '../<name> for one of the parent stack, or <group>/<name> for '
            'one in every member of a group of this stack.',
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
        COLLECT: properties.Schema(
            properties.Schema.STRING,
            'How a group\'s members reach "to": list (a JSON list '
            'ordered by member name) or map ({member name: value}).',
            default='list', update_allowed=True,
            constraints=[constraints.AllowedValues(['list', 'map'])]),
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
