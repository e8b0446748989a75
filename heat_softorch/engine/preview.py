"""Component specs from a template, offline, for ``softorch plan``.

The same ``specs.component_spec()`` the engine registers, fed with the
properties Heat resolves without a stack: parameters, files and literals
are exact. What only exists once resources exist is not: a ``get_attr`` on
a server (its address) resolves to None here and a ``get_resource`` to the
resource's name instead of its id. Every such reference is reported per
definition field (and per input value), so that the plan can say which
differences it cannot decide.
"""

import types

from heat.engine import function
from heat.engine.hot import functions as hot_functions

from heat_softorch.engine import specs

# Where each definition field of a spec comes from in the properties.
FIELD_PROPERTIES = {'configs': 'configs', 'inputs': 'inputs',
                    'outputs': 'outputs', 'options': 'options',
                    'timeout': 'timeout'}


class PreviewError(Exception):
    """A component's properties cannot be resolved; a sentence."""


def _resolve(value):
    try:
        return function.resolve(value)
    except Exception:  # noqa: anything unresolvable is shown as '?'
        return '?'


class Ref(tuple):
    """(resource, attribute or None for get_resource, path tuple)."""

    def __new__(cls, resource, attribute=None, path=()):
        return tuple.__new__(cls, (resource, attribute, tuple(path)))

    @property
    def resource(self):
        return self[0]

    def __str__(self):
        if self[1] is None:
            return 'get_resource %s' % self[0]
        return '.'.join(str(p) for p in (self[0], self[1]) + self[2])


def references(snippet, components):
    """Every Ref in ``snippet`` to a resource that is not a component, in
    order, once each."""
    found = []

    def walk(node):
        if isinstance(node, hot_functions.GetAttThenSelect):
            name = _resolve(node._resource_name)
            if name not in components:
                path = _resolve(node._path_components) or []
                found.append(Ref(name, _resolve(node._attribute),
                                 path if isinstance(path, list) else []))
            return
        if isinstance(node, hot_functions.GetResource):
            name = _resolve(node.args)
            if name not in components:
                found.append(Ref(name))
            return
        if isinstance(node, function.Function):
            walk(node.args)
        elif isinstance(node, dict):
            for k in sorted(node, key=str):
                walk(k)
                walk(node[k])
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)
    walk(snippet)
    return list(dict.fromkeys(found))


def unresolved(defn, components):
    """{field or 'values.<input>': [Ref]} of a component's definition that
    cannot be resolved offline."""
    raw = dict(defn._properties or {})
    out = {}
    for field, prop in FIELD_PROPERTIES.items():
        refs = references(raw.get(prop), components)
        if refs:
            out[field] = refs
    values = raw.get('input_values')
    if isinstance(values, dict):
        for key, value in values.items():
            refs = references(value, components)
            if refs:
                out['values.%s' % key] = refs
    else:
        refs = references(values, components)
        if refs:
            out['values'] = refs
    return out


def with_live_data(stack_defn, live):
    """The StackDefinition again, with what the running stack knows of some
    resources: ``live`` is {resource: (reference id, {attribute or
    (attribute, *path): value})}, as Heat's convergence workers pass it."""
    from heat.engine import node_data
    from heat.engine import stk_defn
    data = {name: node_data.NodeData(None, name, None, ref, dict(attrs),
                                     'CREATE', 'COMPLETE')
            for name, (ref, attrs) in live.items()}
    defn = stk_defn.StackDefinition(stack_defn._context, stack_defn.t,
                                    None, data)
    return defn


def raw_resource(stack_defn, name):
    """A resource's snippet as written in the template, or None."""
    try:
        return stack_defn.t.t.get('resources', {}).get(name)
    except AttributeError:
        return None


def component_specs(stack_defn, analysis, stack_name):
    """{component: (spec, unresolved)} for every component of a template
    that passed the pre-processor's checks. ``stack_defn`` may carry live
    data (with_live_data): the references it resolves are still listed."""
    from heat_softorch.engine.resources import software_component
    schema = software_component.SoftwareComponent.properties_schema
    context = getattr(stack_defn, '_context', None)
    model = analysis.model
    hosts = {n: c.agent for n, c in model.components.items()}
    servers = {a: sorted(analysis.servers_of(a))[0]
               for a in model.agents if analysis.servers_of(a)}
    stack = types.SimpleNamespace(name=stack_name)
    across = _across(stack_defn, analysis, context)
    out = {}
    for name in sorted(model.components):
        defn = stack_defn.resource_definition(name)
        try:
            props = defn.properties(schema, context)
            spec = specs.component_spec(name, props, analysis, hosts,
                                        servers, stack, across=across)
        except Exception as exc:  # noqa: Heat's errors are sentences
            raise PreviewError('component %s: %s' % (name, str(exc).strip()
                                                     or type(exc).__name__))
        out[name] = (spec, unresolved(defn, set(model.components)))
    return out


def _across(stack_defn, analysis, context):
    """specs.Across offline: paths under a stand-in root (what a spec's
    digest covers never names a path), each group's size as Heat would
    resolve it from this template, and a parent for a member template."""
    from heat_softorch.engine import family
    from heat_softorch.fabric import paths as zpaths
    return specs.Across(
        zpaths.StackPaths('/offline', 'stack'),
        parent_paths=zpaths.StackPaths('/offline', 'parent'),
        expect={g: family.group_size(stack_defn, analysis, g, context)
                for g in analysis.consumers})
