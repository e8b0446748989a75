"""The plugin under Heat's real engine code (API, engine and worker in one
process), both engines, with a real ZooKeeper and LocalServer agents
running real scripts."""

import glob
import json
import os
import re
import uuid

import psutil
import pytest
from heatclient import exc as heat_exc
from kazoo import exceptions as kz_exc

from tests import badinput
from tests import fabricenv as fe
from tests import heatenv


def runs(path):
    return heatenv.read_runlog(path)


def stack_name(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:6])


def zk_get(heat, path):
    raw, _ = heat.zk_client.get(path)
    return json.loads(raw)


def assert_stack_gone(heat, sid):
    with pytest.raises(kz_exc.NoNodeError):
        heat.zk_client.get(heat.stack_paths(sid).stack)


def test_diamond_create_update_delete(heat, tmp_path):
    runlog = str(tmp_path / 'runs')
    params = {'runlog': runlog, 'top_delay': 2}
    sid, state = heat.create(stack_name('diamond'), 'diamond.yaml', params)
    assert state[0] == 'CREATE_COMPLETE', state
    assert heat.outputs(sid) == {'joined': 'top-left+top-right'}
    assert sorted(runs(runlog)) == ['join CREATE', 'left CREATE',
                                    'right CREATE', 'top CREATE']
    # The join's Heat create did not wait for its upstreams: it was
    # registered, and waiting in ZooKeeper, while top still ran.
    top = heat.status(sid, 'top')
    join = heat.status(sid, 'join')
    join_host = heat.resource(sid, 'join').physical_resource_id.split('/')[0]
    join_spec = zk_get(heat, heat.stack_paths(sid).spec(join_host, 'join'))
    assert join_spec['registered'] < top['finished']
    assert join['waiting_since'] < top['finished'] <= join['started']
    # In Heat, join waited for the servers of its upstreams' VMs; under
    # convergence a create spares it the edges to their agents (the
    # servers depend on those), and it found right's agent in ZooKeeper.
    assert 'join' in heat.resource(sid, 'server_c').required_by
    assert ('join' in heat.resource(sid, 'agent_c').required_by) == (
        not heat.convergence)
    hosts = {w['component']: w['host'] for w in join_spec['wires']}
    assert hosts['right'] == heat.resource(sid,
                                           'agent_c').physical_resource_id

    # One branch's parameter changes: that branch and the join re-run.
    state = heat.update(sid, 'diamond.yaml', dict(params, left_word='LEFT'))
    assert state[0] == 'UPDATE_COMPLETE', state
    assert heat.outputs(sid) == {'joined': 'top-LEFT+top-right'}
    assert runs(runlog)[4:] == ['left UPDATE', 'join UPDATE']
    assert heat.client.resources.get(
        sid, 'join', with_attr=['joined']).attributes['joined'] == \
        'top-LEFT+top-right'

    # Nothing changes: nothing re-runs.
    state = heat.update(sid, 'diamond.yaml', dict(params, left_word='LEFT'))
    assert state[0] == 'UPDATE_COMPLETE', state
    assert len(runs(runlog)) == 6
    assert heat.status(sid, 'left')['confirmed'] is True

    # Delete: DELETE configs in reverse order, with their last inputs,
    # while the servers were still up; then no zNode is left.
    state = heat.delete(sid)
    assert state[0] == 'DELETE_COMPLETE', state
    deletes = runs(runlog)[6:]
    assert deletes[0] == 'join DELETE top-LEFT top-right'
    assert sorted(deletes[1:3]) == ['left DELETE top LEFT',
                                    'right DELETE top right']
    assert deletes[3] == 'top DELETE'
    assert_stack_gone(heat, sid)
    assert heat.local_servers() == [] or all(
        not os.path.exists(os.path.join(d, 'server.pid'))
        for d in heat.local_servers() if sid in d)


def test_failure_names_host_exit_code_and_stderr(heat, tmp_path):
    runlog = str(tmp_path / 'runs')
    sid, state = heat.create(stack_name('failing'), 'failing.yaml',
                             {'runlog': runlog})
    assert state[0] == 'CREATE_FAILED'
    reason = state[1]
    for part in ('db failed on server_a', 'CREATE exit 3',
                 'No space left on device'):
        assert part in reason, reason
    db = heat.resource(sid, 'db')
    assert db.resource_status == 'CREATE_FAILED'
    assert 'exit 3' in db.resource_status_reason
    # The stack fails with the first failure. Heat may have started the
    # dependent by then (its own thread reports why it did not run, just
    # after) or not at all (app's VM came second: nothing of it ran).
    app = fe.wait_for(lambda: (lambda r: r if r.resource_status !=
                               'CREATE_IN_PROGRESS' else None)(
        heat.resource(sid, 'app')), what='app to settle')
    if app.resource_status != 'INIT_COMPLETE':
        assert app.resource_status == 'CREATE_FAILED'
        assert 'not run: upstream db failed on server_a' in \
            app.resource_status_reason
        assert 'No space left on device' in app.resource_status_reason
    assert runs(runlog) == ['db CREATE']
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'
    assert_stack_gone(heat, sid)


