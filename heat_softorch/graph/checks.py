"""Checks on the component graph and on what each definition declares.

Each check is a generator of Problems over the whole stack: nothing stops
at the first error, so a template author sees everything to fix at once.
The checks only read the model and the DAG; the Heat-level ordering checks
live in ``heatgraph``.
"""

import difflib

from heat_softorch.graph import dag as dag_mod
from heat_softorch.graph import model as model_mod
from heat_softorch.graph import names as names_mod
from heat_softorch.graph import problems as p

COMPONENT_TYPE = 'OS::SoftOrch::SoftwareComponent'
AGENT_TYPE = 'OS::SoftOrch::Agent'
LINK_TYPE = 'OS::SoftOrch::ComponentLink'


def _via_text(via):
    if via == dag_mod.GET_ATTR:
        return 'get_attr in input_values'
    if via == dag_mod.DEPENDS_ON:
        return 'depends_on'
    return "ComponentLink '%s'" % via[len(dag_mod.LINK):]


def _edge_text(graph, upstream, downstream):
    vias = sorted(graph.edges[upstream, downstream]['via'])
    return '%s -> %s (%s)' % (upstream, downstream,
                              ', '.join(_via_text(v) for v in vias))


def cycles(graph, parts):
    """Check 1: components must form a DAG.

    ``parts`` is ``dag.cycles(graph)``. One problem per cyclic part,
    naming every component on it and one concrete cycle, with where each
    of its edges comes from: that is the line of the template to change.
    """
    for members, path in parts:
        edges = [_edge_text(graph, u, v) for u, v in zip(path, path[1:])]
        if len(members) == 1:
            yield p.Problem(members[0], (
                "Component '%s' depends on itself (%s): software "
                "components must form a DAG; remove that edge."
                % (members[0], edges[0])))
            continue
        yield p.Problem(members[0], (
            'Components %s form a cycle (%s): software components must '
            'form a DAG; remove one of these edges: %s.'
            % (', '.join(members), p.path_text(path), '; '.join(edges))))


def inputs(model):
    """Checks 2 and 3 for input_values: inputs and outputs are declared.

    Also refuses wires to names that are not components, which the engine
    should never produce; reporting beats a KeyError further down.
    """
    components = model.components
    for name in sorted(components):
        comp = components[name]
        declared = comp.inputs
        for value in comp.values:
            if value not in declared:
                yield _undeclared_input(comp, value)
        for wire in comp.wires:
            if wire.input not in declared:
                yield _undeclared_input(comp, wire.input)
            upstream = components.get(wire.upstream)
            if upstream is None:
                yield p.Problem(name, (
                    "Component '%s': input '%s' reads '%s', which is not "
                    "an %s in this stack."
                    % (name, wire.input, wire.upstream, COMPONENT_TYPE)))
            elif wire.output not in upstream.outputs:
                yield p.Problem(name, (
                    "Component '%s': input '%s' reads %s.%s, but '%s' "
                    "declares no output '%s' (declared: %s). %s"
                    % (name, wire.input, wire.upstream, wire.output,
                       wire.upstream, wire.output,
                       p.listing(upstream.outputs),
                       p.suggestion(wire.output, upstream.outputs,
                                    "Declare it in the outputs of '%s' "
                                    "or read another one."
                                    % wire.upstream))))
        for upstream in comp.after:
            if upstream not in components:
                yield p.Problem(name, (
                    "Component '%s': depends_on names '%s' as a component, "
                    "but it is not an %s in this stack."
                    % (name, upstream, COMPONENT_TYPE)))


def _undeclared_input(comp, input_name):
    return p.Problem(comp.name, (
        "Component '%s': input_values sets '%s', which is not a declared "
        "input (declared: %s). %s"
        % (comp.name, input_name, p.listing(comp.inputs),
           p.suggestion(input_name, comp.inputs,
                        'Declare it in inputs or remove it.'))))


