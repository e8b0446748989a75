"""What a Heat user finds after a fault, and the move that recovers: the
fault tests' own Heat (convergence) and ZooKeeper, LocalServer agents.

- `openstack stack check` asks the agents: CHECK_COMPLETE on a healthy
  stack, CHECK_FAILED naming the host once an agent has been gone past the
  grace period.
- After a heat-engine crash mid-create, `softorch status` says the create
  is orphaned and prints the command that converges it, `stack check`
  says the create never finished, and that command completes the stack
  without running anything again."""

import os
import subprocess
import sys
import uuid

import psutil

from tests import fabricenv as fe
from tests.faults import conftest as faults
from tests.faults import test_zookeeper_faults as zkf

SOFTORCH = os.path.join(os.path.dirname(sys.executable), 'softorch')


def check(heat, sid):
    """`openstack stack check`: (status, reason) once it is done."""
    heat.client.actions.check(sid)
    return heat.wait(sid, 'CHECK', timeout=faults.GRACE + 90)


def kill_vm(heat, sid, server):
    """The whole VM goes: its agent and every process under it."""
    rid = heat.resource(sid, server).physical_resource_id
    with open(os.path.join(heat.run_dir, 'servers', rid,
                           'server.pid')) as f:
        agent = psutil.Process(int(f.read()))
    for p in [agent] + agent.children(recursive=True):
        p.kill()


def test_stack_check_asks_the_agents(fault_heat, tmp_path):
    runlog, gate = str(tmp_path / 'runs'), str(tmp_path / 'gate')
    zkf.open_gate(gate)
    sid, (state, reason) = fault_heat.create(
        'check-%s' % uuid.uuid4().hex[:6], zkf.gated_chain(runlog, gate),
        timeout=zkf.CREATE_TIMEOUT)
    assert state == 'CREATE_COMPLETE', reason
    state, reason = check(fault_heat, sid)
    assert state == 'CHECK_COMPLETE', reason
    assert 'not fully supported' not in reason

    kill_vm(fault_heat, sid, 'server_a')
    # The agent's liveness node goes with its session, some seconds later.
    host = fault_heat.resource(sid, 'agent_a').physical_resource_id
    liveness = fault_heat.stack_paths(sid).liveness(host)
    fe.wait_for(lambda: not fault_heat.zk_client.get_children(liveness),
                timeout=60, what='the agent to be seen gone')
    # The check waits out the grace period (the agent might be
    # restarting), then fails naming the host. Heat checks what depends
    # on a failed resource no further (server_a, c0, c2).
    state, reason = check(fault_heat, sid)
    assert state == 'CHECK_FAILED', reason
    lost = 'host server_a (host %s) lost: its agent has been gone' % host
    assert lost in reason, reason
    assert 'grace period %d s' % faults.GRACE in reason
    agent = fault_heat.resource(sid, 'agent_a')
    assert agent.resource_status == 'CHECK_FAILED'
    assert lost in agent.resource_status_reason
    # VM b and its component are fine.
    for name in ('agent_b', 'c1', 'server_b'):
        assert fault_heat.resource(sid, name).resource_status == \
            'CHECK_COMPLETE', name
    assert fault_heat.delete(sid)[0] == 'DELETE_COMPLETE'


def softorch_status(heat, sid, *args):
    return subprocess.run(
        [SOFTORCH, 'status', sid, '--orphan-after', '3'] + list(args),
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, OS_AUTH_TYPE='none', OS_ENDPOINT=heat.endpoint,
                 SOFTORCH_CONFIG_FILE=heat.conf))


def test_an_engine_crash_mid_create_is_named_and_converged(
        fault_heat, tmp_path):
    heat = fault_heat
    sid, runlog, gate = zkf.start_gated(heat, tmp_path, 'crash')
    # Every component's Heat action under way, c0 running on its VM, both
    # agents up: an agent that has not enrolled yet waits for an engine to
    # accept its claim, and would wait for the engine to come back.
    fe.wait_for(lambda: all(
        heat.resource(sid, c).resource_status == 'CREATE_IN_PROGRESS'
        for c in ('c0', 'c1', 'c2')) and zkf.agents_up(heat, sid),
        timeout=zkf.CREATE_TIMEOUT,
        what='every component to be in progress and every agent up')
    heat.crash_engine()
    try:
        zkf.open_gate(gate)
        # The agents finish without Heat; nothing tells Heat.
        fe.wait_for(lambda: len(zkf.finished(runlog)) == 3,
                    timeout=zkf.CREATE_TIMEOUT, what='the agents to finish')
    finally:
        heat.start_engine()
    assert heat.client.stacks.get(sid).stack_status == 'CREATE_IN_PROGRESS'

    def orphan_named():
        r = softorch_status(heat, sid)
        assert r.returncode == 0, r.stderr
        return r.stdout if 'orphaned:' in r.stdout else None
    out = fe.wait_for(orphan_named, timeout=60, interval=1,
                      what='softorch status to call the create orphaned')
    assert "orphaned: Heat's CREATE has had no heat-engine working on it" \
        in out, out
    command = 'openstack stack update --existing %s' % \
        heat.client.stacks.get(sid).stack_name
    assert 'Converge it with: %s' % command in out, out

    # stack check no longer hides it.
    state, reason = check(heat, sid)
    assert state == 'CHECK_FAILED', reason
    assert 'its CREATE never finished in Heat' in reason, reason
    assert command in reason

    # The user's move converges the stack; nothing runs again.
    heat.client.stacks.update(sid, existing=True)
    state, reason = heat.wait(sid, 'UPDATE', zkf.CREATE_TIMEOUT)
    assert state == 'UPDATE_COMPLETE', reason
    zkf.assert_converged_once(heat, sid, runlog)
    r = softorch_status(heat, sid)
    assert 'orphaned' not in r.stdout
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'
