"""Links across the stacks of one root: a group's members and their parent.

A member template reads a component of its parent stack with
``from: ../<component>``; the parent reads a component in every member of
a group with ``from: <group>/<component>``. The parent's model carries each
group's member template as a model of its own (``Group.member``), so the
parent's analysis checks both directions before anything is created: a
link to a component the other stack does not have, to an output it does
not declare, and a cycle that runs through a group. A member stack that
Heat creates later checks its ``../`` links again against the parent it
really has (``parent_links``), and a member template validated on its own
cannot know its parent and checks nothing across stacks.

Messages name the member template and the link at fault: the member
template is a file of its own, and the line to change is there.
"""

import networkx as nx

from heat_softorch.graph import checks
from heat_softorch.graph import dag as dag_mod
from heat_softorch.graph import model as model_mod
from heat_softorch.graph import problems as p

GROUP_KINDS_TEXT = ('an %s, an %s or a nested stack resource (type: '
                    '<template>)' % (model_mod.RESOURCE_GROUP,
                                     model_mod.AUTOSCALING_GROUP))


def member_label(group):
    return "%s (the members of '%s')" % (group.template_label, group.name)


def group_links(model):
    """``from: <group>/<component>``: the group exists, its member template
    has the component, and it declares what the map reads."""
    for name in sorted(model.links):
        link = model.links[name]
        ref = link.source_ref
        if ref.kind != model_mod.GROUP:
            continue
        group = model.groups.get(ref.group)
        if group is None:
            yield p.Problem(name, "ComponentLink '%s': 'from' names '%s', "
                            "but %s. %s" % (
                                name, ref, _not_a_group(model, ref.group),
                                'from: <group>/<component> reads a '
                                'component in every member of %s of this '
                                'stack.' % GROUP_KINDS_TEXT))
            continue
        member = group.member
        if member is None:
            continue  # its template cannot be read here: Heat will say
        comp = member.components.get(ref.component)
        if comp is None:
            yield p.Problem(name, (
                "ComponentLink '%s': 'from' names '%s', but %s has no "
                "component '%s' (components: %s). %s"
                % (name, ref, member_label(group), ref.component,
                   p.listing(member.components),
                   p.suggestion(ref.component, member.components,
                                'Name a component of the member '
                                'template.'))))
            continue
        if not comp.outputs_known:
            continue
        for problem in _undeclared(name, link, comp,
                                   'in %s' % group.template_label):
            yield problem


def _undeclared(name, link, comp, owner, where=''):
    """A Problem for each output ``link`` maps that ``comp`` (the
    component it names, ``owner`` saying in which stack) lacks."""
    ref = link.source_ref
    for target_input, output in sorted(link.mapping.items()):
        if output not in comp.outputs:
            yield p.Problem(name, (
                "%sComponentLink '%s': map reads output '%s' of '%s', "
                "which '%s' %s does not declare (declared: %s). %s"
                % (where, name, output, ref, ref.component, owner,
                   p.listing(comp.outputs),
                   p.suggestion(output, comp.outputs,
                                "Declare it in the outputs of '%s'."
                                % ref.component))))


def _not_a_group(model, name):
    if name in model.components:
        return "'%s' is an %s" % (name, checks.COMPONENT_TYPE)
    res = model.resources.get(name)
    if res is not None:
        return "'%s' is %s, not a group" % (
            name, 'an %s' % res.type if res.type else 'not a group')
    close = p.suggestion(name, model.groups, '')
    return "this stack has no resource '%s'%s" % (
        name, (' (%s)' % close) if close else '')


def parent_links(child, parent, where='', parent_label='the parent stack'):
    """``from: ../<component>`` in ``child`` against ``parent`` (a
    StackModel; None when ``child`` is known to have no parent).
    ``where`` starts each message (which member template)."""
    for name in sorted(child.links):
        link = child.links[name]
        ref = link.source_ref
        if ref.kind != model_mod.PARENT:
            continue
        if parent is None:
            yield p.Problem(name, (
                "%sComponentLink '%s': 'from' names '%s', but this stack is "
                "not a member of a group or nested stack: ../<component> "
                "reads a component of the stack that holds this one."
                % (where, name, ref)))
            continue
        comp = parent.components.get(ref.component)
        if comp is None:
            yield p.Problem(name, (
                "%sComponentLink '%s': 'from' names '%s', but %s has no "
                "component '%s' (components: %s). %s"
                % (where, name, ref, parent_label, ref.component,
                   p.listing(parent.components),
                   p.suggestion(ref.component, parent.components,
                                'Name a component of the parent stack.'))))
            continue
        for problem in _undeclared(name, link, comp,
                                   'of %s' % parent_label, where):
            yield problem


