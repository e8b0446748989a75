"""The graph layer: building, checking and querying the component DAG."""

import time

import pytest

from heat_softorch import graph
from heat_softorch.graph import Component
from heat_softorch.graph import Input
from heat_softorch.graph import Link
from heat_softorch.graph import NestedRef
from heat_softorch.graph import Resource
from heat_softorch.graph import StackModel
from heat_softorch.graph import Wire


def comp(name, agent, inputs=(), outputs=(), values=(), wires=(),
         after=(), reads=(), nested=()):
    """A component; ``wires`` as 'input=upstream.output' strings."""
    parsed = []
    for text in wires:
        target, source = text.split('=')
        upstream, output = source.split('.')
        parsed.append(Wire(target, upstream, output))
    own = {agent} if agent else set()
    return Component(name, agent, {i: Input(i) for i in inputs},
                     tuple(outputs), tuple(values), tuple(parsed),
                     tuple(after), frozenset(reads) | own,
                     tuple(NestedRef(u, w) for u, w in nested))


def server(name, agent, reads=(), components=()):
    return Resource(name, frozenset(reads) | {agent}, frozenset([agent]),
                    frozenset(components))


def stack(*items, agents=None):
    """A StackModel; every agent the components name exists unless
    ``agents`` says otherwise."""
    components = {i.name: i for i in items if isinstance(i, Component)}
    links = {i.name: i for i in items if isinstance(i, Link)}
    resources = {i.name: i for i in items if isinstance(i, Resource)}
    if agents is None:
        agents = {c.agent for c in components.values() if c.agent}
    for agent in agents:
        resources.setdefault(agent, Resource(agent))
    return StackModel(components, links, resources, frozenset(agents))


def messages(analysis):
    return [p.message for p in analysis.problems]


def diamond():
    """db -> api (get_attr), db -> worker (depends_on),
    api -> web (link with a map), worker -> web (ordering link)."""
    return stack(
        server('db_server', 'db_agent'),
        server('app_server', 'app_agent'),
        server('web_server', 'web_agent'),
        Resource('db_volume'),
        Resource('settings'),
        comp('db', 'db_agent', outputs=['db_url'], reads=['db_volume']),
        comp('api', 'app_agent', inputs=['db_url', 'port'],
             outputs=['api_url'], values=['port'],
             wires=['db_url=db.db_url'], reads=['settings']),
        comp('worker', 'app_agent', after=['db']),
        comp('web', 'web_agent', inputs=['backend']),
        Link('api_web', 'api', 'web', {'backend': 'api_url'}),
        Link('worker_web', 'worker', 'web'),
    )


def test_diamond_structure():
    a = graph.analyse(diamond())
    assert a.ok, messages(a)
    assert a.upstream('web') == {'db', 'api', 'worker'}
    assert a.upstream('db') == set()
    assert a.downstream('db') == {'api', 'worker', 'web'}
    assert a.downstream('web') == set()
    assert a.depth == 3
    assert a.width == 2
    assert a.summary() == '4 components on 3 agents, 4 edges, depth 3'


def test_diamond_edges():
    a = graph.analyse(diamond())
    assert a.dag.edges['db', 'api'] == {
        'carries': [('db_url', 'db_url')], 'via': {'get_attr'}}
    assert a.dag.edges['db', 'worker'] == {
        'carries': [], 'via': {'depends_on'}}
    assert a.dag.edges['api', 'web'] == {
        'carries': [('backend', 'api_url')], 'via': {'link:api_web'}}
    assert a.dag.edges['worker', 'web'] == {
        'carries': [], 'via': {'link:worker_web'}}
    assert a.wires_into('web') == [('backend', 'api', 'api_url'),
                                   (None, 'worker', None)]
    assert a.wires_into('api') == [('db_url', 'db', 'db_url')]
    assert a.wires_into('worker') == [(None, 'db', None)]


