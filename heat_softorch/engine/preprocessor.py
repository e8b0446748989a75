"""The pre-processor: a stack's unresolved definitions as a component DAG.

Read from the definitions, never from resolved properties: a get_attr
between components is a ZooKeeper wire, not a Heat dependency, so Heat
never resolves it in time (it is None in a convergence worker). Computed
once per StackDefinition (Stack.validate asks every resource, and a
resource_definitions() pass costs ~60 ms at 1,100 resources) and without
side effects: validate() runs before the stack has an id, and for
previews. Declarations (inputs, outputs, links) are read as the template
states them: a value only Heat's resources could supply is not one.
"""

import collections
import copy
import dataclasses
import hashlib
import json
import threading

from heat.common import exception
from heat.common import template_format
from heat.engine import environment
from heat.engine import function
from heat.engine import stk_defn
from heat.engine import template
from heat.engine.hot import functions as hot_functions

from heat_softorch import graph

# Resource classes say what they are to the pre-processor through this
# attribute, so that this module needs none of them.
KIND = 'softorch_kind'
COMPONENT, LINK, AGENT = 'component', 'link', 'agent'
USER_DATA = 'user_data'

_CACHE_ATTR = '_softorch_analysis'
# A convergence worker loads the stack afresh for every resource it checks:
# without this, a 1,000-component stack is analysed 1,000 times (seconds
# each). Keyed by what the model is read from: the template, environment
# and files (parameters included), and the stack.
_SHARED = collections.OrderedDict()
_SHARED_MAX = 16
_shared_lock = threading.Lock()


