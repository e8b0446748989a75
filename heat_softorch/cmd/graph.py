"""``softorch graph TEMPLATE | --stack NAME``: the component DAG as a picture.

Components are grouped by the agent (VM) that runs them, each group
labelled with its agent and server; edges are labelled with what they carry
(``db_url ← db.db_url``), ordering-only edges are dashed. With ``--stack``
the graph comes from the stack's manifest in ZooKeeper and every component
is coloured by its live state.

Formats: ``dot`` (Graphviz source), ``svg`` and ``png`` (rendered by
Graphviz's ``dot`` program through the ``graphviz`` package) and
``mermaid`` (a flowchart for Markdown). Without ``--format`` the format is
taken from ``-o``'s extension, else ``dot``.
"""

import os
import sys

FORMATS = ('dot', 'svg', 'png', 'mermaid')
BINARY = ('png',)

# Fill and border per state, shared by graph --stack and timeline.
STATE_COLOURS = {
    'COMPLETE': ('#b2f2bb', '#2b8a3e'),
    'RUNNING': ('#ffec99', '#e67700'),
    'WAITING': ('#a5d8ff', '#1864ab'),
    'PENDING': ('#e9ecef', '#868e96'),
    'FAILED': ('#ffa8a8', '#c92a2a'),
    'ABANDONED': ('#ced4da', '#c92a2a'),
    'REMOVED': ('#ffffff', '#adb5bd'),
}


def add_parser(subparsers):
    from heat_softorch.cmd import access
    from heat_softorch.cmd import validate
    p = subparsers.add_parser(
        'graph', help='draw the component DAG of a template or a live stack',
        description=__doc__.split('\n\n')[1])
    p.add_argument('template', nargs='?', help='HOT template file')
    p.add_argument('--stack', metavar='NAME',
                   help='draw a running stack, coloured by live state')
    validate.add_template_args(p)
    p.add_argument('--format', choices=FORMATS,
                   help='output format (default: from -o, else dot)')
    p.add_argument('-o', '--output', metavar='FILE',
                   help='write here (default: standard output)')
    access.add_zookeeper_args(p)
    p.set_defaults(func=main)


# -- the picture as plain data ------------------------------------------------

def _edge_label(upstream, carries):
    return '\n'.join('%s \u2190 %s.%s' % (i, upstream, o) for i, o in carries)


def picture_from_analysis(analysis, title):
    """{'title', 'groups', 'nodes', 'edges'} of an offline Analysis."""
    model = analysis.model
    agents = sorted(set(model.agents) | {
        c.agent for c in model.components.values() if c.agent})
    groups = []
    for agent in agents:
        groups.append({'agent': agent,
                       'servers': sorted(analysis.servers_of(agent)),
                       'host': None, 'alive': None,
                       'components': analysis.components_on(agent)})
    loose = sorted(n for n, c in model.components.items()
                   if c.agent not in agents)
    if loose:
        groups.append({'agent': None, 'servers': [], 'host': None,
                       'alive': None, 'components': loose})
    nodes = {n: {'state': None, 'detail': None} for n in model.components}
    edges = []
    for u, v, data in sorted(analysis.dag.edges(data=True)):
        carries = [tuple(c) for c in data.get('carries') or ()]
        edges.append({'from': u, 'to': v, 'carries': carries,
                      'ordering': not carries})
    if model.groups:
        _add_group_templates(analysis, groups, nodes, edges)
    return {'title': title, 'groups': groups, 'nodes': nodes,
            'edges': edges}