def test_diamond_orders():
    a = graph.analyse(diamond())
    order = a.registration_order('web')
    assert order == ['db', 'api', 'worker', 'web']
    assert order[-1] == 'web'
    for u, v in a.dag.edges:
        if u in order and v in order:
            assert order.index(u) < order.index(v)
    assert a.registration_order('db') == ['db']
    assert a.registration_order('worker') == ['db', 'worker']
    assert a.topological_order() == ['db', 'api', 'worker', 'web']


def test_diamond_nothing_ahead():
    a = graph.analyse(diamond())
    # Every downstream component runs on a VM its upstream does not need.
    assert [a.ahead_of(n) for n in ('db', 'api', 'worker', 'web')] == [
        [], [], [], []]


def test_chain_registers_its_downstream_ahead():
    a = graph.analyse(stack(
        server('server_a', 'a'), server('server_b', 'b'),
        comp('c0', 'a', outputs=['n']),
        comp('c1', 'b', inputs=['n'], outputs=['n'], wires=['n=c0.n']),
        comp('c2', 'a', inputs=['n'], outputs=['n'], wires=['n=c1.n']),
        comp('c3', 'b', inputs=['n'], wires=['n=c2.n'])))
    # c0 needs VM a only: none of its downstream is resolvable with it.
    assert a.ahead_of('c0') == []
    # Once both VMs exist, the first component Heat starts registers all.
    assert a.ahead_of('c1') == ['c2', 'c3']
    assert a.ahead_of('c2') == ['c3']
    assert a.ahead_of('c3') == []


def test_diamond_heat_dependencies():
    a = graph.analyse(diamond())
    # Upstreams' servers too: a component waits only for agents whose VMs
    # already exist.
    assert a.heat_dependencies('web') == {
        'web_agent', 'web_server', 'app_agent', 'app_server', 'settings',
        'db_agent', 'db_server', 'db_volume'}
    assert a.heat_dependencies('db') == {'db_agent', 'db_volume',
                                         'db_server'}
    assert a.heat_dependencies('worker') == {
        'app_agent', 'app_server', 'db_agent', 'db_server', 'db_volume'}
    assert a.servers_of('app_agent') == {'app_server'}
    assert a.servers_of('nobody') == set()
    assert a.components_on('app_agent') == ['api', 'worker']
    # A create leaves out the upstreams' agents their servers depend on,
    # never the component's own.
    assert a.create_dependencies('web') == {
        'web_agent', 'web_server', 'app_server', 'settings', 'db_server',
        'db_volume'}
    assert a.create_dependencies('worker') == {
        'app_agent', 'app_server', 'db_server', 'db_volume'}
    assert a.create_dependencies('db') == a.heat_dependencies('db')


def test_create_dependencies_keep_an_agent_no_server_boots():
    a = graph.analyse(stack(
        comp('up', 'far', outputs=['x']),
        comp('down', 'near', inputs=['x'], wires=['x=up.x']),
        server('near_server', 'near')))
    assert a.heat_dependencies('down') == {'near', 'near_server', 'far'}
    assert a.create_dependencies('down') == {'near', 'near_server', 'far'}


def test_empty_stack():
    a = graph.analyse(StackModel({}, {}, {}, frozenset()))
    assert a.ok
    assert a.depth == 0
    assert a.width == 0
    assert a.summary() == '0 components on 0 agents, 0 edges, depth 0'


def test_cycle_names_every_component():
    a = graph.analyse(stack(
        comp('a', 'ag', inputs=['x'], wires=['x=c.out']),
        comp('b', 'ag', after=['a']),
        comp('c', 'ag', outputs=['out']),
        Link('l1', 'b', 'c'),
        comp('d', 'ag', after=['c']),
    ))
    assert [p.resource for p in a.problems] == ['a']
    assert messages(a) == [
        'Components a, b, c form a cycle (a -> b -> c -> a): software '
        'components must form a DAG; remove one of these edges: '
        'a -> b (depends_on); b -> c (ComponentLink \'l1\'); '
        'c -> a (get_attr in input_values).']
    assert not a.acyclic
    assert a.depth is None
    assert a.summary().endswith('cyclic, 1 problem')
    assert a.upstream('d') == {'a', 'b', 'c'}
    with pytest.raises(graph.GraphError):
        a.registration_order('d')
    with pytest.raises(graph.GraphError):
        a.topological_order()
    assert a.heat_dependencies('d') == {'ag'}


