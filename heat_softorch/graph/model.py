"""The plain data the graph layer works on.

The engine reads a stack's unresolved resource definitions and reduces each
one to what the analysis needs: which names it refers to, and how. Nothing
here knows about Heat, so the analysis can be tested, cached and reused by
the command line without a running engine.

Names are resource names as written in the template. The classes are frozen:
one model describes one version of a stack, and an update compares two.
Sequences given as lists are stored as tuples and name sets as frozensets,
so that the engine may build them however is convenient.
"""

import dataclasses
import typing


def _freeze(obj, **fields):
    """Normalise fields of a frozen dataclass after construction."""
    for name, kind in fields.items():
        value = getattr(obj, name)
        if not isinstance(value, kind):
            object.__setattr__(obj, name, kind(value))


@dataclasses.dataclass(frozen=True)
class Input(object):
    """A declared input of a component.

    ``hidden`` inputs are masked wherever values are shown; the graph only
    carries the flag so that callers have one place to look it up.
    """

    name: str
    hidden: bool = False


@dataclasses.dataclass(frozen=True)
class Wire(object):
    """``input_values[input]`` is exactly ``{get_attr: [upstream, output]}``.

    The engine creates a Wire only when ``upstream`` is a component; a
    get_attr on anything else keeps Heat's meaning and is not a wire.
    """

    input: str
    upstream: str
    output: str


@dataclasses.dataclass(frozen=True)
class NestedRef(object):
    """A reference to a component found where a wire is not allowed.

    ``where`` is a path for humans, such as ``input_values.url`` or
    ``configs``. Every NestedRef is refused: ZooKeeper carries whole values,
    and Heat would resolve the reference before the upstream has run.
    """

    upstream: str
    where: str


@dataclasses.dataclass(frozen=True)
class Component(object):
    """An ``OS::SoftOrch::SoftwareComponent`` reduced to its references.

    ``agent`` is the resource named by ``agent: {get_resource: ...}``, or
    None when the property is missing or is not a literal get_resource;
    ``agent_given`` is the property as written, as plain data (None when
    missing), for messages. ``values`` names the inputs given literal
    (non-wired) values. ``after`` lists the components named in
    ``depends_on``. ``reads`` holds every
    other resource the definition refers to (by get_resource, get_attr or
    depends_on), the agent included; it never holds components or links.
    ``config_actions`` lists the actions of each config, in the order of
    ``configs``. ``outputs_known`` is False when the declared outputs
    could not be read (a member template whose parameters only its group
    can give): checks of what other stacks read from it are then skipped.
    """

    name: str
    agent: typing.Optional[str] = None
    inputs: typing.Mapping[str, Input] = dataclasses.field(
        default_factory=dict)
    outputs: typing.Tuple[str, ...] = ()
    values: typing.Tuple[str, ...] = ()
    wires: typing.Tuple[Wire, ...] = ()
    after: typing.Tuple[str, ...] = ()
    reads: typing.FrozenSet[str] = frozenset()
    nested: typing.Tuple[NestedRef, ...] = ()
    agent_given: typing.Optional[str] = None
    config_actions: typing.Tuple[typing.Tuple[str, ...], ...] = ()
    outputs_known: bool = True

    def __post_init__(self):
        if not isinstance(self.inputs, typing.Mapping):
            # A sequence of Input, as the template lists them.
            object.__setattr__(self, 'inputs',
                               {i.name: i for i in self.inputs})
        _freeze(self, inputs=dict, outputs=tuple, values=tuple,
                wires=tuple, after=tuple, reads=frozenset, nested=tuple,
                config_actions=tuple)
        object.__setattr__(self, 'config_actions', tuple(
            tuple(actions) for actions in self.config_actions))


# How a link end names its component (Ref.kind).
LOCAL, PARENT, GROUP, BAD = 'local', 'parent', 'group', 'bad'
PARENT_PREFIX = '../'
# How a consumer reads a group's outputs (Link.collect).
COLLECT_LIST, COLLECT_MAP = 'list', 'map'
COLLECTS = (COLLECT_LIST, COLLECT_MAP)


