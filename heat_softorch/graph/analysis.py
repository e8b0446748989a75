"""One stack's component graph, checked, with the questions the engine asks.

``analyse()`` runs once per stack version: it builds the DAG, runs every
check and indexes what later questions need. The questions themselves
(closures, orders, Heat dependencies) are answered on demand and memoised,
so the engine may call them once per resource without paying quadratic
time on long chains. An Analysis is never changed after it is built, so
callers may cache it with the model it came from.
"""

import functools

import networkx as nx

from heat_softorch.graph import checks
from heat_softorch.graph import dag as dag_mod
from heat_softorch.graph import heatgraph
from heat_softorch.graph import model as model_mod
from heat_softorch.graph import problems as p
from heat_softorch.graph import stacks


class GraphError(ValueError):
    """A question that has no answer on this graph (a cycle, a stranger)."""


def analyse(model):
    """Build and check the component graph of a StackModel."""
    graph = dag_mod.build(model)
    servers = heatgraph.servers_by_agent(model)
    parts = dag_mod.cycles(graph)
    found = []
    found.extend(checks.cycles(graph, parts))
    found.extend(checks.links(model))
    found.extend(checks.inputs(model))
    found.extend(checks.input_sources(model))
    found.extend(checks.names(model))
    found.extend(checks.configs(model))
    found.extend(checks.agents(model, servers))
    found.extend(checks.nested(model))
    found.extend(checks.shared_agents(model, servers))
    own, skip = heatgraph.own_agent_reads(model, servers)
    found.extend(own)
    found.extend(heatgraph.cycles(model, graph, servers, skip))
    found.extend(stacks.group_links(model))
    found.extend(stacks.member_links(model))
    found.extend(stacks.group_cycles(model, graph))
    return Analysis(model, graph, p.unique(found), servers, not parts)


