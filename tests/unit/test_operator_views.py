"""The pure parts of the operator's commands: rows, sentences, the plan's
verdicts, the critical path and the pictures, on hand-made views."""

import argparse

from heat_softorch.cmd import access
from heat_softorch.cmd import graph
from heat_softorch.cmd import plan
from heat_softorch.cmd import status
from heat_softorch.cmd import timeline
from heat_softorch.fabric import registry


def spec(name, host, epoch='e2', generation=1, values=None, wiring=(),
         configs=None, hidden=()):
    body = {'name': name, 'host': host, 'server': host + '-server',
            'epoch': epoch, 'generation': generation, 'action': 'DEPLOY',
            'registered': 100.0,
            'configs': configs or {'CREATE': {'tool': 'script',
                                              'config': 'true',
                                              'options': {}}},
            'inputs': [{'name': k, 'type': 'String', 'hidden': k in hidden}
                       for k in sorted(values or {})],
            'values': dict(values or {}), 'outputs': [], 'options': {},
            'timeout': 3600, 'wiring': list(wiring)}
    body['digest'] = registry.definition_digest(body)
    return body


def comp(name, host, agent, state, epoch='e2', status_epoch=None, **st):
    s = spec(name, host, epoch)
    status_rec = dict(st, state=state, epoch=status_epoch or epoch,
                      component=name, host=host)
    return {'name': name, 'host': host, 'agent': agent,
            'server': host + '-server', 'replaced': False, 'spec': s,
            'status': status_rec,
            'current': status_rec['epoch'] == s['epoch'],
            'publication': {}, 'readers': []}


def a_view():
    return {
        'stack_id': 'sid', 'path': '/softorch/stacks/sid', 'read_at': 200.0,
        'manifest': {'epoch': 'e2', 'action': 'CREATE', 'agents': ['a', 'b'],
                     'components': {
                         'db': {'agent': 'a', 'servers': ['a-server'],
                                'upstream': []},
                         'app': {'agent': 'b', 'servers': ['b-server'],
                                 'upstream': [['db_url', 'db', 'url']]},
                         'web': {'agent': 'b', 'servers': ['b-server'],
                                 'upstream': [[None, 'app', None]]}}},
        'hosts': [
            {'host': 'ha', 'agent': 'a', 'server': 'a-server', 'alive': True,
             'seen': {'started': 50.0}, 'dead_since': None,
             'components': ['db'], 'created': 40.0},
            {'host': 'hb', 'agent': 'b', 'server': 'b-server',
             'alive': False, 'seen': {'started': 50.0},
             'dead_since': 190.0, 'components': ['app', 'web'],
             'created': 40.0}],
        'components': [
            comp('app', 'hb', 'b', 'WAITING', waiting_since=150.0,
                 waiting_on=[{'component': 'db', 'output': 'url',
                              'host': 'ha', 'server': 'a-server'}]),
            comp('db', 'ha', 'a', 'RUNNING', waiting_since=110.0,
                 started=110.0),
            comp('web', 'hb', 'b', 'COMPLETE', status_epoch='e1',
                 started=10.0, finished=12.0)],
        'waiting': [],
    }


def test_durations():
    assert status.duration(0.123) == '123ms'
    assert status.duration(0.0042) == '4ms'
    assert status.duration(3.25) == '3.2s'
    assert status.duration(42) == '42s'
    assert status.duration(185) == '3m05s'
    assert status.duration(7500) == '2h05m'
    assert status.duration(None) == ''


def test_status_rows_say_who_waits_on_what():
    rows = {r['component']: r for r in status.component_rows(a_view(),
                                                             now=200.0)}
    assert rows['app']['detail'] == ['waiting on db.url @ a-server']
    assert rows['app']['timing'] == 'waiting for 50s'
    assert rows['db']['timing'] == 'running for 1m30s'
    # web's status is from an earlier operation: not taken up yet, and
    # its agent is down.
    assert rows['web']['state'] == 'PENDING'
    assert rows['web']['detail'] == ['its agent is not running']
    assert [r['component'] for r in status.component_rows(a_view())] == \
        ['db', 'app', 'web']
    agents = status.agent_rows(a_view(), now=200.0)
    assert [(a['agent'], a['state'], a['timing']) for a in agents] == [
        ('a', 'alive', 'up for 2m30s'), ('b', 'DOWN', 'gone for 10s')]


