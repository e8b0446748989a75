"""Component specs, as registered in ZooKeeper, from resolved definitions.

A spec holds the values Heat resolved (parameters, files, attributes of
non-component resources) and, for each wire, where the upstream's
publication lives. Values that travel between components are never
resolved here: they are read by the agents.
"""

from heat.common import exception

SPEC_CONFIG_KEYS = ('tool', 'config', 'options')


class SpecError(exception.Error):
    pass


def _configs(configs):
    by_action = {}
    for entry in configs or ():
        body = {'tool': entry.get('tool') or 'script',
                'config': entry.get('config') or '',
                'options': entry.get('options') or {}}
        for action in entry.get('actions') or ():
            by_action[action] = body
    return by_action


def component_spec(name, props, analysis, hosts, servers, stack,
                   agent_host=None):
    """The spec of component ``name`` from its resolved Properties.

    ``hosts`` maps the names of already-built upstream specs to their
    hosts; ``servers`` maps agent resource names to the server booting
    them (for messages); ``agent_host(agent)`` gives the host of an agent
    whose data Heat did not give this worker (Analysis.
    create_dependencies), or None.
    """
    agent = analysis.model.components[name].agent
    host = props['agent']
    if host == agent and agent_host is not None:
        # get_resource of a resource without data gives its name.
        host = agent_host(agent)
    if not host:
        raise SpecError('component %s: its agent has no identity yet'
                        % name)
    declared = props['inputs'] or []
    given = dict(props['input_values'] or {})
    wiring = [{'input': i, 'component': u, 'output': o}
              for i, u, o in analysis.wires_into(name)]
    wired = {w['input'] for w in wiring if w['input']}
    values = {}
    for decl in declared:
        if decl['name'] in wired:
            continue
        if decl['name'] in given:
            values[decl['name']] = given[decl['name']]
        elif decl.get('default') is not None:
            values[decl['name']] = decl['default']
    wires = []
    for w in wiring:
        up_agent = analysis.model.components[w['component']].agent
        wires.append(dict(w, host=hosts[w['component']],
                          server=servers.get(up_agent)))
    return {
        'name': name, 'host': host, 'server': servers.get(agent),
        'stack_name': stack.name,
        'configs': _configs(props['configs']),
        'inputs': [{'name': d['name'], 'type': d.get('type') or 'String',
                    'hidden': bool(d.get('hidden'))} for d in declared],
        'values': values,
        'outputs': [{'name': o['name'],
                     'error_output': bool(o.get('error_output'))}
                    for o in props['outputs'] or []],
        'options': props['options'] or {},
        'timeout': props['timeout'],
        'wiring': wiring,
        'wires': wires,
    }


def manifest(analysis, stack, epoch, action):
    """The stack-level record: the component graph by resource names, for
    the operator's views."""
    model = analysis.model
    return {
        'stack_id': stack.id, 'stack_name': stack.name, 'epoch': epoch,
        'action': action,
        'components': {
            n: {'agent': c.agent,
                'servers': sorted(analysis.servers_of(c.agent))
                if c.agent else [],
                'upstream': [list(w) for w in analysis.wires_into(n)]}
            for n, c in model.components.items()},
        'agents': sorted(model.agents),
    }