def test_orders_beside_a_cycle():
    a = graph.analyse(stack(
        comp('a', 'ag', after=['b']), comp('b', 'ag', after=['a']),
        comp('x', 'ag'), comp('y', 'ag', after=['x'])))
    assert a.registration_order('y') == ['x', 'y']
    assert a.width is None


def test_two_cycles_two_problems():
    a = graph.analyse(stack(
        comp('a', 'ag', after=['b']), comp('b', 'ag', after=['a']),
        comp('x', 'ag', after=['y']), comp('y', 'ag', after=['x']),
    ))
    assert [p.resource for p in a.problems] == ['a', 'x']
    assert 'Components x, y form a cycle (x -> y -> x)' in messages(a)[1]


def test_link_to_itself_is_a_cycle():
    a = graph.analyse(stack(comp('a', 'ag'), Link('l1', 'a', 'a')))
    assert messages(a) == [
        "Component 'a' depends on itself (a -> a (ComponentLink 'l1')): "
        "software components must form a DAG; remove that edge."]


def test_undeclared_inputs():
    a = graph.analyse(stack(
        comp('db', 'ag', outputs=['db_url']),
        comp('app', 'ag', inputs=['db_url'], values=['colour'],
             wires=['db_ur=db.db_url']),
        comp('web', 'ag', inputs=['a'], after=['app']),
        Link('l1', 'db', 'web', {'x': 'db_url'}),
    ))
    assert messages(a) == [
        "ComponentLink 'l1': map sets input 'x' of 'web', which it does "
        "not declare (declared: a). Declare it in the inputs of 'web'.",
        "Component 'app': input_values sets 'colour', which is not a "
        "declared input (declared: db_url). Declare it in inputs or "
        "remove it.",
        "Component 'app': input_values sets 'db_ur', which is not a "
        "declared input (declared: db_url). Did you mean 'db_url'?",
    ]
    assert [p.resource for p in a.problems] == ['l1', 'app', 'app']


def test_undeclared_outputs():
    a = graph.analyse(stack(
        comp('db', 'ag', outputs=['db_url']),
        comp('app', 'ag', inputs=['db_url', 'b'],
             wires=['db_url=db.db_ur']),
        Link('l1', 'db', 'app', {'b': 'port'}),
    ))
    assert messages(a) == [
        "ComponentLink 'l1': map reads output 'port' of 'db', which it "
        "does not declare (declared: db_url). Declare it in the outputs "
        "of 'db'.",
        "Component 'app': input 'db_url' reads db.db_ur, but 'db' declares "
        "no output 'db_ur' (declared: db_url). Did you mean 'db_url'?",
    ]


def test_input_set_twice():
    a = graph.analyse(stack(
        comp('db', 'ag', outputs=['url']),
        comp('app', 'ag', inputs=['url'], values=['url']),
        Link('l1', 'db', 'app', {'url': 'url'}),
    ))
    assert messages(a) == [
        "Component 'app': input 'url' is set by both input_values and "
        "ComponentLink 'l1'; set it in one place."]


def test_bad_agents():
    a = graph.analyse(stack(
        Resource('db_server'),
        comp('a', None),
        comp('b', 'db_server'),
        comp('c', 'a'),
        comp('d', 'web_agnt'),
        comp('ok', 'web_agent'),
        agents={'web_agent'}))
    prefix = ("agent must be {get_resource: <an OS::SoftOrch::Agent "
              "resource>}; ")
    assert messages(a) == [
        "Component 'a': " + prefix + "it is missing or not a literal "
        "get_resource.",
        "Component 'b': " + prefix + "'db_server' is not one.",
        "Component 'c': " + prefix + "'a' is an "
        "OS::SoftOrch::SoftwareComponent, not an agent.",
        "Component 'd': " + prefix + "'web_agnt' is not one: there is no "
        "resource 'web_agnt' in this stack. Did you mean 'web_agent'?",
    ]