def test_failure_text():
    st = {'component': 'db', 'state': 'FAILED', 'exit_code': 3,
          'action': 'CREATE', 'stderr': 'a\nb\n\nc\nd\n'}
    assert status.failure_text(st) == ['exit 3 (CREATE)', 'b', 'c', 'd']
    down = {'component': 'app', 'state': 'FAILED',
            'root_cause': {'component': 'db', 'host': 'ha'}}
    assert status.failure_text(down, {'db': {
        'server': 'a-server', 'status': st}}) == [
        'not run: upstream db failed (exit 3 on a-server)']
    assert status.waiting_text([{'component': 'x', 'output': None,
                                 'host': 'h'}]) == 'waiting on x @ h'


def test_pictures_from_a_live_view():
    pic = graph.picture_from_view(a_view(), 'stack s')
    assert [g['components'] for g in pic['groups']] == [['db'],
                                                        ['app', 'web']]
    assert pic['nodes']['db']['state'] == 'RUNNING'
    edges = {(e['from'], e['to']): e for e in pic['edges']}
    assert edges['db', 'app']['carries'] == [('db_url', 'url')]
    assert edges['app', 'web']['ordering'] is True
    text = graph.to_mermaid(pic)
    assert 'n1 -->|"db_url \u2190 db.url"| n0' in text
    assert 'n0 -.->|after| n2' in text
    assert 'agent: b (DOWN)' in text
    assert 'class n1 running' in text
    dot = graph.to_graphviz(pic).source
    assert dot.count('subgraph cluster_') == 2
    assert 'style=dashed' in dot


def test_critical_path_follows_the_upstream_that_finished_last():
    rows = [{'component': n, 'end': e} for n, e in (
        ('top', 10.0), ('left', 12.0), ('right', 15.0), ('join', 16.0),
        ('lone', 11.0))]
    ups = {'join': ['left', 'right'], 'left': ['top'], 'right': ['top']}
    assert timeline.critical_path(rows, ups) == ['top', 'right', 'join']
    assert timeline.critical_path([], ups) == []


def test_timeline_bars():
    view = a_view()
    bars = {b['component']: b for b in timeline.bars(view, now=200.0)}
    assert sorted(bars) == ['app', 'db']   # web is from an earlier epoch
    assert bars['db']['running'] == (110.0, 200.0)
    assert bars['app']['waiting'] == (150.0, 200.0)
    assert bars['app']['running'] is None


def _new(spec_body, agent, unknown=None):
    return {'spec': spec_body, 'agent': agent, 'unknown': unknown or {},
            'hidden': {i['name'] for i in spec_body['inputs']
                       if i['hidden']}}


def _stored(spec_body, agent, **status_fields):
    st = {'state': 'COMPLETE', 'last_ok': {'digest': spec_body['digest'],
                                           'run_key': 'k'}}
    st.update(status_fields)
    return {'spec': spec_body, 'agent': agent, 'status': st}


