"""Links across stacks in the graph layer: a group's members and their
parent, checked from the parent's model (which carries the member
template's) and from a member's against the parent it really has."""

from heat_softorch import graph
from heat_softorch.graph import Group
from heat_softorch.graph import Link
from heat_softorch.graph import Ref
from heat_softorch.graph import model as model_mod
from heat_softorch.graph import stacks
from tests.unit.test_graph import comp
from tests.unit.test_graph import messages
from tests.unit.test_graph import server
from tests.unit.test_graph import stack


def member(*extra, outputs=('url',)):
    """app_member.yaml: agent, server, app reading ../db."""
    return stack(server('server', 'agent'),
                 comp('app', 'agent', inputs=['db_url'], outputs=outputs),
                 Link('db_link', '../db', 'app', {'db_url': 'db_url'}),
                 *extra)


def parent(member_model=None, *extra, size_reads=()):
    model = stack(
        server('db_server', 'db_agent'), server('lb_server', 'lb_agent'),
        comp('db', 'db_agent', outputs=['db_url']),
        comp('lb', 'lb_agent', inputs=['backends']),
        Link('lb_backends', 'app_tier/app', 'lb', {'backends': 'url'}),
        *extra)
    group = Group('app_tier', model_mod.RESOURCE_GROUP,
                  'file:///t/app_member.yaml',
                  member() if member_model is None else member_model,
                  frozenset(size_reads))
    return graph.StackModel(model.components, model.links, dict(
        model.resources, app_tier=graph.Resource(
            'app_tier', type=model_mod.RESOURCE_GROUP)), model.agents,
        {'app_tier': group})


def test_refs_parse_every_form():
    assert Ref.parse('db') == Ref(model_mod.LOCAL, 'db')
    assert Ref.parse('../db') == Ref(model_mod.PARENT, 'db')
    assert Ref.parse('app_tier/app') == Ref(model_mod.GROUP, 'app', 'app_tier')
    for bad in ('../', '../a/b', 'a/b/c', '/a', 'a/', '../../db'):
        assert Ref.parse(bad).kind == model_mod.BAD, bad
    assert str(Ref.parse('app_tier/app')) == 'app_tier/app'


def test_a_parent_and_its_members_check_clean():
    a = graph.analyse(parent())
    assert a.ok, messages(a)
    # No edge in the parent's own DAG: the group is not a component here.
    assert a.dag.number_of_edges() == 0
    assert a.remote_wires_into('lb') == [{
        'kind': 'group', 'group': 'app_tier', 'component': 'app',
        'collect': 'list', 'link': 'lb_backends', 'input': 'backends',
        'output': 'url'}]
    assert a.exported == {'db'}
    assert a.consumers == {'app_tier': {'app': [('lb', 'lb_backends')]}}
    m = graph.analyse(member())
    assert m.ok, messages(m)  # its parent is not known here
    assert m.remote_wires_into('app')[0]['kind'] == 'parent'


def test_links_to_what_the_other_stack_lacks_name_the_template():
    bad_member = stack(
        server('server', 'agent'),
        comp('app', 'agent', inputs=['db_url'], outputs=['url']),
        Link('db_link', '../nosuch', 'app', {'db_url': 'db_url'}),
        Link('url_link', '../db', 'app', {'db_url': 'dburl'}))
    a = graph.analyse(parent(bad_member, Link(
        'more', 'app_tier/appx', 'lb'), Link('size', 'app_tier/app', 'lb',
                                             {'backends': 'uri'})))
    text = '\n'.join(messages(a))
    assert ("app_member.yaml (the members of 'app_tier'): ComponentLink "
            "'db_link': 'from' names '../nosuch', but the parent stack has "
            "no component 'nosuch' (components: db, lb)") in text, text
    assert ("ComponentLink 'url_link': map reads output 'dburl' of '../db',"
            " which 'db' of the parent stack does not declare (declared: "
            "db_url). Did you mean 'db_url'?") in text, text
    assert ("ComponentLink 'more': 'from' names 'app_tier/appx', but "
            "app_member.yaml (the members of 'app_tier') has no component "
            "'appx' (components: app). Did you mean 'app'?") in text, text
    assert ("ComponentLink 'size': map reads output 'uri' of "
            "'app_tier/app', which 'app' in app_member.yaml does not "
            "declare (declared: url). Did you mean 'url'?") in text, text
    # Set by two links: refused as for links within one stack.
    assert "input 'backends' is set by both" in text


def test_a_group_that_is_not_one_and_link_forms():
    a = graph.analyse(parent(None, Link('x', 'db_server/app', 'lb'),
                             Link('y', 'a/b/c', 'lb'),
                             Link('z', 'db', '../lb'),
                             Link('w', 'db', 'lb', collect='map')))
    text = '\n'.join(messages(a))
    assert "'from' names 'db_server/app', but 'db_server' is not a group" \
        in text, text
    assert "'from' is 'a/b/c', which names no component" in text
    assert "'to' names '../lb' in another stack" in text
    assert "collect: map gathers the members of a group" in text


def test_a_cycle_through_a_group_names_both_links():
    looping = member(Link('lb_link', '../lb', 'app'))
    a = graph.analyse(parent(looping))
    assert messages(a) == [
        "Components app_tier/app, lb form a cycle through group 'app_tier' "
        "(members from app_member.yaml): app_tier/app -> lb -> "
        "app_tier/app. Software components must form a DAG across stacks "
        "too; remove one of these edges: app_tier/app -> lb (ComponentLink "
        "'lb_backends'); lb -> app_tier/app (ComponentLink 'lb_link' in "
        "app_member.yaml)."]


def test_a_member_checked_against_the_parent_it_has():
    p = parent()
    assert list(stacks.parent_links(member(), p)) == []
    bad = stack(comp('app', 'agent', inputs=['db_url']),
                Link('db_link', '../db', 'app', {'db_url': 'nope'}))
    assert [x.message for x in stacks.parent_links(
        bad, p, parent_label="the parent stack 'three-tier'")] == [
        "ComponentLink 'db_link': map reads output 'nope' of '../db', "
        "which 'db' of the parent stack 'three-tier' does not declare "
        "(declared: db_url). Declare it in the outputs of 'db'."]
    assert 'is not a member of a group or nested stack' in \
        list(stacks.parent_links(member(), None))[0].message


def test_a_consumer_depends_on_what_the_group_size_reads():
    model = parent(size_reads={'sizer'})
    a = graph.analyse(model)
    assert a.ok, messages(a)
    # The pre-processor adds the size's references to the consumer's
    # reads; the analysis then keeps them as Heat dependencies.
    lb = model.components['lb']
    from dataclasses import replace
    model2 = graph.StackModel(dict(model.components, lb=replace(
        lb, reads=lb.reads | {'sizer'})), model.links, dict(
            model.resources, sizer=graph.Resource('sizer')), model.agents,
        model.groups)
    assert 'sizer' in graph.analyse(model2).heat_dependencies('lb')
