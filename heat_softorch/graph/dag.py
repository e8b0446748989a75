"""The component DAG: which component feeds which, and through what.

Three things make an edge, all read from unresolved definitions and carried
by ZooKeeper rather than by Heat: a wire (a bare get_attr as a whole input
value), ``depends_on`` between components, and a ComponentLink. Parallel
sources of one edge are merged: ``carries`` lists every (input, output)
pair the edge transports, ``via`` says where the edge comes from.

Edges whose ends are not both components are left out here; the checks
report them. Nodes and edges are added in name order so that everything
derived from the graph (cycle paths, orders) is deterministic.
"""

import networkx as nx

GET_ATTR = 'get_attr'
DEPENDS_ON = 'depends_on'
LINK = 'link:'


def build(model):
    """The component DiGraph of a StackModel (upstream -> downstream)."""
    components = model.components
    edges = {}

    def add(upstream, downstream, via, carries=None):
        data = edges.get((upstream, downstream))
        if data is None:
            data = edges[upstream, downstream] = {'carries': set(),
                                                  'via': set()}
        data['via'].add(via)
        if carries is not None:
            data['carries'].add(carries)

    for name in sorted(components):
        comp = components[name]
        for wire in comp.wires:
            if wire.upstream in components:
                add(wire.upstream, name, GET_ATTR, (wire.input, wire.output))
        for upstream in comp.after:
            if upstream in components:
                add(upstream, name, DEPENDS_ON)
    for name in sorted(model.links):
        link = model.links[name]
        if link.source in components and link.target in components:
            add(link.source, link.target, LINK + name)
            for target_input, source_output in link.mapping.items():
                add(link.source, link.target, LINK + name,
                    (target_input, source_output))
    for data in edges.values():
        data['carries'] = sorted(data['carries'])
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(components))
    graph.add_edges_from((u, v, d) for (u, v), d in edges.items())
    return graph


def cycles(graph):
    """Each cyclic part of ``graph`` as (sorted members, one cycle path).

    A part is a strongly connected component with more than one node, or a
    node with a self-loop. The path starts and ends at the part's first
    member by name and is a shortest cycle through it, so the same graph
    always gives the same sentence. Nodes need only be comparable by
    ``str``.
    """
    found = []
    for members in nx.strongly_connected_components(graph):
        if len(members) == 1:
            node = next(iter(members))
            if graph.has_edge(node, node):
                found.append(([node], [node, node]))
            continue
        start = min(members, key=str)
        found.append((sorted(members, key=str),
                      shortest_cycle(graph, start, members)))
    found.sort(key=lambda part: [str(n) for n in part[0]])
    return found


def shortest_cycle(graph, start, members):
    """A shortest cycle through ``start`` inside ``members``, closed."""
    sub = graph.subgraph(members)
    # The reverse BFS gives every member's distance back to start; walking
    # forward along decreasing distance, ties by name, gives the path.
    back = nx.single_source_shortest_path_length(sub.reverse(copy=False),
                                                 start)
    path = [start]
    node = min((n for n in sub.successors(start) if n != start),
               key=lambda n: (back[n], str(n)))
    while node != start:
        path.append(node)
        node = min(sub.successors(node), key=lambda n: (back[n], str(n)))
    path.append(start)
    return path


def longest_path_nodes(graph):
    """Components on the longest path of an acyclic graph; 0 when empty."""
    if not graph:
        return 0
    return nx.dag_longest_path_length(graph) + 1


def widest_generation(graph):
    """Most components that can run side by side in an acyclic graph."""
    return max((len(g) for g in nx.topological_generations(graph)),
               default=0)