def test_cycle_is_refused_before_anything_runs(heat):
    before = set(heat.zk_client.get_children(heatenv.ROOT + '/stacks'))
    with pytest.raises(heat_exc.HTTPBadRequest) as err:
        heat.create(stack_name('cycle'), 'cycle.yaml')
    message = str(err.value)
    assert 'Components alpha, beta, gamma form a cycle' in message, message
    assert set(heat.zk_client.get_children(
        heatenv.ROOT + '/stacks')) == before


def chain_template(n, delay=0):
    resources = heatenv.two_vms()
    for i in range(n):
        comp = {'agent': {'get_resource': 'agent_' + 'ab'[i % 2]},
                'inputs': [{'name': 'prev'}], 'outputs': [{'name': 'n'}],
                'configs': [{'actions': ['CREATE', 'UPDATE'], 'config':
                             '#!/bin/sh\nsleep %s\necho -n $((${prev:-0} + 1))'
                             ' > $heat_outputs_path.n\n' % delay}]}
        if i:
            comp['input_values'] = {'prev': {'get_attr': ['c%d' % (i - 1),
                                                          'n']}}
        resources['c%d' % i] = {'type': 'OS::SoftOrch::SoftwareComponent',
                                'properties': comp}
    return {'heat_template_version': '2018-08-31', 'resources': resources,
            'outputs': {'last': {'value': {'get_attr': ['c%d' % (n - 1),
                                                        'n']}}}}


def late_vm_template(n):
    """n components on VM a, each reading one on VM b, whose server Heat
    creates only after a slow resource: more waiting components than the
    engine has threads, should their actions start before VM b exists."""
    resources = heatenv.two_vms()
    resources.update({
        'slow': {'type': 'OS::Heat::TestResource', 'properties': {
            'action_wait_secs': {'create': 5}}},
        'u': {'type': 'OS::SoftOrch::SoftwareComponent', 'properties': {
            'agent': {'get_resource': 'agent_b'},
            'outputs': [{'name': 'n'}],
            'configs': [{'actions': ['CREATE'], 'config':
                         '#!/bin/sh\necho -n 1 > $heat_outputs_path.n\n'}]}},
    })
    resources['server_b']['depends_on'] = ['slow']
    for i in range(n):
        resources['d%d' % i] = {
            'type': 'OS::SoftOrch::SoftwareComponent', 'properties': {
                'agent': {'get_resource': 'agent_a'},
                'inputs': [{'name': 'n'}],
                'outputs': [{'name': 'n'}],
                'input_values': {'n': {'get_attr': ['u', 'n']}},
                'configs': [{'actions': ['CREATE'], 'config':
                             '#!/bin/sh\necho -n $((n + %d)) > '
                             '$heat_outputs_path.n\n' % i}]}}
    return {'heat_template_version': '2018-08-31', 'resources': resources,
            'outputs': {'last': {'value': {'get_attr': ['d%d' % (n - 1),
                                                        'n']}}}}


@pytest.mark.parametrize('template, last', [
    (chain_template(40), '40'), (late_vm_template(12), '12')],
    ids=['chain of 40', '12 waiting for a late VM'])
def test_more_waiting_components_than_engine_threads_complete(
        heat_engines, template, last):
    """On an engine with executor_thread_pool_size = 8, a chain of 40
    components, and 12 components reading one on a VM whose server Heat
    creates late: each action waits only for agents whose VMs exist, never
    for another resource's Heat action, so none is left without a
    thread."""
    heat = heat_engines('convergence')
    sid, state = heat.create(stack_name('pool'), template, timeout=300)
    assert state[0] == 'CREATE_COMPLETE', state
    assert heat.outputs(sid) == {'last': last}
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'


def slow_template():
    return {
        'heat_template_version': '2018-08-31',
        'parameters': {'runlog': {'type': 'string'}},
        'resources': {
            'agent': {'type': 'OS::SoftOrch::Agent'},
            'server': {'type': 'OS::Nova::Server', 'properties': {
                'image': 'cirros', 'flavor': 'm1.tiny',
                'user_data_format': 'RAW',
                'user_data': {'get_attr': ['agent', 'user_data']}}},
            'slow': {'type': 'OS::SoftOrch::SoftwareComponent',
                     'properties': {
                         'agent': {'get_resource': 'agent'},
                         'inputs': [{'name': 'runlog'}],
                         'input_values': {'runlog': {'get_param': 'runlog'}},
                         'configs': [{'actions': ['CREATE'], 'config':
                                      '#!/bin/sh\necho started >> $runlog\n'
                                      'sleep 600\n'}]}}}}