def _add_group_templates(analysis, groups, nodes, edges):
    """A template's groups: a cluster per group with its member template's
    components (``<group>/<component>``, in every member), and the links
    across stacks."""
    from heat_softorch.graph import stacks
    model = analysis.model
    for name in sorted(model.groups):
        info = model.groups[name]
        members = sorted(info.member.components) if info.member else []
        groups.append({'agent': None, 'servers': [], 'host': None,
                       'alive': None, 'label': 'group %s: %s of %s' % (
                           name, info.kind, info.template_label),
                       'components': ['%s/%s' % (name, c)
                                      for c in members]})
        for c in members:
            nodes['%s/%s' % (name, c)] = {'state': None,
                                          'detail': 'in every member'}
    across = stacks.graph_across(model, analysis.dag)
    for u, v, data in sorted(across.edges(data=True), key=lambda e: (
            str(e[0]), str(e[1]))):
        if not isinstance(u, stacks.GroupNode) and \
                not isinstance(v, stacks.GroupNode):
            continue
        carries = sorted(tuple(c) for c in data.get('carries') or ())
        edges.append({'from': str(u), 'to': str(v), 'carries': carries,
                      'ordering': not carries})


def picture_from_view(view, title):
    """The same from a live stack: the manifest's graph, the hosts'
    liveness and each component's state."""
    from heat_softorch.fabric import view as view_mod
    manifest = view['manifest'] or {}
    mcomps = manifest.get('components') or {}
    live = view_mod.current_components(view)
    hosts_by_agent = {}
    for h in view['hosts']:
        hosts_by_agent.setdefault(h['agent'], []).append(h)
    names = set(mcomps) | set(live)
    agent_of = {n: (mcomps.get(n) or {}).get('agent') or
                (live.get(n) or {}).get('agent') for n in names}
    groups = []
    for agent in sorted({a for a in agent_of.values() if a} |
                        set(manifest.get('agents') or ())):
        hosts = hosts_by_agent.get(agent) or []
        servers = sorted({s for n, c in mcomps.items()
                          if c.get('agent') == agent
                          for s in c.get('servers') or ()} |
                         {h['server'] for h in hosts if h.get('server')})
        groups.append({
            'agent': agent, 'servers': servers,
            'host': hosts[0]['host'] if hosts else None,
            'alive': any(h['alive'] for h in hosts) if hosts else None,
            'components': sorted(n for n in names if agent_of[n] == agent)})
    loose = sorted(n for n in names if not agent_of[n])
    if loose:
        groups.append({'agent': None, 'servers': [], 'host': None,
                       'alive': None, 'components': loose})
    nodes = {}
    for n in names:
        comp = live.get(n)
        if comp is None:
            nodes[n] = {'state': 'PENDING', 'detail': 'not registered'}
            continue
        state = view_mod.effective_state(comp)
        gen = (comp.get('spec') or {}).get('generation')
        nodes[n] = {'state': state,
                    'detail': 'gen %s' % gen if gen is not None else None}
    edges = {}
    for n in sorted(mcomps):
        for inp, up, out in mcomps[n].get('upstream') or ():
            e = edges.setdefault((up, n), {'from': up, 'to': n,
                                           'carries': [], 'ordering': False})
            if inp is None:
                e['ordering'] = True
            else:
                e['carries'].append((inp, out))
    for e in edges.values():
        e['carries'].sort()
        e['ordering'] = not e['carries']
    edges = [edges[k] for k in sorted(edges)]
    # Upstreams across stacks are drawn from the rosters, member by member.
    edges = [e for e in edges if e['from'] in nodes]
    _add_live_groups(view, groups, nodes, edges, mcomps)
    return {'title': title, 'groups': groups, 'nodes': nodes,
            'edges': edges}