class Analysis(object):
    """The checked component graph of one stack version.

    ``dag`` has an edge upstream -> downstream for every pair of directly
    connected components, with ``carries`` (sorted (input, output) pairs;
    empty for ordering only) and ``via`` ('get_attr', 'depends_on',
    'link:<name>'). ``problems`` lists everything wrong; most questions
    still have answers on a stack with problems, except orders on a cycle.
    Treat ``dag`` as read-only: the memoised answers are derived from it.
    """

    def __init__(self, model, dag, problems, servers, acyclic):
        self.model = model
        self.dag = dag
        self.problems = problems
        self.acyclic = acyclic
        self._servers = {a: frozenset(s) for a, s in servers.items()}
        self._upstream = {}
        self._downstream = {}
        self._heat_deps = {}

    @property
    def ok(self):
        return not self.problems

    def _component(self, name):
        if name not in self.model.components:
            raise GraphError("'%s' is not a component of this stack" % name)
        return self.model.components[name]

    def upstream(self, name):
        """Every component ``name`` transitively takes input or order from."""
        self._component(name)
        if name not in self._upstream:
            self._upstream[name] = frozenset(nx.ancestors(self.dag, name))
        return self._upstream[name]

    def downstream(self, name):
        """Every component that transitively waits for ``name``."""
        self._component(name)
        if name not in self._downstream:
            self._downstream[name] = frozenset(
                nx.descendants(self.dag, name))
        return self._downstream[name]

    @functools.cached_property
    def _position(self):
        order = nx.lexicographical_topological_sort(self.dag)
        return {name: i for i, name in enumerate(order)}

    def topological_order(self):
        """All components, upstream first, ties by name."""
        if not self.acyclic:
            raise GraphError('the components form a cycle; see problems')
        return sorted(self._position, key=self._position.__getitem__)

    def registration_order(self, name):
        """``name``'s upstreams and itself, upstream first, itself last.

        The engine registers these specs together so that a component can
        run without waiting for its upstreams' Heat resources. The order is
        the stack's topological order (ties by name) restricted to them.
        """
        members = self.upstream(name) | {name}
        if self.acyclic:
            order = sorted(members, key=self._position.__getitem__)
        else:
            try:
                order = list(nx.lexicographical_topological_sort(
                    self.dag.subgraph(members)))
            except nx.NetworkXUnfeasible:
                raise GraphError("component '%s' is on or below a cycle; "
                                 "see problems" % name)
        return order

    def ahead_of(self, name):
        """What ``name``'s Heat action can register besides its
        registration order: every downstream component whose Heat
        dependencies are among ``name``'s (Heat can resolve it already),
        with its upstreams; in the stack's topological order.

        Registered ahead, a chain on VMs that exist runs at ZooKeeper's
        pace, not at the pace Heat reaches its resources; each of them
        still waits for ``name`` to run. Nothing on a cycle.
        """
        if not self.acyclic:
            return []
        mine = self.heat_dependencies(name)
        own = self.upstream(name) | {name}
        members = set()
        for down in self.downstream(name):
            if down not in members and self.heat_dependencies(down) <= mine:
                members |= self.upstream(down) | {down}
        return sorted(members - own, key=self._position.__getitem__)

    @functools.cached_property
    def _reads_closure(self):
        """{component: what it and all its upstreams read}, if acyclic.

        Built once in topological order so that each set is the union of
        its parents' sets: linear in the total size of the answers.
        """
        if not self.acyclic:
            return None
        components = self.model.components
        closure = {}
        for name in nx.topological_sort(self.dag):
            reads = set(components[name].reads) | self.servers_of(
                components[name].agent)
            for parent in self.dag.predecessors(name):
                reads |= closure[parent]
            closure[name] = frozenset(reads)
        return closure

    def heat_dependencies(self, name):
        """Non-component resources ``name`` must depend on in Heat.

        What it reads, what each transitive upstream reads (their specs
        are registered with its own, resolved by Heat), and the servers
        that boot its agent and every upstream's: once its Heat action
        holds an engine thread it may wait for agents only, and an agent
        whose VM Heat has yet to create would make it wait for a Heat
        action (a chain across two VMs then deadlocks a small thread
        pool). Never a component or a link: those edges are carried by
        ZooKeeper.
        """
        comp = self._component(name)
        if name in self._heat_deps:
            return self._heat_deps[name]
        closure = self._reads_closure
        if closure is not None:
            reads = set(closure[name])
        else:
            reads = set(comp.reads) | self.servers_of(comp.agent)
            for upstream in self.upstream(name):
                up = self.model.components[upstream]
                reads |= up.reads | self.servers_of(up.agent)
        reads.difference_update(self.model.components,
                                self.model.links)
        deps = self._heat_deps[name] = frozenset(reads)
        return deps

    def create_dependencies(self, name):
        """``heat_dependencies(name)`` for a stack create: without the
        upstreams' agents whose servers are among them.

        Such a server depends on its agent in Heat, so the order stays; what
        is lost is the agent's data in the convergence worker, and the
        engine reads the agent's identity from ZooKeeper instead, which is
        unambiguous only while each agent has had one identity: in a create.
        Each edge costs Heat a sync-point update: at 1,000 components on 100
        agents this leaves out more than a third of them. The component's
        own agent stays: its identity is a property Heat compares in
        updates.
        """
        deps = self.heat_dependencies(name)
        own = self._component(name).agent
        return frozenset(
            d for d in deps
            if d == own or d not in self.model.agents or
            not (self.servers_of(d) & deps))

    def wires_into(self, name):
        """Direct inputs of ``name`` as (input, upstream, output) triples.

        Ordering-only edges have None for input and output. Order: wires as
        declared, then depends_on, then links by name and mapping by input.
        Only edges from components are listed.
        """
        comp = self._component(name)
        components = self.model.components
        found = [(w.input, w.upstream, w.output) for w in comp.wires
                 if w.upstream in components]
        found.extend((None, u, None) for u in comp.after if u in components)
        for link in self._links_into.get(name, ()):
            if link.source not in components:
                continue
            if not link.mapping:
                found.append((None, link.source, None))
            for target_input, output in sorted(link.mapping.items()):
                found.append((target_input, link.source, output))
        return found

    def remote_wires_into(self, name):
        """What ``name`` reads from other stacks of the root, by link name:
        dicts with ``input`` (None for ordering only), ``kind`` (Ref.kind:
        parent or group), ``group``, ``component``, ``output``,
        ``collect`` and ``link``."""
        self._component(name)
        found = []
        for link in self._links_into.get(name, ()):
            ref = link.source_ref
            if not ref.remote:
                continue
            base = {'kind': ref.kind, 'group': ref.group,
                    'component': ref.component, 'collect': link.collect,
                    'link': link.name}
            if not link.mapping:
                found.append(dict(base, input=None, output=None))
            for target_input, output in sorted(link.mapping.items()):
                found.append(dict(base, input=target_input, output=output))
        return found

    @functools.cached_property
    def exported(self):
        """This stack's components that a group's member template reads
        with ``from: ../<component>``, by name."""
        found = set()
        for group in self.model.groups.values():
            for link in (group.member.links.values() if group.member
                         else ()):
                ref = link.source_ref
                if ref.kind == model_mod.PARENT and \
                        ref.component in self.model.components:
                    found.add(ref.component)
        return frozenset(found)

    @functools.cached_property
    def consumers(self):
        """{group: {member component: [(consumer, link name)]}}: what this
        stack reads from its groups' members."""
        found = {}
        for name in sorted(self.model.links):
            link = self.model.links[name]
            ref = link.source_ref
            if ref.kind == model_mod.GROUP and \
                    link.target in self.model.components:
                found.setdefault(ref.group, {}).setdefault(
                    ref.component, []).append((link.target, name))
        return found

    @functools.cached_property
    def _links_into(self):
        into = {}
        for name in sorted(self.model.links):
            link = self.model.links[name]
            into.setdefault(link.target, []).append(link)
        return into

    def servers_of(self, agent):
        """The resources that boot ``agent`` (normally one server)."""
        return self._servers.get(agent, frozenset())

    def components_on(self, agent):
        """The components that run on ``agent``, by name."""
        return sorted(n for n, c in self.model.components.items()
                      if c.agent == agent)

    @functools.cached_property
    def depth(self):
        """Components on the longest path (0 if none; None on a cycle)."""
        if not self.acyclic:
            return None
        return dag_mod.longest_path_nodes(self.dag)

    @functools.cached_property
    def width(self):
        """Most components in one topological generation (None on a cycle).

        That many may run at once, given the agents to run them.
        """
        if not self.acyclic:
            return None
        return dag_mod.widest_generation(self.dag)

    def summary(self):
        """One line for logs and the command line."""
        count = len(self.model.components)
        agents = {c.agent for c in self.model.components.values()
                  if c.agent is not None}
        edges = self.dag.number_of_edges()
        text = '%d %s on %d %s, %d %s, %s' % (
            count, 'component' if count == 1 else 'components',
            len(agents), 'agent' if len(agents) == 1 else 'agents',
            edges, 'edge' if edges == 1 else 'edges',
            'depth %d' % self.depth if self.acyclic else 'cyclic')
        for name in sorted(self.model.groups):
            group = self.model.groups[name]
            inner = len(group.member.components) if group.member else 0
            text += ', group %s (%d %s per member)' % (
                name, inner, 'component' if inner == 1 else 'components')
        across = len([k for k in self.model.links.values()
                      if k.source_ref.remote]) + sum(
            len([k for k in g.member.links.values() if k.source_ref.remote])
            for g in self.model.groups.values() if g.member)
        if across:
            text += ', %d %s across stacks' % (
                across, 'link' if across == 1 else 'links')
        if self.problems:
            n = len(self.problems)
            text += ', %d %s' % (n, 'problem' if n == 1 else 'problems')
        return text