def member_links(model):
    """Every group's member template against this stack, its parent."""
    for group_name in sorted(model.groups):
        group = model.groups[group_name]
        if group.member is None:
            continue
        for problem in parent_links(group.member, model,
                                    member_label(group) + ': '):
            yield p.Problem(group_name, problem.message)


class GroupNode(tuple):
    """(group, component): a component in every member of a group, as a
    node of the parent's graph."""

    def __str__(self):
        return '%s/%s' % self


def graph_across(model, graph):
    """This stack's component DAG with a node per component of each
    group's member template (``GroupNode``), the member templates' own
    edges, their ``../`` links and this stack's ``<group>/`` links. Edge
    attributes: ``via``, sentences saying where each edge is written;
    ``carries``, its (input, output) pairs."""
    across = nx.DiGraph()
    across.add_nodes_from(graph.nodes)
    for u, v, data in graph.edges(data=True):
        across.add_edge(u, v, via={checks._via_text(x) for x in data['via']},
                        carries=set(data['carries']))

    def add(u, v, via, carries=()):
        if not across.has_edge(u, v):
            across.add_edge(u, v, via=set(), carries=set())
        across.edges[u, v]['via'].add(via)
        across.edges[u, v]['carries'].update(carries)

    for group_name in sorted(model.groups):
        group = model.groups[group_name]
        member = group.member
        if member is None:
            continue
        inner = dag_mod.build(member)
        for u, v, data in inner.edges(data=True):
            for x in data['via']:
                add(GroupNode((group_name, u)), GroupNode((group_name, v)),
                    '%s in %s' % (checks._via_text(x), group.template_label),
                    data['carries'])
        for name in sorted(member.links):
            link = member.links[name]
            ref, target = link.source_ref, link.target_ref
            if ref.kind == model_mod.PARENT and \
                    ref.component in model.components and \
                    target.kind == model_mod.LOCAL and \
                    target.component in member.components:
                add(ref.component, GroupNode((group_name, target.component)),
                    "ComponentLink '%s' in %s" % (name,
                                                  group.template_label),
                    link.mapping.items())
    for name in sorted(model.links):
        link = model.links[name]
        ref, target = link.source_ref, link.target_ref
        group = model.groups.get(ref.group) if ref.kind == \
            model_mod.GROUP else None
        if group is not None and group.member is not None and \
                ref.component in group.member.components and \
                target.kind == model_mod.LOCAL and \
                target.component in model.components:
            add(GroupNode((ref.group, ref.component)), target.component,
                "ComponentLink '%s'" % name, link.mapping.items())
    return across


def group_cycles(model, graph):
    """Cycles that run through a group: this stack's components and the
    members' components must form a DAG together, or each would wait for
    the other. Cycles within one stack are reported by that stack's own
    check."""
    if not model.groups:
        return
    across = graph_across(model, graph)
    for members, path in dag_mod.cycles(across):
        groups = sorted({n[0] for n in members if isinstance(n, GroupNode)})
        if not groups or all(isinstance(n, GroupNode) for n in members):
            continue
        edges = ['%s -> %s (%s)' % (u, v, ', '.join(sorted(
            across.edges[u, v]['via']))) for u, v in zip(path, path[1:])]
        templates = sorted({model.groups[g].template_label for g in groups})
        yield p.Problem(str(members[0]), (
            'Components %s form a cycle through %s %s (members from %s): '
            '%s. Software components must form a DAG across stacks too; '
            'remove one of these edges: %s.'
            % (', '.join(str(m) for m in members),
               'group' if len(groups) == 1 else 'groups',
               ', '.join("'%s'" % g for g in groups),
               ', '.join(templates), p.path_text(path), '; '.join(edges))))