def links(model):
    """Checks 2, 3 and 5 for ComponentLinks: ends exist, map is declared.

    Ends in other stacks (``../db``, ``app_tier/app``) are checked by
    ``graph.stacks``; here they only have to be written in a form that
    names one.
    """
    components = model.components
    for name in sorted(model.links):
        link = model.links[name]
        ends = []
        for prop, end in (('from', link.source_ref), ('to', link.target_ref)):
            comp = components.get(end.component) if end.kind == \
                model_mod.LOCAL else None
            ends.append(comp)
            if end.kind == model_mod.BAD:
                yield p.Problem(name, (
                    "ComponentLink '%s': '%s' is '%s', which names no "
                    "component: write <component> for one of this stack, "
                    "../<component> for one of the parent stack, or "
                    "<group>/<component> for one in every member of a group "
                    "of this stack." % (name, prop, end)))
            elif end.remote and prop == 'to':
                yield p.Problem(name, (
                    "ComponentLink '%s': 'to' names '%s' in another stack; "
                    "a link belongs to the stack of the component it feeds. "
                    "Write the link there, with 'from' reading across "
                    "stacks (from: ../<component> in a member template, "
                    "from: <group>/<component> in its parent)."
                    % (name, end)))
            elif end.kind == model_mod.LOCAL and comp is None:
                yield p.Problem(name, (
                    "ComponentLink '%s': '%s' names '%s', which is not an "
                    "%s in this stack. %s"
                    % (name, prop, end, COMPONENT_TYPE,
                       p.suggestion(str(end), components,
                                    'Name a component of this stack.'))))
        source, target = ends
        for target_input, source_output in sorted(link.mapping.items()):
            if target is not None and target_input not in target.inputs:
                yield p.Problem(name, (
                    "ComponentLink '%s': map sets input '%s' of '%s', "
                    "which it does not declare (declared: %s). %s"
                    % (name, target_input, target.name,
                       p.listing(target.inputs),
                       p.suggestion(target_input, target.inputs,
                                    "Declare it in the inputs of '%s'."
                                    % target.name))))
            if source is not None and source_output not in source.outputs:
                yield p.Problem(name, (
                    "ComponentLink '%s': map reads output '%s' of '%s', "
                    "which it does not declare (declared: %s). %s"
                    % (name, source_output, source.name,
                       p.listing(source.outputs),
                       p.suggestion(source_output, source.outputs,
                                    "Declare it in the outputs of '%s'."
                                    % source.name))))
        if link.collect not in model_mod.COLLECTS:
            yield p.Problem(name, (
                "ComponentLink '%s': collect is '%s'; write list (a JSON "
                "list ordered by member name) or map (by member name)."
                % (name, link.collect)))
        elif link.collect != model_mod.COLLECT_LIST and \
                link.source_ref.kind != model_mod.GROUP:
            yield p.Problem(name, (
                "ComponentLink '%s': collect: %s gathers the members of a "
                "group, but 'from' names '%s', one component; remove "
                "collect or read <group>/<component>."
                % (name, link.collect, link.source)))


def input_sources(model):
    """An input gets its value from one place only.

    input_values and a link map (or two link maps) setting the same input
    would leave the value to whichever the agent happened to read last.
    """
    setters = {}
    for name in sorted(model.links):
        link = model.links[name]
        for target_input in link.mapping:
            key = (link.target, target_input)
            setters.setdefault(key, []).append("ComponentLink '%s'" % name)
    for (target, target_input), found in sorted(setters.items()):
        comp = model.components.get(target)
        if comp is None:
            continue
        if (target_input in comp.values or
                any(w.input == target_input for w in comp.wires)):
            found = ['input_values'] + found
        if len(found) > 1:
            yield p.Problem(target, (
                "Component '%s': input '%s' is set by both %s; set it in "
                "one place."
                % (target, target_input,
                   ', '.join(found[:-1]) + ' and ' + found[-1])))


def agents(model, servers):
    """Check 4: every component names an existing agent.

    The message shows the value given and the line to write instead,
    naming the agent that was most likely meant: the one a server named
    by mistake boots, a close spelling, or the stack's only agent.
    """
    boots = {}
    for agent, by in servers.items():
        for server in by:
            boots.setdefault(server, set()).add(agent)
    for name in sorted(model.components):
        comp = model.components[name]
        if comp.agent in model.agents:
            continue
        what, meant = _agent_fault(model, comp, boots)
        yield p.Problem(name, "Component '%s': agent %s. Write agent: %s." % (
            name, what, _agent_choice(model, meant)))


def _agent_fault(model, comp, boots):
    """(what is wrong with a component's agent, the name likely meant)."""
    given = comp.agent_given
    if given is None and comp.agent is not None:
        given = {'get_resource': comp.agent}  # a model built without it
    if given is None:
        return 'is missing', None
    if comp.agent is None:
        return _agent_not_literal(given)
    booted = boots.get(comp.agent, ())
    return ('is %s, but %s' % (p.written(given),
                               _not_an_agent(model, comp.agent)),
            next(iter(booted)) if len(booted) == 1 else comp.agent)


def _agent_not_literal(given):
    """(what is wrong, the name meant) for an agent that is not written
    as {get_resource: <name>}."""
    if isinstance(given, str):
        return ('is %s, a plain string, which Heat does not read as a '
                'resource' % p.written(given)), given
    return ('is %s, not a literal get_resource: the VM a component runs '
            'on is read from the template before Heat resolves anything'
            % p.written(given)), None