def test_plan_verdicts():
    wire = [{'input': 'up', 'component': 'top', 'output': 'word'}]
    old = {'top': spec('top', 'h1'),
           'left': spec('left', 'h2', values={'word': 'left'},
                        wiring=wire),
           'right': spec('right', 'h3', values={'pw': 's1'}, wiring=wire,
                         hidden=('pw',)),
           'gone': spec('gone', 'h1'),
           'moved': spec('moved', 'h1'),
           'join': spec('join', 'h1', wiring=[
               {'input': 'l', 'component': 'left', 'output': 'word'}])}
    stored = {n: _stored(s, {'h1': 'a', 'h2': 'b', 'h3': 'c'}[s['host']])
              for n, s in old.items()}
    new = {
        'top': _new(spec('top', 'x'), 'a',
                    unknown={'values.ip': ['server.first_address']}),
        'left': _new(spec('left', 'x', values={'word': 'LEFT'},
                          wiring=wire), 'b'),
        'right': _new(spec('right', 'x', values={'pw': 's2'}, wiring=wire,
                           hidden=('pw',)), 'c'),
        'moved': _new(spec('moved', 'x'), 'b'),
        'join': _new(old['join'], 'a'),
        'fresh': _new(spec('fresh', 'x'), 'a'),
    }
    preds = {'left': ['top'], 'right': ['top'], 'join': ['left']}
    order = ['fresh', 'moved', 'top', 'left', 'right', 'join']
    entries = {e['component']: e for e in plan.classify(stored, new, preds,
                                                        order)}
    got = {n: (e['verdict'], e['action']) for n, e in entries.items()}
    assert got == {
        'fresh': ('certain', 'CREATE'), 'moved': ('certain', 'REPLACE'),
        'top': ('uncertain', 'UPDATE'), 'left': ('certain', 'UPDATE'),
        'right': ('certain', 'UPDATE'), 'join': ('uncertain', 'UPDATE'),
        'gone': ('certain', 'DELETE')}
    assert entries['left']['reasons'] == [
        "definition changed: input word: 'left' \u2192 'LEFT'"]
    assert entries['right']['reasons'] == [
        'definition changed: input pw changed (hidden)']
    assert 's1' not in str(entries) and 's2' not in str(entries)
    assert 'input ip comes from server.first_address' in \
        entries['top']['reasons'][0]
    assert entries['join']['reasons'] == ["re-runs if left's outputs change"]
    assert entries['join']['sources'] == ['left']
    assert 'moved from agent a to b' in entries['moved']['reasons'][0]


def test_plan_reruns_what_failed_last_time():
    s = spec('db', 'h1')
    stored = {'db': _stored(s, 'a', state='FAILED', dirty=True)}
    entries = plan.classify(stored, {'db': _new(s, 'a')}, {}, ['db'])
    assert (entries[0]['verdict'], entries[0]['reasons']) == (
        'certain', ['its last attempt failed'])
    stored = {'db': _stored(s, 'a', last_ok=None)}
    entries = plan.classify(stored, {'db': _new(s, 'a')}, {}, ['db'])
    assert (entries[0]['action'], entries[0]['reasons']) == (
        'CREATE', ['it has never completed'])
    stored = {'db': _stored(s, 'a')}
    entries = plan.classify(stored, {'db': _new(s, 'a')}, {}, ['db'])
    assert entries[0]['verdict'] == 'unchanged'


def test_definition_changes_name_configs_wiring_and_timeout():
    a = spec('x', 'h', wiring=[{'input': 'i', 'component': 'u',
                                'output': 'o'}])
    b = dict(a, timeout=60, configs={'CREATE': {
        'tool': 'script', 'config': 'false', 'options': {}},
        'DELETE': {'tool': 'script', 'config': 'true', 'options': {}}},
        wiring=[{'input': None, 'component': 'u', 'output': None}])
    changes, undecided = plan.definition_changes(a, b)
    assert changes == ['CREATE config changed (config)', 'new DELETE config',
                       'timeout 3600 \u2192 60',
                       'wiring changed: +after u, -i \u2190 u.o']
    assert undecided == []
    changes, undecided = plan.definition_changes(a, b, unknown={'configs'})
    assert 'new DELETE config' not in changes
    assert undecided == ['configs']


def test_zookeeper_settings_from_heat_conf_and_flags(tmp_path):
    conf = tmp_path / 'heat.conf'
    conf.write_text('[DEFAULT]\ndebug = %(x)s\n[softorch]\n'
                    'zookeeper_hosts = a:1, b:2\nengine_password = pw\n'
                    'root_path = /r\n')

    def args(**kw):
        base = dict(config_file=str(conf), zookeeper=None, root=None,
                    engine_user=None, engine_password=None)
        base.update(kw)
        return argparse.Namespace(**base)
    s = access.zookeeper_settings(args())
    assert (s['zookeeper_hosts'], s['engine_password'], s['root_path'],
            s['engine_user']) == ('a:1,b:2', 'pw', '/r', 'softorch-engine')
    s = access.zookeeper_settings(args(zookeeper='c:3', root='/q'))
    assert (s['zookeeper_hosts'], s['root_path']) == ('c:3', '/q')


def test_heat_client_from_the_environment():
    assert access.heat_client({}) == (None, None)
    client, where = access.heat_client({'OS_AUTH_TYPE': 'none',
                                        'OS_ENDPOINT': 'http://h:1/v1/x'})
    assert where == 'http://h:1/v1/x'
    assert client is not None
