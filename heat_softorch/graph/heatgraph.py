"""The Heat dependency graph once component wiring is applied.

Wiring removes Heat edges between components (ZooKeeper carries them) and
adds others: a component depends in Heat on what it reads, on what every
upstream component reads (its spec is registered together with theirs, so
their resolved values must exist), and on the servers that boot its agent
(its DELETE config must run while the VM is up). Those added edges can
close cycles the template author never wrote; this module finds them.

Materialising "component -> everything its upstreams read" is quadratic on
a long chain. Instead each component gets a stand-in node for its reads
closure: ``closure(c) -> reads(c)`` and ``closure(c) -> closure(upstream)``.
A path through stand-ins is exactly one real edge, so the cycles are the
same and the graph stays linear in the size of the stack.
"""

import networkx as nx

from heat_softorch.graph import dag as dag_mod
from heat_softorch.graph import problems as p


class _Closure(tuple):
    """The stand-in node for one component's reads closure."""

    def __str__(self):
        return '\x00closure:%s' % self[0]


def servers_by_agent(model):
    """{agent: set of resources that boot it}, for agents of the stack."""
    servers = {}
    for name, res in model.resources.items():
        for agent in res.boots:
            if agent in model.agents:
                servers.setdefault(agent, set()).add(name)
    return servers


def components_read(model, res):
    """The components ``res`` refers to, whichever field the engine used."""
    return (res.reads_components | res.reads) & model.components.keys()


def own_agent_reads(model, servers):
    """Check 8: a server must not read a component running on its VM.

    Returns the problems and the (server, component) edges they are about,
    so that the general cycle check does not report them a second time.
    """
    found = []
    edges = set()
    components = model.components
    for agent in sorted(servers):
        for server in sorted(servers[agent]):
            res = model.resources[server]
            for comp in sorted(components_read(model, res)):
                if components[comp].agent == agent:
                    edges.add((server, comp))
                    found.append(p.Problem(server, (
                        "Server '%s' reads component '%s' which runs on its "
                        "own agent '%s': the component needs the server "
                        "first, so this closes a cycle. Pass the value "
                        "some other way (e.g. a stack output)."
                        % (server, comp, agent))))
    return found, edges


def build(model, graph, servers, skip=frozenset()):
    """The Heat graph with stand-ins for the reads closures.

    ``graph`` is the component DAG; ``skip`` holds (resource, component)
    edges to leave out. Only a component some resource reads can be on a
    cycle (nothing else points at components), so only those, and the
    closures of their upstreams, are added: most stacks add none.
    """
    components = model.components
    nodes = set(components) | set(model.resources) | set(model.agents)
    nodes.difference_update(model.links)
    edges = []
    referenced = set()
    for name, res in model.resources.items():
        for target in res.reads | res.reads_components:
            if target in components:
                if (name, target) not in skip:
                    edges.append((name, target))
                    referenced.add(target)
            elif target in nodes:
                edges.append((name, target))
    relevant = set(referenced)
    todo = list(referenced)
    while todo:
        for upstream in graph.predecessors(todo.pop()):
            if upstream not in relevant:
                relevant.add(upstream)
                todo.append(upstream)
    for name in referenced:
        edges.append((name, _Closure((name,))))
        for server in servers.get(components[name].agent, ()):
            edges.append((name, server))
    for name in relevant:
        closure = _Closure((name,))
        for target in components[name].reads:
            if target in nodes and target not in components:
                edges.append((closure, target))
        for upstream in graph.predecessors(name):
            edges.append((closure, _Closure((upstream,))))
    heat = nx.DiGraph()
    heat.add_nodes_from(nodes)
    heat.add_edges_from(edges)
    return heat


def cycles(model, graph, servers, skip=frozenset()):
    """Check 9: no cycle in the Heat graph once wiring is applied.

    Parts made only of components and stand-ins are the component cycles
    of check 1 seen again, and are not reported here.
    """
    heat = build(model, graph, servers, skip)
    for members, path in dag_mod.cycles(heat):
        real = [n for n in members if not isinstance(n, _Closure)]
        if all(n in model.components for n in real):
            continue
        start = min(real)
        if path[0] != start:
            path = dag_mod.shortest_cycle(heat, start, members)
        path = [n for n in path if not isinstance(n, _Closure)]
        yield p.Problem(start, (
            'Resources %s depend on each other once component wiring is '
            'applied (%s). A component depends in Heat on what it and its '
            'upstream components read and on the server that boots its '
            'agent; remove one of these references.'
            % (', '.join(sorted(real)), p.path_text(path))))