def test_an_agent_killed_for_good_fails_the_stack_naming_its_host(
        heat, tmp_path):
    runlog = str(tmp_path / 'runs')
    sid, _ = heat.create(stack_name('lost'), slow_template(),
                         {'runlog': runlog}, wait=False)
    fe.wait_for(lambda: runs(runlog) == ['started'], timeout=120,
                what='the slow script to start')
    server = heat.resource(sid, 'server').physical_resource_id
    pidfile = os.path.join(heat.run_dir, 'servers', server, 'server.pid')
    agent = psutil.Process(int(open(pidfile).read()))
    # The whole VM goes: the agent and the script it runs.
    for p in [agent] + agent.children(recursive=True):
        p.kill()
    status, reason = heat.wait(sid, 'CREATE', timeout=120)
    assert status == 'CREATE_FAILED'
    agent_host = heat.resource(sid, 'agent').physical_resource_id
    assert 'host server (host %s) lost' % agent_host in reason, reason
    assert 'grace period %d s' % heatenv.GRACE in reason
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'
    assert_stack_gone(heat, sid)


SECRET = 'Sekr1t-pa55word-%s' % uuid.uuid4().hex[:6]


def hidden_template():
    return {
        'heat_template_version': '2018-08-31',
        'parameters': {'password': {'type': 'string', 'hidden': True}},
        'resources': {
            'agent': {'type': 'OS::SoftOrch::Agent'},
            'server': {'type': 'OS::Nova::Server', 'properties': {
                'image': 'cirros', 'flavor': 'm1.tiny',
                'user_data_format': 'RAW',
                'user_data': {'get_attr': ['agent', 'user_data']}}},
            'db': {'type': 'OS::SoftOrch::SoftwareComponent',
                   'properties': {
                       'agent': {'get_resource': 'agent'},
                       'inputs': [{'name': 'password', 'hidden': True}],
                       'input_values': {'password':
                                        {'get_param': 'password'}},
                       'outputs': [{'name': 'user'}],
                       'configs': [{'actions': ['CREATE', 'UPDATE'],
                                    'config':
                                    '#!/bin/sh\necho "set password to '
                                    '$password"\necho "warning: '
                                    '$password is weak" >&2\n'
                                    'echo -n admin > '
                                    '$heat_outputs_path.user\n'}]}}}}


def test_a_hidden_input_appears_in_no_event_log_or_status(heat):
    sid, state = heat.create(stack_name('hidden'), hidden_template(),
                             {'password': SECRET})
    assert state[0] == 'CREATE_COMPLETE', state
    status = heat.status(sid, 'db')
    assert 'set password to ***' in status['stdout']
    assert SECRET not in json.dumps(status)
    events = heat.event_details(sid)
    assert any(e.resource_name == 'db' for e in events)
    for e in events:
        assert SECRET not in json.dumps(e.to_dict()), e.to_dict()
    db = heat.client.resources.get(sid, 'db', with_attr=['deploy_stdout'])
    assert SECRET not in json.dumps(db.to_dict())
    server = heat.resource(sid, 'server').physical_resource_id
    console = os.path.join(heat.run_dir, 'servers', server, 'console.log')
    with open(console) as f:
        agent_log = f.read()
    assert 'db: CREATE complete' in agent_log
    assert SECRET not in agent_log
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'
    logs = glob.glob(os.path.join(heat.run_dir, 'log', '*')) + \
        glob.glob(os.path.join(heat.run_dir, 'heat.out'))
    assert logs
    for path in logs:
        with open(path, errors='replace') as f:
            assert SECRET not in f.read(), path


def test_moving_a_component_to_another_agent_replaces_it(heat, tmp_path):
    import yaml
    runlog = str(tmp_path / 'runs')
    params = {'runlog': runlog}
    with open(os.path.join(heatenv.TEMPLATES, 'diamond.yaml')) as f:
        moved = yaml.safe_load(f)
    moved['resources']['left']['properties']['agent'] = {
        'get_resource': 'agent_c'}
    sid, state = heat.create(stack_name('move'), 'diamond.yaml', params)
    assert state[0] == 'CREATE_COMPLETE', state
    old_id = heat.resource(sid, 'left').physical_resource_id
    state = heat.update(sid, moved, params)
    assert state[0] == 'UPDATE_COMPLETE', state
    new_id = heat.resource(sid, 'left').physical_resource_id
    agent_c = heat.resource(sid, 'agent_c').physical_resource_id
    assert new_id == '%s/left' % agent_c != old_id
    # The new one ran CREATE on its new host, the old one its DELETE on
    # the old host; the join's inputs did not change, so it did not re-run.
    assert sorted(runs(runlog)[4:]) == ['left CREATE',
                                        'left DELETE top left']
    assert heat.outputs(sid) == {'joined': 'top-left+top-right'}
    assert heat.status(sid, 'join')['confirmed'] is True
    old_host = old_id.split('/')[0]
    with pytest.raises(kz_exc.NoNodeError):
        heat.zk_client.get(heat.stack_paths(sid).spec(old_host, 'left'))
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'
    assert_stack_gone(heat, sid)