@dataclasses.dataclass(frozen=True)
class Ref(object):
    """A link end as written: ``db`` (this stack), ``../db`` (component
    ``db`` of the parent stack: the stack that holds the group, or nested
    stack resource, this stack is a member of) or ``app_tier/app``
    (component ``app`` in every member of group ``app_tier`` of this
    stack). Heat refuses ``/`` in resource names, so the forms cannot be
    confused with a name."""

    kind: str
    component: str
    group: typing.Optional[str] = None

    @classmethod
    def parse(cls, text):
        text = str(text)
        if text.startswith(PARENT_PREFIX):
            rest = text[len(PARENT_PREFIX):]
            if rest and '/' not in rest:
                return cls(PARENT, rest)
            return cls(BAD, text)
        if '/' in text:
            group, _, component = text.partition('/')
            if group and component and '/' not in component and \
                    group != '..':
                return cls(GROUP, component, group)
            return cls(BAD, text)
        return cls(LOCAL, text)

    @property
    def remote(self):
        return self.kind in (PARENT, GROUP)

    def __str__(self):
        if self.kind == PARENT:
            return PARENT_PREFIX + self.component
        if self.kind == GROUP:
            return '%s/%s' % (self.group, self.component)
        return self.component


@dataclasses.dataclass(frozen=True)
class Link(object):
    """An ``OS::SoftOrch::ComponentLink`` from ``source`` to ``target``.

    ``mapping`` is ``{target_input: source_output}``; an empty mapping is a
    pure ordering edge. ``source`` may name a component of another stack
    of the same root (see Ref); ``collect`` says how the outputs of a
    group's members reach the target: a JSON list ordered by member name,
    or a map by member name.
    """

    name: str
    source: str
    target: str
    mapping: typing.Mapping[str, str] = dataclasses.field(
        default_factory=dict)
    collect: str = COLLECT_LIST

    def __post_init__(self):
        _freeze(self, mapping=dict)

    @property
    def source_ref(self):
        return Ref.parse(self.source)

    @property
    def target_ref(self):
        return Ref.parse(self.target)


@dataclasses.dataclass(frozen=True)
class Resource(object):
    """Any resource that is neither a component nor a link.

    ``reads`` names the resources it refers to, ``reads_components`` the
    components it refers to (those keep Heat's usual meaning: it waits for
    them and sees real values). ``boots`` names the agents whose
    ``user_data`` it carries: a server that boots them. ``type`` is its
    resource type as the template writes it, for messages.
    """

    name: str
    reads: typing.FrozenSet[str] = frozenset()
    boots: typing.FrozenSet[str] = frozenset()
    reads_components: typing.FrozenSet[str] = frozenset()
    type: str = ''

    def __post_init__(self):
        _freeze(self, reads=frozenset, boots=frozenset,
                reads_components=frozenset)


@dataclasses.dataclass(frozen=True)
class StackModel(object):
    """One stack: components, links and other resources by name.

    ``agents`` names the ``OS::SoftOrch::Agent`` resources; they may also
    appear in ``resources`` with their own references. ``groups`` holds
    the resources whose members are stacks of their own (a group, or a
    nested stack: a group of one), with their member template's model
    where it can be read; they appear in ``resources`` too.
    """

    components: typing.Mapping[str, Component] = dataclasses.field(
        default_factory=dict)
    links: typing.Mapping[str, Link] = dataclasses.field(
        default_factory=dict)
    resources: typing.Mapping[str, Resource] = dataclasses.field(
        default_factory=dict)
    agents: typing.FrozenSet[str] = frozenset()
    groups: typing.Mapping[str, 'Group'] = dataclasses.field(
        default_factory=dict)

    def __post_init__(self):
        _freeze(self, components=dict, links=dict, resources=dict,
                agents=frozenset, groups=dict)


# Group.kind
RESOURCE_GROUP, AUTOSCALING_GROUP, NESTED = (
    'OS::Heat::ResourceGroup', 'OS::Heat::AutoScalingGroup', 'nested stack')


@dataclasses.dataclass(frozen=True)
class Group(object):
    """A resource of the stack whose members are stacks made from one
    template: a ResourceGroup, an AutoScalingGroup, or a nested stack
    resource (a group of one).

    ``template`` is the member template as the definition names it (a
    file name or URL), for messages; ``member`` its StackModel, or None
    when it cannot be read here. ``size_reads`` names the resources the
    group's size (count, desired_capacity...) refers to: a consumer of the
    group depends on them in Heat, so that the engine can resolve how many
    members to wait for.
    """

    name: str
    kind: str
    template: str = ''
    member: typing.Optional[StackModel] = None
    size_reads: typing.FrozenSet[str] = frozenset()

    def __post_init__(self):
        _freeze(self, size_reads=frozenset)

    @property
    def template_label(self):
        """The member template's file name, without a URL's directories."""
        return self.template.rsplit('/', 1)[-1] if self.template else \
            '(template unknown)'
