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


class Across(object):
    """What a spec needs to read across stacks (see fabric/family.py):
    ``paths``, this stack's StackPaths; ``parent_paths`` the parent's
    (None when this stack is not a member); ``parent_epoch`` the epoch of
    the parent's Heat operation in progress (None when it has none: a
    member made by a scaling signal reads the parent's latest
    publications); ``expect`` {group: size, as Heat resolves it};
    ``member`` {group, name, stack, stack_name} when this stack is a
    member of a group of its parent; ``parent_state`` the parent's
    family.State; ``deferred`` {(component, upstream of the parent)} the
    wires whose upstream the parent has not registered yet."""

    def __init__(self, paths, parent_paths=None, parent_epoch=None,
                 expect=None, member=None):
        self.paths = paths
        self.parent_paths = parent_paths
        self.parent_epoch = parent_epoch
        self.expect = expect or {}
        self.member = member
        self.parent_state = None
        self.deferred = set()


def _remote(name, analysis, across):
    """(wiring entries, remote wires, group wires) of ``name``'s links to
    other stacks."""
    wiring, remote, groups = [], [], []
    for r in analysis.remote_wires_into(name):
        if r['kind'] == 'parent':
            wiring.append({'input': r['input'], 'component': '../' +
                           r['component'], 'output': r['output']})
            if across is None or across.parent_paths is None:
                raise SpecError(
                    "component %s reads ../%s (ComponentLink %s), but its "
                    "stack is not a member of a group or nested stack"
                    % (name, r['component'], r['link']))
            remote.append({
                'input': r['input'], 'component': r['component'],
                'output': r['output'], 'link': r['link'],
                'stack': across.parent_paths.stack_id,
                'export': across.parent_paths.export(r['component']),
                # Set by the engine when the upstream is registered in the
                # parent's operation and has yet to publish in it: the
                # finishing time of its publication to wait past.
                'after': None})
        else:
            wiring.append({'input': r['input'], 'component': '%s/%s' % (
                r['group'], r['component']), 'output': r['output'],
                'collect': r['collect']})
            groups.append({
                'input': r['input'], 'group': r['group'],
                'component': r['component'], 'output': r['output'],
                'collect': r['collect'], 'link': r['link'],
                'members': across.paths.members(r['group'], r['component']),
                'expect': across.expect.get(r['group'])})
    return wiring, remote, groups


def component_spec(name, props, analysis, hosts, servers, stack,
                   agent_host=None, across=None):
    """The spec of component ``name`` from its resolved Properties.

    ``hosts`` maps the names of already-built upstream specs to their
    hosts; ``servers`` maps agent resource names to the server booting
    them (for messages); ``agent_host(agent)`` gives the host of an agent
    whose data Heat did not give this worker (Analysis.
    create_dependencies), or None. ``across`` (Across) is needed by a
    component with links to other stacks, and names a member's group.
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
    local = [{'input': i, 'component': u, 'output': o}
             for i, u, o in analysis.wires_into(name)]
    remote_wiring, remote, groups = _remote(name, analysis, across)
    wiring = local + remote_wiring
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
    for w in local:
        up_agent = analysis.model.components[w['component']].agent
        wires.append(dict(w, host=hosts[w['component']],
                          server=servers.get(up_agent)))
    extra = {}
    if remote:
        extra['remote'] = remote
    if groups:
        extra['groups'] = groups
    if across is not None and across.member:
        extra['member'] = across.member
    return dict(extra, **{
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
    })


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
                'upstream': [list(w) for w in analysis.wires_into(n)] + [
                    [r['input'], '../' + r['component'] if r['kind'] ==
                     'parent' else '%s/%s' % (r['group'], r['component']),
                     r['output']] for r in analysis.remote_wires_into(n)]}
            for n, c in model.components.items()},
        'agents': sorted(model.agents),
        'groups': {
            g: {'kind': info.kind, 'template': info.template_label,
                'components': sorted(info.member.components)
                if info.member else [],
                'consumers': {c: [list(x) for x in found] for c, found in
                              analysis.consumers.get(g, {}).items()}}
            for g, info in model.groups.items()},
    }