def test_a_failed_update_rolls_back_to_the_previous_specs(heat, tmp_path):
    runlog = str(tmp_path / 'runs')
    params = {'runlog': runlog}
    sid, state = heat.create(stack_name('rollback'), 'diamond.yaml', params)
    assert state[0] == 'CREATE_COMPLETE', state
    state = heat.update(sid, 'diamond.yaml', dict(params, left_word='FAIL'),
                        rollback=True)
    assert state[0] == 'ROLLBACK_COMPLETE', state
    # left failed with FAIL, then ran again with its previous word; the
    # join, whose inputs end up as before, is not re-run.
    assert runs(runlog)[4:] == ['left UPDATE', 'left UPDATE']
    assert heat.outputs(sid) == {'joined': 'top-left+top-right'}
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'


def test_suspend_and_resume_run_their_configs_in_order(heat, tmp_path):
    runlog = str(tmp_path / 'runs')
    sid, state = heat.create(stack_name('suspend'), 'suspend.yaml',
                             {'runlog': runlog})
    assert state[0] == 'CREATE_COMPLETE', state
    heat.client.actions.suspend(sid)
    fe.wait_for(lambda: heat.client.stacks.get(sid).stack_status !=
                'CREATE_COMPLETE', what='suspend to start')
    assert heat.wait(sid, 'SUSPEND')[0] == 'SUSPEND_COMPLETE'
    heat.client.actions.resume(sid)
    fe.wait_for(lambda: heat.client.stacks.get(sid).stack_status !=
                'SUSPEND_COMPLETE', what='resume to start')
    assert heat.wait(sid, 'RESUME')[0] == 'RESUME_COMPLETE'
    # Suspend goes against the DAG, resume with it.
    assert runs(runlog) == ['up CREATE', 'down CREATE', 'down SUSPEND',
                            'up SUSPEND', 'up RESUME', 'down RESUME']
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'


def zk_stacks(heat):
    """The stacks registered in ZooKeeper (none before the first)."""
    try:
        return set(heat.zk_client.get_children(heatenv.ROOT + '/stacks'))
    except kz_exc.NoNodeError:
        return set()


def refusal(heat, template):
    """Heat's answer to creating ``template``: refused at once (400)."""
    with pytest.raises(heat_exc.HTTPBadRequest) as err:
        heat.create(stack_name('bad'), template, wait=False)
    return str(err.value)


@pytest.mark.parametrize('template', [
    badinput.bad_names(), badinput.empty_names(),
    badinput.two_configs_for_update(), badinput.agent_is_a_server()],
    ids=['input and output names', 'empty names', 'two configs for UPDATE',
         'agent is a server'])
def test_bad_input_is_refused_alike_offline_and_by_heat(
        heat_engines, tmp_path, template):
    # Convergence only: the checks run in validate(), as in both engines.
    heat = heat_engines('convergence')
    offline = badinput.validate_template(
        tmp_path, template, '-e', os.path.join(heatenv.TEMPLATES,
                                               'env-local.yaml'))
    assert offline.returncode == 1, offline.stdout
    # '<file>: N problems ...:\n- ...\n- ...': Heat says the same lines.
    problems = offline.stderr.split(': ', 1)[1].strip()
    assert problems.count('\n- ') >= 1, offline.stderr
    before = zk_stacks(heat)
    message = refusal(heat, template)
    assert problems in message, message
    assert zk_stacks(heat) == before


def test_a_template_over_max_template_size_is_refused_alike(
        heat_engines, tmp_path):
    heat = heat_engines('convergence')
    template = badinput.big_template()
    offline = badinput.validate_template(tmp_path, template)
    sentence = re.compile(r'Request limit exceeded: Template size '
                          r'\(\d+ bytes\) exceeds maximum allowed size '
                          r'\(\d+ bytes\)\.')
    expected = sentence.search(offline.stderr)
    assert offline.returncode == 1 and expected, offline.stderr
    message = refusal(heat, template)
    assert sentence.search(message), message
    assert sentence.search(message).group(0) == expected.group(0)