def _not_an_agent(model, agent):
    if agent in model.components:
        kind = COMPONENT_TYPE
    elif agent in model.links:
        kind = LINK_TYPE
    elif agent in model.resources:
        kind = model.resources[agent].type
    else:
        return "there is no resource '%s' in this stack" % agent
    if kind:
        return "'%s' is an %s, not an %s" % (agent, kind, AGENT_TYPE)
    return "'%s' is not an %s" % (agent, AGENT_TYPE)


def _agent_choice(model, hint):
    """``{get_resource: <the agent meant>}``, or the choices there are."""
    agents = sorted(model.agents)
    if hint in model.agents:
        return '{get_resource: %s}' % hint
    if hint is not None:
        close = difflib.get_close_matches(hint, agents, n=1)
        if close:
            return '{get_resource: %s}' % close[0]
    if len(agents) == 1:
        return '{get_resource: %s}' % agents[0]
    if agents:
        return '{get_resource: <agent>}, naming one of %s' % p.listing(
            agents)
    return ('{get_resource: <agent>}, naming an %s resource (this stack '
            'has none yet)' % AGENT_TYPE)


def names(model):
    """Input and output names the scripts can use (see ``graph.names``).

    Inputs become environment variables of the script, outputs the tails
    of file names; a bad name breaks the script or is silently ignored.
    """
    for name in sorted(model.components):
        comp = model.components[name]
        for value in comp.inputs:
            fault = names_mod.input_fault(value)
            if fault:
                yield _bad_name(comp, 'input', value, fault,
                                names_mod.input_fault,
                                'in inputs and where its value is set')
        for value in comp.outputs:
            fault = names_mod.output_fault(value)
            if fault:
                yield _bad_name(comp, 'output', value, fault,
                                names_mod.output_fault,
                                'in outputs, in the script and where it '
                                'is read')


def _bad_name(comp, kind, value, fault, fault_of, where):
    instead = names_mod.alternative(value, fault_of, comp.name)
    if instead:
        fix = "Write '%s' instead, %s." % (instead, where)
    else:
        fix = 'Give it a name: %s.' % names_mod.IDENTIFIER_TEXT
    return p.Problem(comp.name, "Component '%s': %s name %s %s. %s" % (
        comp.name, kind, p.written(value), fault, fix))


def configs(model):
    """One config per action: with two, which one runs is arbitrary.

    One problem per set of configs sharing actions, so that two configs
    both listing CREATE and UPDATE read as one mistake.
    """
    for name in sorted(model.components):
        where = {}
        for index, actions in enumerate(
                model.components[name].config_actions):
            for action in actions:
                where.setdefault(action, []).append(index)
        shared = {}
        for action, found in where.items():
            if len(found) > 1:
                shared.setdefault(tuple(sorted(set(found))), []).append(
                    action)
        for found, actions in sorted(shared.items()):
            yield _shared_actions(name, found, actions)


def _shared_actions(name, found, actions):
    what = _and(actions)
    word = 'action' if len(actions) == 1 else 'actions'
    if len(found) == 1:
        return p.Problem(name, (
            "Component '%s': configs[%d] lists %s %s more than once; list "
            "each action once." % (name, found[0], word, what)))
    return p.Problem(name, (
        "Component '%s': %s %s run for %s %s; give each action one config: "
        "keep %s in the actions of only one of them."
        % (name, _and(['configs[%d]' % i for i in found]),
           'both' if len(found) == 2 else 'all', word, what, what)))


def _and(items):
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if len(items) == 1:
        return items[0]
    return '%s and %s' % (', '.join(items[:-1]), items[-1])


def nested(model):
    """Check 7: components are referenced only as whole input values.

    Heat would resolve a nested get_attr before the upstream component has
    run; the value would be stale or empty. The message shows the way that
    works, using the upstream's own output names where it can.
    """
    components = model.components
    for name in sorted(components):
        for ref in components[name].nested:
            upstream = components.get(ref.upstream)
            outputs = sorted(upstream.outputs) if upstream else []
            example = outputs[0] if outputs else '%s_value' % ref.upstream
            output = outputs[0] if len(outputs) == 1 else '<output>'
            yield p.Problem(name, (
                "Component '%s': %s uses get_attr on component '%s' inside "
                "another function; components pass values only as a whole "
                "input value. Declare an input (e.g. %s), set input_values: "
                "{%s: {get_attr: [%s, %s]}} and build the string in the "
                "config script."
                % (name, ref.where, ref.upstream, example, example,
                   ref.upstream, output)))


def shared_agents(model, servers):
    """One agent serves one VM (v1).

    Two servers booting the same agent would share one identity and one
    credential, and race for the same components.
    """
    for agent in sorted(servers):
        booted_by = servers[agent]
        if len(booted_by) > 1:
            yield p.Problem(agent, (
                "Agent '%s' is booted by more than one server (%s): one "
                "agent serves one VM; give each server its own %s."
                % (agent, p.listing(booted_by), AGENT_TYPE)))