def test_link_ends_must_be_components():
    a = graph.analyse(stack(
        comp('db', 'ag'), Resource('srv'),
        Link('l1', 'dbb', 'db'), Link('l2', 'db', 'srv')))
    assert messages(a) == [
        "ComponentLink 'l1': 'from' names 'dbb', which is not an "
        "OS::SoftOrch::SoftwareComponent in this stack. Did you mean "
        "'db'?",
        "ComponentLink 'l2': 'to' names 'srv', which is not an "
        "OS::SoftOrch::SoftwareComponent in this stack. Name a component "
        "of this stack.",
    ]
    assert a.dag.number_of_edges() == 0


def test_nested_reference():
    a = graph.analyse(stack(
        comp('db', 'ag', outputs=['db_url']),
        comp('app', 'ag', nested=[('db', 'input_values.url')]),
    ))
    assert messages(a) == [
        "Component 'app': input_values.url uses get_attr on component 'db' "
        "inside another function; components pass values only as a whole "
        "input value. Declare an input (e.g. db_url), set input_values: "
        "{db_url: {get_attr: [db, db_url]}} and build the string in the "
        "config script."]
    assert a.dag.number_of_edges() == 0


def test_server_reads_its_own_component():
    a = graph.analyse(stack(
        server('web_server', 'web_agent', components=['web']),
        comp('web', 'web_agent', outputs=['url']),
    ))
    # Check 8 only: the general Heat cycle check must not repeat it.
    assert messages(a) == [
        "Server 'web_server' reads component 'web' which runs on its own "
        "agent 'web_agent': the component needs the server first, so this "
        "closes a cycle. Pass the value some other way (e.g. a stack "
        "output)."]
    assert a.problems[0].resource == 'web_server'


def test_server_may_read_a_component_elsewhere():
    a = graph.analyse(stack(
        server('web_server', 'web_agent', components=['db']),
        server('db_server', 'db_agent'),
        comp('db', 'db_agent', outputs=['url']),
        comp('web', 'web_agent', after=['db']),
    ))
    assert a.ok, messages(a)


def test_heat_cycle_through_upstream_reads():
    # 'app' reads a Value that reads 'web'; 'web' is downstream of 'app',
    # so web waits in Heat for what app reads: the Value, which waits for
    # web.
    a = graph.analyse(stack(
        server('srv', 'ag'),
        Resource('v', reads_components=frozenset(['web'])),
        comp('app', 'ag', outputs=['o'], reads=['v']),
        comp('web', 'ag', inputs=['i'], wires=['i=app.o']),
    ))
    assert messages(a) == [
        'Resources v, web depend on each other once component wiring is '
        'applied (v -> web -> v). A component depends in Heat on what it '
        'and its upstream components read and on the server that boots '
        'its agent; remove one of these references.']
    assert a.problems[0].resource == 'v'
    assert 'v' in a.heat_dependencies('web')


def test_agent_booted_twice():
    a = graph.analyse(stack(
        server('s1', 'ag'), server('s2', 'ag'), comp('c', 'ag')))
    assert messages(a) == [
        "Agent 'ag' is booted by more than one server (s1, s2): one agent "
        "serves one VM; give each server its own OS::SoftOrch::Agent."]
    assert a.servers_of('ag') == {'s1', 's2'}