def _add_live_groups(view, groups, nodes, edges, mcomps):
    """The stack's groups as their rosters list them: a cluster per group
    and component, a node per member coloured by its component's state,
    edges to the components reading the group and from the ones each
    member reads through an export."""
    from heat_softorch.cmd import status
    rows = status.group_rows(view)
    by_group = {}
    for m in rows:
        by_group.setdefault((m['group'], m['component']), []).append(m)
    for (group, comp), members in sorted(by_group.items()):
        ids = []
        for m in members:
            node = '%s/%s/%s' % (group, m['member'], comp)
            ids.append(node)
            detail = 'member %s%s' % (m['member'], ', leaving' if
                                      m['membership'] == 'LEAVING' else '')
            nodes[node] = {'state': m['state'], 'detail': detail}
            for consumer in m['consumers']:
                carries = sorted(
                    (i, o) for i, u, o in (mcomps.get(consumer) or {}).get(
                        'upstream') or () if u == '%s/%s' % (group, comp)
                    and i)
                edges.append({'from': node, 'to': consumer,
                              'carries': carries, 'ordering': not carries})
            for export in view.get('exports') or ():
                if any(r['stack'] == m['stack'] and r['host'] == m['host']
                       for r in export['readers']):
                    edges.append({'from': export['component'], 'to': node,
                                  'carries': [], 'ordering': True})
        groups.append({'agent': None, 'servers': [], 'host': None,
                       'alive': None, 'label': 'group %s: %d member%s' % (
                           group, len(members),
                           '' if len(members) == 1 else 's'),
                       'components': ids})


def group_label(group):
    if group.get('label'):
        return group['label']
    if group['agent'] is None:
        return 'no agent'
    parts = []
    if group['servers']:
        parts.append(', '.join(group['servers']))
    agent = 'agent: %s' % group['agent']
    if group['alive'] is not None:
        agent += ' (%s)' % ('alive' if group['alive'] else 'DOWN')
    parts.append(agent)
    return '\n'.join(parts)


def node_label(name, node):
    lines = [name]
    if node.get('state'):
        lines.append(node['state'] + (' \u00b7 %s' % node['detail']
                                      if node.get('detail') else ''))
    return '\n'.join(lines)


# -- renderers ----------------------------------------------------------------

def to_graphviz(picture):
    """A graphviz.Digraph of the picture."""
    import graphviz
    g = graphviz.Digraph(
        'softorch', graph_attr={
            'rankdir': 'LR', 'label': picture['title'], 'labelloc': 't',
            'fontname': 'Helvetica', 'fontsize': '16', 'newrank': 'true',
            'nodesep': '0.5', 'ranksep': '0.7'},
        node_attr={'shape': 'box', 'style': 'rounded,filled',
                   'fontname': 'Helvetica', 'fillcolor': '#ffffff',
                   'color': '#495057'},
        edge_attr={'fontname': 'Helvetica', 'fontsize': '10',
                   'color': '#495057'})
    for i, group in enumerate(picture['groups']):
        with g.subgraph(name='cluster_%d' % i) as c:
            down = group['alive'] is False
            c.attr(label=group_label(group), style='rounded,filled',
                   fillcolor='#fff5f5' if down else '#f8f9fa',
                   color='#c92a2a' if down else '#868e96', fontsize='11')
            for name in group['components']:
                node = picture['nodes'].get(name, {})
                attrs = {}
                if node.get('state'):
                    fill, border = STATE_COLOURS.get(
                        node['state'], ('#ffffff', '#495057'))
                    attrs = {'fillcolor': fill, 'color': border,
                             'penwidth': '2'}
                c.node(name, node_label(name, node), **attrs)
    for e in picture['edges']:
        attrs = {}
        if e['ordering']:
            attrs = {'style': 'dashed', 'label': 'after'}
        else:
            attrs = {'label': _edge_label(e['from'], e['carries'])}
        g.edge(e['from'], e['to'], **attrs)
    return g


def _mermaid_text(text):
    return (text.replace('&', '#amp;').replace('"', '#quot;')
            .replace('<', '#lt;').replace('>', '#gt;')
            .replace('\n', '<br/>'))


