"""ZooKeeper going away in the middle of a create, against the real thing:
the fault tests' own ZooKeeper ensemble (three members, stopped and
started on their ports, paused, or its leader killed), their own Heat
(convergence engine, engine session timeout 4 s, outage limit 30 s;
paused, for its session to expire) and LocalServer agents running real
scripts.

What the user sees: a stack that completes with every component run once,
or, once ZooKeeper has been gone longer than the outage limit, a stack that
fails with a reason naming ZooKeeper, its endpoint and how long it was
gone, and that `openstack stack update --existing` converges once
ZooKeeper is back."""

import glob
import os
import re
import time
import uuid

from kazoo import exceptions as kz_exc

from tests import fabricenv as fe
from tests.faults import conftest as faults
from tests import heatenv

CREATE_TIMEOUT = 90
# Longer than the engine's session timeout and than connect_timeout (10 s,
# the longest a resource action used to wait for a reconnection), within
# the outage limit.
OUTAGE = 3 * faults.SESSION_TIMEOUT
# Longer than the engine's session timeout (ZooKeeper expires a session up
# to a tick, 0.5 s, late), shorter than the ensemble's syncLimit (10 s).
PAUSE = faults.SESSION_TIMEOUT + 2


# What the scripts of gated_chain write as their outputs.
OUTPUTS = {'c0': '1', 'c1': '2', 'c2': '3'}


def gated_chain(runlog, gate):
    """c0 on VM a, c1 on VM b reading it, c2 on VM a reading c1. c0 runs
    until the test creates ``gate`` (at most two minutes): the create is
    in progress, every component's Heat action waiting, while ZooKeeper
    goes away. Each script appends "cN ACTION" to ``runlog`` when it
    starts and "cN ACTION done" once it has written its output; the
    stack's outputs are each component's (OUTPUTS)."""
    resources = heatenv.two_vms()
    wait = ('for i in $(seq 600); do [ -e %s ] && break; sleep 0.2; done\n'
            % gate)
    for i, vm in enumerate('aba'):
        body = '#!/bin/sh\necho "c%d $deploy_action" >> %s\n' % (i, runlog)
        if i == 0:
            body += wait + 'echo -n 1 > $heat_outputs_path.n\n'
        else:
            body += 'echo -n $((prev + 1)) > $heat_outputs_path.n\n'
        body += 'echo "c%d $deploy_action done" >> %s\n' % (i, runlog)
        comp = {'agent': {'get_resource': 'agent_' + vm},
                'outputs': [{'name': 'n'}],
                'configs': [{'actions': ['CREATE', 'UPDATE'],
                             'config': body}]}
        if i:
            comp['inputs'] = [{'name': 'prev'}]
            comp['input_values'] = {'prev': {'get_attr': ['c%d' % (i - 1),
                                                          'n']}}
        resources['c%d' % i] = {'type': 'OS::SoftOrch::SoftwareComponent',
                                'properties': comp}
    return {'heat_template_version': '2018-08-31', 'resources': resources,
            'outputs': {c: {'value': {'get_attr': [c, 'n']}}
                        for c in OUTPUTS}}


def start_gated(heat, tmp_path, prefix):
    runlog, gate = str(tmp_path / 'runs'), str(tmp_path / 'gate')
    sid, _ = heat.create('%s-%s' % (prefix, uuid.uuid4().hex[:6]),
                         gated_chain(runlog, gate), wait=False)
    fe.wait_for(lambda: started(runlog) == ['c0 CREATE'],
                timeout=CREATE_TIMEOUT, what='c0 to start')
    return sid, runlog, gate


def started(runlog):
    """The runs the scripts began, "cN ACTION", in order."""
    return [r for r in heatenv.read_runlog(runlog)
            if not r.endswith(' done')]


def finished(runlog):
    """The runs that wrote their output and ended, "cN ACTION"."""
    return [r[:-len(' done')] for r in heatenv.read_runlog(runlog)
            if r.endswith(' done')]


def agents_up(heat, sid, agents=('agent_a', 'agent_b')):
    """Whether every agent of the stack owns its host (is enrolled and
    connected): a fault that must hit running agents waits for this."""
    paths = heat.stack_paths(sid)
    for name in agents:
        host = heat.resource(sid, name).physical_resource_id
        try:
            if not host or not heat.zk_client.get_children(
                    paths.liveness(host)):
                return False
        except kz_exc.NoNodeError:
            return False
    return True