def test_all_problems_reported():
    a = graph.analyse(stack(
        comp('a', 'ag', after=['b']),
        comp('b', 'ag', after=['a']),
        comp('c', None, inputs=['x'], values=['y']),
        comp('d', 'ag', nested=[('a', 'configs')]),
    ))
    found = messages(a)
    assert len(found) == 4
    assert found[0].startswith('Components a, b form a cycle')
    assert "'y', which is not a declared input" in found[1]
    assert "Component 'c': agent must be" in found[2]
    assert found[3].startswith("Component 'd': configs uses get_attr")
    assert not a.ok


def test_long_chain_is_fast():
    n = 1100
    items = [server('srv%d' % i, 'agent%d' % i) for i in range(10)]
    for i in range(n):
        items.append(comp('c%04d' % i, 'agent%d' % (i % 10),
                          inputs=['x'], outputs=['x'],
                          wires=['x=c%04d.x' % (i - 1)] if i else ()))
    model = stack(*items)
    start = time.perf_counter()
    a = graph.analyse(model)
    elapsed = time.perf_counter() - start
    print('analyse: %d components in %.1f ms' % (n, elapsed * 1000))
    assert a.ok, messages(a)[:3]
    assert a.depth == n
    assert a.width == 1
    start = time.perf_counter()
    last = 'c%04d' % (n - 1)
    order = a.registration_order(last)
    deps = a.heat_dependencies(last)
    print('registration_order + heat_dependencies of the last: %.1f ms'
          % ((time.perf_counter() - start) * 1000))
    assert len(order) == n and order[-1] == last
    assert deps == ({'agent%d' % i for i in range(10)} |
                    {'srv%d' % i for i in range(10)})
    start = time.perf_counter()
    for name in model.components:
        a.heat_dependencies(name)
    print('heat_dependencies of all: %.1f ms'
          % ((time.perf_counter() - start) * 1000))


def test_affected():
    old = graph.analyse(diamond())
    model = diamond()
    components = dict(model.components)
    components['worker'] = comp('worker', 'web_agent', after=['db'])
    components['audit'] = comp('audit', 'db_agent', after=['web'])
    new = graph.analyse(StackModel(components, model.links,
                                   model.resources, model.agents))
    assert graph.affected(old, new, {'api'}) == {
        'api': 'definition changed',
        'worker': 'moved to agent web_agent: replaced',
        'audit': 'new component',
        'web': 'input from api may change',
    }
    assert graph.affected(old, new, set()) == {
        'worker': 'moved to agent web_agent: replaced',
        'audit': 'new component',
        'web': 'input from worker may change',
    }
    assert graph.affected(old, old, set()) == {}
    assert graph.affected(old, old, {'db'}) == {
        'db': 'definition changed',
        'api': 'input from db may change',
        'worker': 'input from db may change',
        'web': 'input from db may change',
    }


def test_affected_by_a_changed_link():
    old = graph.analyse(diamond())
    model = diamond()
    links = dict(model.links)
    links['worker_web'] = Link('worker_web', 'db', 'web')
    new = graph.analyse(StackModel(model.components, links,
                                   model.resources, model.agents))
    assert graph.affected(old, new, set()) == {
        'web': 'inputs wired differently'}


def test_model_accepts_lists():
    c = Component('app', 'ag', [Input('pw', hidden=True)], ['o'], [],
                  [Wire('pw', 'db', 'o')], ['db'], ['ag'], [])
    assert c.inputs == {'pw': Input('pw', True)}
    assert c.outputs == ('o',) and c.after == ('db',)
    assert c.reads == frozenset(['ag'])
    link = Link('l', 'db', 'app')
    assert link.mapping == {}
    model = StackModel({'app': c}, {}, {}, ['ag'])
    assert model.agents == frozenset(['ag'])


def test_component_named_in_resource_reads_counts_as_read():
    a = graph.analyse(stack(
        Resource('web_server', frozenset(['web_agent', 'web']),
                 frozenset(['web_agent'])),
        comp('web', 'web_agent')))
    assert [p.resource for p in a.problems] == ['web_server']
    assert a.heat_dependencies('web') == {'web_agent', 'web_server'}