def to_mermaid(picture):
    """A Mermaid flowchart; ids are n0, n1... so any name is safe."""
    ids = {n: 'n%d' % i for i, n in enumerate(sorted(picture['nodes']))}
    lines = ['---', 'title: %s' % picture['title'].replace('\n', ' '),
             '---', 'flowchart LR']
    for i, group in enumerate(picture['groups']):
        lines.append('  subgraph g%d["%s"]' % (
            i, _mermaid_text(group_label(group))))
        for name in group['components']:
            lines.append('    %s["%s"]' % (ids[name], _mermaid_text(
                node_label(name, picture['nodes'].get(name, {})))))
        lines.append('  end')
    for e in picture['edges']:
        a, b = ids[e['from']], ids[e['to']]
        if e['ordering']:
            lines.append('  %s -.->|after| %s' % (a, b))
        else:
            lines.append('  %s -->|"%s"| %s' % (a, _mermaid_text(
                _edge_label(e['from'], e['carries'])), b))
    states = sorted({n['state'] for n in picture['nodes'].values()
                     if n.get('state')})
    for state in states:
        fill, border = STATE_COLOURS.get(state, ('#ffffff', '#495057'))
        lines.append('  classDef %s fill:%s,stroke:%s,stroke-width:2px'
                     % (state.lower(), fill, border))
        members = sorted(ids[n] for n, d in picture['nodes'].items()
                         if d.get('state') == state)
        lines.append('  class %s %s' % (','.join(members), state.lower()))
    return '\n'.join(lines) + '\n'


def render(picture, fmt):
    """bytes for png, str otherwise."""
    if fmt == 'mermaid':
        return to_mermaid(picture)
    g = to_graphviz(picture)
    if fmt == 'dot':
        return g.source
    import graphviz
    try:
        data = g.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        from heat_softorch.cmd import access
        raise access.OperatorError(
            'Graphviz\'s dot program is not installed: install Debian\'s '
            'graphviz package (tools/install-system-deps.sh does) or use '
            '--format dot or mermaid')
    return data if fmt in BINARY else data.decode('utf-8')


def output_format(args):
    if args.format:
        return args.format
    if args.output:
        ext = os.path.splitext(args.output)[1].lstrip('.').lower()
        if ext in ('svg', 'png'):
            return ext
        if ext in ('mmd', 'mermaid'):
            return 'mermaid'
    return 'dot'


def write(data, path):
    """Write ``data`` (str or bytes) to ``path`` or standard output."""
    from heat_softorch.cmd import access
    if path in (None, '-'):
        if isinstance(data, bytes):
            if sys.stdout.isatty():
                raise access.OperatorError(
                    'will not write a binary picture to a terminal: give '
                    '-o FILE')
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        sys.stdout.flush()
        return
    try:
        with open(path, 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
    except OSError as exc:
        raise access.OperatorError('cannot write %s: %s'
                                   % (path, exc.strerror or exc))


# -- the command --------------------------------------------------------------

def _picture(args):
    from heat_softorch.cmd import access
    from heat_softorch.cmd import validate
    if bool(args.template) == bool(args.stack):
        raise access.OperatorError('give a TEMPLATE or --stack NAME (one '
                                   'of them)')
    if args.template:
        loaded = validate.load(args)
        if isinstance(loaded, str):
            raise access.OperatorError(loaded)
        _, analysis = loaded
        if analysis.problems:
            from heat_softorch.engine import preprocessor
            print('warning: %s: %s' % (args.template,
                                       preprocessor.problems_text(analysis)),
                  file=sys.stderr)
        return picture_from_analysis(analysis, '%s\n%s' % (
            os.path.basename(args.template), analysis.summary()))
    client, _, stack, data = access.stack_view(args, args.stack)
    access.close(client)
    title = 'stack %s' % stack.label
    if stack.status:
        title += '\n%s' % stack.status
    return picture_from_view(data, title)


def _main(args):
    fmt = output_format(args)
    if fmt in BINARY and args.output in (None, '-') and \
            sys.stdout.isatty():
        from heat_softorch.cmd import access
        raise access.OperatorError('--format %s needs -o FILE' % fmt)
    picture = _picture(args)
    write(render(picture, fmt), args.output)
    if args.output not in (None, '-'):
        print('%s: %d components on %d agents, %d edges (%s)' % (
            args.output, len(picture['nodes']),
            len([g for g in picture['groups'] if g['agent']]),
            len(picture['edges']), fmt), file=sys.stderr)
    return 0


def main(args):
    from heat_softorch.cmd import access
    return access.run(_main, args)