def open_gate(gate):
    with open(gate, 'w'):
        pass


def assert_converged_once(heat, sid, runlog):
    """Every output what the scripts wrote; every component run once."""
    assert heat.outputs(sid) == OUTPUTS
    once = ['c0 CREATE', 'c1 CREATE', 'c2 CREATE']
    assert sorted(started(runlog)) == once
    assert sorted(finished(runlog)) == once


def log_mark(heat):
    """Where each of the engine's logs ends now."""
    return {path: os.path.getsize(path) for path in
            glob.glob(os.path.join(heat.run_dir, 'log', '*'))}


def log_since(heat, mark):
    """What the engine logged after log_mark() gave ``mark``."""
    text = ''
    for path in glob.glob(os.path.join(heat.run_dir, 'log', '*')):
        with open(path, errors='replace') as f:
            f.seek(mark.get(path, 0))
            text += f.read()
    return text


def test_a_zookeeper_restart_mid_create_goes_unnoticed(
        fault_heat, fault_zk, tmp_path):
    sid, runlog, gate = start_gated(fault_heat, tmp_path, 'zk-restart')
    fault_zk.stop()
    open_gate(gate)  # c0 ends while ZooKeeper is down: published later
    fault_zk.start()
    status, reason = fault_heat.wait(sid, 'CREATE', CREATE_TIMEOUT)
    assert status == 'CREATE_COMPLETE', reason
    assert_converged_once(fault_heat, sid, runlog)
    # The agent's session timeout came from [softorch]
    # agent_session_timeout, through the Agent's user_data.
    server = fault_heat.resource(sid, 'server_a').physical_resource_id
    with open(os.path.join(fault_heat.run_dir, 'servers', server, 'agent',
                           'agent.ini')) as f:
        assert 'session_timeout = %d' % faults.AGENT_SESSION_TIMEOUT in \
            f.read()
    assert fault_heat.delete(sid)[0] == 'DELETE_COMPLETE'


def test_zookeeper_down_longer_than_the_session_timeout(fault_heat, fault_zk,
                                                        tmp_path):
    sid, runlog, gate = start_gated(fault_heat, tmp_path, 'zk-down')
    mark = log_mark(fault_heat)
    fault_zk.stop()
    open_gate(gate)
    # Setting up the fault, not timing anything: ZooKeeper stays down
    # longer than the engine's session timeout, within the outage limit.
    time.sleep(OUTAGE)
    fault_zk.start()
    status, reason = fault_heat.wait(sid, 'CREATE', CREATE_TIMEOUT)
    assert status == 'CREATE_COMPLETE', reason
    assert_converged_once(fault_heat, sid, runlog)
    # What an operator reads in heat-engine's log (README).
    log = log_since(fault_heat, mark)
    assert 'lost the connection to ZooKeeper at %s; resource actions wait ' \
        'for it up to %d s' % (fault_zk.endpoint, faults.OUTAGE_LIMIT) in log
    assert re.search(r'ZooKeeper at %s is back after \d+\.\d s' % re.escape(
        fault_zk.endpoint), log), log[-2000:]
    assert fault_heat.delete(sid)[0] == 'DELETE_COMPLETE'


def test_the_ensemble_frozen_mid_create_goes_unnoticed(fault_heat, fault_zk,
                                                       tmp_path):
    """Every member paused (up, answering nobody: a frozen host, a long
    GC pause) for longer than the engine's session timeout, c0 ending
    meanwhile; the agents' sessions (12 s) outlive the pause.

    The pause stays under the ensemble's syncLimit (10 s,
    tools/zookeeper.sh), so the members resume as they were, without an
    election. Whether the engine's session has expired then depends on
    which runs first as they resume, the leader's session expirer or the
    engine's reconnection: either way the user sees nothing, which is
    what this asserts. The next test expires the session for certain."""
    sid, runlog, gate = start_gated(fault_heat, tmp_path, 'zk-pause')
    fault_zk.pause()
    try:
        open_gate(gate)  # c0 ends while ZooKeeper is frozen
        time.sleep(PAUSE)
    finally:
        fault_zk.resume()
    status, reason = fault_heat.wait(sid, 'CREATE', CREATE_TIMEOUT)
    assert status == 'CREATE_COMPLETE', reason
    assert_converged_once(fault_heat, sid, runlog)
    assert fault_heat.delete(sid)[0] == 'DELETE_COMPLETE'