def _content_key(stack_defn):
    tmpl = stack_defn.t
    try:
        stack_id = stack_defn.parameters['OS::stack_id']
    except Exception:  # noqa: a template format without the pseudo one
        stack_id = None
    text = json.dumps([tmpl.t, tmpl.env.env_as_dict(), dict(tmpl.files),
                       stack_id], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def analysis(stack_defn):
    """The graph.Analysis of a StackDefinition, computed once per content
    in this process."""
    cached = getattr(stack_defn, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    key = _content_key(stack_defn)
    with _shared_lock:
        cached = _SHARED.get(key)
        if cached is not None:
            _SHARED.move_to_end(key)
    if cached is None:
        cached = graph.analyse(model_of(stack_defn))
        with _shared_lock:
            _SHARED[key] = cached
            while len(_SHARED) > _SHARED_MAX:
                _SHARED.popitem(last=False)
    setattr(stack_defn, _CACHE_ATTR, cached)
    return cached


def new_definition(stack, context):
    """The StackDefinition of what ``stack`` is becoming.

    Under convergence that is the stack's own. In a legacy-engine update
    or rollback the stack keeps its old template until the end, and the
    definitions Heat hands to resources are re-parsed against it; the
    template being applied is stored meanwhile as prev_raw_template_id.
    """
    if stack.convergence or stack.action not in (stack.UPDATE,
                                                 stack.ROLLBACK) or \
            not stack.prev_raw_template_id:
        return stack.defn
    key = (stack.prev_raw_template_id, id(stack.defn))
    cached = getattr(stack, _CACHE_ATTR + '_legacy', None)
    if cached is None or cached[0] != key:
        tmpl = template.Template.load(context, stack.prev_raw_template_id)
        defn = stk_defn.StackDefinition(context, tmpl, stack.identifier(),
                                        stack.defn._resource_data)
        cached = (key, defn)
        setattr(stack, _CACHE_ATTR + '_legacy', cached)
    return cached[1]


def _class(env, name, rtype):
    try:
        return env.get_class_to_instantiate(rtype, resource_name=name)
    except Exception:  # noqa: an unknown type is Heat's to report
        return None


def _kind(cls):
    return getattr(cls, KIND, None)


def _names(snippet):
    """Resource names a snippet refers to, through any function."""
    try:
        return {r.name for r in function.dependencies(snippet)}
    except exception.InvalidTemplateReference:
        return set()  # Heat reports unknown references itself


def _bare_get_attr(snippet):
    """(resource, attribute) of ``{get_attr: [resource, attribute]}``."""
    if not isinstance(snippet, hot_functions.GetAttThenSelect):
        return None
    try:
        name = function.resolve(snippet._resource_name)
        attr = function.resolve(snippet._attribute)
        path = function.resolve(snippet._path_components)
    except Exception:  # noqa: malformed: Heat's own validation reports it
        return None
    if path or not isinstance(name, str) or not isinstance(attr, str):
        return None
    return name, attr


def _agent_name(snippet):
    if isinstance(snippet, hot_functions.GetResource):
        name = function.resolve(snippet.args)
        if isinstance(name, str):
            return name
    return None


def _resolved(defn, cls, key, context, default):
    try:
        value = defn.properties(cls.properties_schema, context)[key]
    except Exception:  # noqa: unresolvable here; validation reports it
        return default
    return default if value is None else value


def _plain(snippet):
    """A definition's snippet as plain data, functions as the one-key maps
    they were written as (their pickling form), for messages."""
    return copy.deepcopy(snippet)


_UNRESOLVED = object()


def _declared(defn, cls, key, context):
    """The inputs or outputs a component declares, empty and odd names
    included: the checks say what is wrong with them. None when they
    cannot be resolved here."""
    value = _resolved(defn, cls, key, context, _UNRESOLVED)
    if value is _UNRESOLVED:
        return None
    return [i for i in value
            if isinstance(i, dict) and isinstance(i.get('name'), str)]


def _config_actions(defn, cls, context):
    """The actions of each config, in order; defaults applied."""
    return [tuple(a for a in c.get('actions') or () if isinstance(a, str))
            for c in _resolved(defn, cls, 'configs', context, [])
            if isinstance(c, dict)]


def _component(name, defn, cls, kinds, context):
    raw = dict(defn._properties or {})
    components = {n for n, k in kinds.items() if k == COMPONENT}
    inputs = [graph.Input(i['name'], bool(i.get('hidden')))
              for i in _declared(defn, cls, 'inputs', context) or ()]
    declared_outputs = _declared(defn, cls, 'outputs', context)
    outputs = [o['name'] for o in declared_outputs or ()]
    wires, values, nested = [], [], []
    input_values = raw.pop('input_values', None)
    if isinstance(input_values, dict):
        for key, value in input_values.items():
            target = _bare_get_attr(value)
            if target and target[0] in components:
                wires.append(graph.Wire(key, target[0], target[1]))
                continue
            values.append(key)
            for ref in sorted(_names(value) & components):
                nested.append(graph.NestedRef(ref, 'input_values.%s' % key))
    elif input_values is not None:
        values.extend(_resolved(defn, cls, 'input_values', context, {}))
        for ref in sorted(_names(input_values) & components):
            nested.append(graph.NestedRef(ref, 'input_values'))
    agent_snippet = raw.pop('agent', None)
    agent = _agent_name(agent_snippet)
    for prop, value in sorted(raw.items()):
        for ref in sorted(_names(value) & components):
            nested.append(graph.NestedRef(ref, prop))
    depends = [d for d in (defn._depends or []) if isinstance(d, str)]
    after = [d for d in depends if d in components]
    reads = {n for n in defn.required_resource_names()
             if kinds.get(n) not in (COMPONENT, LINK)}
    return graph.Component(name, agent=agent, inputs=inputs, outputs=outputs,
                           values=values, wires=wires, after=after,
                           reads=reads, nested=nested,
                           agent_given=_plain(agent_snippet),
                           config_actions=_config_actions(defn, cls,
                                                          context),
                           outputs_known=declared_outputs is not None)


def _link(name, defn, cls, context):
    props = {k: _resolved(defn, cls, k, context, d)
             for k, d in (('from', ''), ('to', ''), ('map', {}),
                          ('collect', graph.model.COLLECT_LIST))}
    mapping = props['map'] if isinstance(props['map'], dict) else {}
    return graph.Link(name, str(props['from']), str(props['to']),
                      {str(k): str(v) for k, v in mapping.items()},
                      collect=str(props['collect']))


# -- groups: resources whose members are stacks of their own ----------------

# How deep the pre-processor follows member templates (a group whose
# members hold groups...); links reach one level up or down.
GROUP_DEPTH = 3
# The properties that make a group's size, by kind; and where its member
# template is given (None: the resource's own type is the template).
_SIZE_PROPS = {graph.model.RESOURCE_GROUP: ('count',),
               graph.model.AUTOSCALING_GROUP: ('desired_capacity',
                                               'min_size', 'max_size'),
               graph.model.NESTED: ()}
_MEMBER_PROP = {graph.model.RESOURCE_GROUP: 'resource_def',
                graph.model.AUTOSCALING_GROUP: 'resource',
                graph.model.NESTED: None}


def group_kind(cls):
    """graph.model's kind of a group resource class, or None."""
    if cls is None:
        return None
    from heat.engine.resources.openstack.heat import autoscaling_group
    from heat.engine.resources.openstack.heat import resource_group
    from heat.engine.resources import template_resource
    if issubclass(cls, resource_group.ResourceGroup):
        return graph.model.RESOURCE_GROUP
    if issubclass(cls, autoscaling_group.AutoScalingResourceGroup):
        return graph.model.AUTOSCALING_GROUP
    if issubclass(cls, template_resource.TemplateResource):
        return graph.model.NESTED
    return None


def _template_name(env, rtype, name):
    """The template file of a member resource type, or None."""
    if not isinstance(rtype, str) or not rtype:
        return None
    try:
        info = env.registry.get_resource_info(
            rtype, resource_name=name,
            registry_type=environment.TemplateResourceInfo)
    except Exception:  # noqa: Heat reports unknown types
        return None
    return getattr(info, 'template_name', None)


def _raw_resolved(snippet):
    """A snippet resolved as far as it can be here, functions that cannot
    left out (a member's parameters: only its group can give some)."""
    if isinstance(snippet, dict):
        out = {}
        for k, v in snippet.items():
            try:
                out[k] = function.resolve(v)
            except Exception:  # noqa: resolved by Heat later
                continue
        return {k: v for k, v in out.items() if v is not None}
    return {}


def _group(name, defn, cls, kind, stack_defn, context, depth):
    raw = dict(defn._properties or {})
    size_reads = set()
    for prop in _SIZE_PROPS[kind]:
        size_reads |= _names(raw.get(prop))
    prop = _MEMBER_PROP[kind]
    if prop is None:
        rtype, params = defn.resource_type, _raw_resolved(raw)
    else:
        # Read item by item: a parameter the member template does not
        # need to be read (a value offline validation lacks) must not
        # hide the template.
        member = raw.get(prop)
        member = member if isinstance(member, dict) else {}
        try:
            rtype = function.resolve(member.get('type'))
        except Exception:  # noqa: Heat reports it
            rtype = None
        params = _raw_resolved(member.get('properties'))
    template_name = _template_name(stack_defn.env, rtype, name)
    model = None
    if template_name and depth < GROUP_DEPTH:
        text = stack_defn.t.files.get(template_name)
        if text:
            model = _member_model(text, stack_defn, params, context, depth)
    return graph.Group(name, kind, template_name or str(rtype or ''),
                       model, frozenset(size_reads))


def _member_model(text, stack_defn, params, context, depth):
    """The StackModel of a member template, with the parameters its group
    gives, or None when it cannot be read (Heat says why)."""
    from heat.engine import template as tmpl_mod
    try:
        parsed = template_format.parse(text)
        env = environment.get_child_environment(stack_defn.env, params)
        tmpl = tmpl_mod.Template(parsed, files=stack_defn.t.files, env=env)
        defn = stk_defn.StackDefinition(context, tmpl, None, {})
        return model_of(defn, depth + 1)
    except Exception:  # noqa: a template Heat will refuse itself
        return None


def _carriers(defns, classes, kinds, agents):
    """Which agents' user_data each resource carries, directly or through
    resources it reads that are not servers (MultipartMime, CloudConfig,
    SoftwareConfig, Value...)."""
    direct = {}
    for name, defn in defns.items():
        direct[name] = set()
        # Only the agents it refers to at all: walking every definition
        # for every agent grows with their product.
        for agent in agents.intersection(defn.required_resource_names()):
            for attr in defn.dep_attrs(agent):
                if (attr[0] if isinstance(attr, tuple) else attr) == \
                        USER_DATA:
                    direct[name].add(agent)
    memo = {}

    def carries(name, visiting):
        if name in memo:
            return memo[name]
        if name in visiting or name not in defns:
            return set()
        visiting.add(name)
        found = set(direct[name])
        for dep in defns[name].required_resource_names():
            if dep in defns and not _is_server(classes.get(dep)) and \
                    kinds.get(dep) is None:
                found |= carries(dep, visiting)
        visiting.discard(name)
        memo[name] = found
        return found
    return {name: carries(name, set()) for name in defns}


def _is_server(cls):
    return cls is not None and USER_DATA in getattr(
        cls, 'properties_schema', {})


def model_of(stack_defn, depth=0):
    defns = {name: stack_defn.resource_definition(name)
             for name in stack_defn.enabled_rsrc_names()}
    env = stack_defn.env
    context = getattr(stack_defn, '_context', None)
    classes = {n: _class(env, n, d.resource_type) for n, d in defns.items()}
    kinds = {n: _kind(c) for n, c in classes.items()}
    agents = frozenset(n for n, k in kinds.items() if k == AGENT)
    components, links, others, groups = {}, {}, {}, {}
    carried = _carriers(defns, classes, kinds, agents)
    for name, defn in defns.items():
        kind = kinds[name]
        gkind = group_kind(classes[name]) if kind is None else None
        if gkind is not None:
            groups[name] = _group(name, defn, classes[name], gkind,
                                  stack_defn, context, depth)
        if kind == COMPONENT:
            components[name] = _component(name, defn, classes[name], kinds,
                                          context)
        elif kind == LINK:
            links[name] = _link(name, defn, classes[name], context)
        else:
            reads = set(defn.required_resource_names())
            boots = carried[name] if _is_server(classes[name]) else set()
            others[name] = graph.Resource(
                name, reads=frozenset(reads - {
                    n for n in reads if kinds.get(n) in (COMPONENT, LINK)}),
                boots=frozenset(boots),
                reads_components=frozenset(
                    n for n in reads if kinds.get(n) == COMPONENT),
                type=defn.resource_type or '')
    # A consumer of a group resolves the group's size when it registers:
    # it depends in Heat on what the size refers to.
    for link in links.values():
        ref = link.source_ref
        group = groups.get(ref.group) if ref.kind == graph.model.GROUP \
            else None
        target = components.get(link.target)
        if group is not None and target is not None and group.size_reads:
            components[link.target] = dataclasses.replace(
                target, reads=target.reads | (group.size_reads - set(
                    components) - set(links)))
    return graph.StackModel(components=components, links=links,
                            resources=others, agents=agents, groups=groups)


def problems_text(result):
    """The sentence Heat shows for an Analysis's problems (or a list of
    Problems)."""
    problems = getattr(result, 'problems', result)
    lines = ['%d problem%s with the software components:' % (
        len(problems), '' if len(problems) == 1 else 's')]
    lines += ['- %s' % p.message for p in problems]
    return '\n'.join(lines)