def test_an_expired_engine_session_goes_unnoticed(fault_heat, tmp_path):
    """heat-engine frozen (SIGSTOP: a stalled host) for twice its session
    timeout while the ensemble is healthy: ZooKeeper expires the engine's
    session, and once resumed the engine carries on with a new one and
    re-armed watches. c0 ends meanwhile; the agents never notice."""
    sid, runlog, gate = start_gated(fault_heat, tmp_path, 'engine-pause')
    mark = log_mark(fault_heat)
    fault_heat.pause_engine()
    try:
        open_gate(gate)
        time.sleep(2 * faults.SESSION_TIMEOUT)
    finally:
        fault_heat.resume_engine()
    status, reason = fault_heat.wait(sid, 'CREATE', CREATE_TIMEOUT)
    assert status == 'CREATE_COMPLETE', reason
    assert_converged_once(fault_heat, sid, runlog)
    assert 'Session has expired' in log_since(fault_heat, mark)
    assert fault_heat.delete(sid)[0] == 'DELETE_COMPLETE'


def test_zookeeper_gone_past_the_outage_limit_fails_naming_it(
        fault_heat, fault_zk, tmp_path):
    sid, runlog, gate = start_gated(fault_heat, tmp_path, 'zk-outage')
    fault_zk.stop()
    try:
        status, reason = fault_heat.wait(
            sid, 'CREATE', faults.OUTAGE_LIMIT + CREATE_TIMEOUT)
    finally:
        fault_zk.start()
    assert status == 'CREATE_FAILED'
    match = re.search(r'ZooKeeper at (\S+) unreachable for (\d+) s, longer '
                      r'than the outage limit \(\[softorch\] outage_limit = '
                      r'(\d+) s\)', reason)
    assert match, reason
    assert match.group(1) == fault_zk.endpoint
    assert int(match.group(2)) >= int(match.group(3)) == faults.OUTAGE_LIMIT
    # ZooKeeper is back: the user's move converges the stack, and what
    # had run is not run again.
    open_gate(gate)
    fault_heat.client.stacks.update(sid, existing=True)
    fe.wait_for(lambda: fault_heat.client.stacks.get(sid).stack_status !=
                'CREATE_FAILED', what='the update to start')
    status, reason = fault_heat.wait(sid, 'UPDATE', CREATE_TIMEOUT)
    assert status == 'UPDATE_COMPLETE', reason
    assert started(runlog)[0] == 'c0 CREATE'
    assert fault_heat.outputs(sid) == OUTPUTS
    for runs in (started(runlog), finished(runlog)):
        assert sorted(r.split()[0] for r in runs) == ['c0', 'c1', 'c2']
    assert fault_heat.delete(sid)[0] == 'DELETE_COMPLETE'


def test_the_leader_killed_mid_create_goes_unnoticed(fault_heat, fault_zk,
                                                     tmp_path):
    """The ensemble's leader SIGKILLed while c0 runs, both agents and the
    engine connected: every client's connection drops (the followers too
    close theirs until they have a leader again), the two members left
    elect one and carry the create. The dead member stays dead until the
    stack is complete, as a lost ZooKeeper VM would: two of three is a
    quorum, and a deployment must not need the third. It is started
    again afterwards, for the next test."""
    sid, runlog, gate = start_gated(fault_heat, tmp_path, 'zk-leader')
    fe.wait_for(lambda: agents_up(fault_heat, sid),
                timeout=CREATE_TIMEOUT, what='both agents to be up')
    leader = fault_zk.leader()
    fault_zk.kill_member(leader)
    try:
        open_gate(gate)  # c0 ends while the two left elect a leader
        status, reason = fault_heat.wait(sid, 'CREATE', CREATE_TIMEOUT)
        assert status == 'CREATE_COMPLETE', reason
        assert_converged_once(fault_heat, sid, runlog)
        assert fault_zk.leader() != leader
    finally:
        fault_zk.start_member(leader)
    assert fault_heat.delete(sid)[0] == 'DELETE_COMPLETE'
