"""An agent paused or killed while its script runs, through Heat: the
fault tests' own Heat (convergence, agent session timeout 12 s, grace
period 15 s) and ensemble, the gated chain of test_zookeeper_faults (c0
on VM a runs until the test opens its gate).

tests/functional/test_agent_faults.py does the same to an agent driven by
hand; here it is what a Heat user sees:

- an agent paused past its session timeout while its script runs, resumed
  once the script has finished: nothing; the stack completes, c0 ran once;
- an agent killed while its script runs and started again (systemd's
  Restart=always on a VM): the stack fails naming c0's run as interrupted,
  and `openstack stack update --existing` runs c0 again, then what reads
  it; nothing else runs twice."""

import os
import re
import subprocess

import psutil

from heat_softorch.engine.resources import local_server
from heat_softorch.fabric import records
from tests import fabricenv as fe
from tests.faults import conftest as faults
from tests.faults import test_zookeeper_faults as zkf
from tests import heatenv

ISO_UTC = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'


def server_dir(heat, sid, server):
    rid = heat.resource(sid, server).physical_resource_id
    return os.path.join(heat.run_dir, 'servers', rid)


def agent_process(heat, sid, server):
    """A LocalServer's process is its agent (the user_data execs it)."""
    with open(os.path.join(server_dir(heat, sid, server),
                           'server.pid')) as f:
        return psutil.Process(int(f.read()))


def restart_agent(heat, sid, server):
    """Start a LocalServer's agent again as systemd would on a VM: the
    same command and configuration (the host's credential is kept in its
    state directory), the same environment as the LocalServer gives it.
    server.pid names the new process, so that the server's check and
    delete find it."""
    d = server_dir(heat, sid, server)
    env = dict(os.environ, HOME=d, SOFTORCH_RUN_DIR=heat.run_dir,
               SOFTORCH_STATE_DIR=os.path.join(d, 'agent'),
               **{local_server.MARKER: d})
    env.pop('OS_AUTH_TYPE', None)
    with open(os.path.join(d, 'console.log'), 'ab') as log:
        proc = subprocess.Popen(
            [heatenv.agent_command(), 'agent', '--config',
             os.path.join(d, 'agent', 'agent.ini')],
            cwd=d, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    with open(os.path.join(d, 'server.pid'), 'w') as f:
        f.write('%d\n' % proc.pid)
    return proc


def start_c0_running(heat, tmp_path, prefix):
    """The gated chain with both agents up and c0's run announced RUNNING
    in ZooKeeper: what the fault hits is a run the fabric knows of."""
    sid, runlog, gate = zkf.start_gated(heat, tmp_path, prefix)
    fe.wait_for(lambda: zkf.agents_up(heat, sid) and heat.status(
        sid, 'c0')['state'] == records.RUNNING, timeout=zkf.CREATE_TIMEOUT,
        what='both agents up and c0 announced RUNNING')
    return sid, runlog, gate


def test_an_agent_paused_past_its_session_timeout_while_its_script_runs(
        fault_heat, tmp_path):
    heat = fault_heat
    sid, runlog, gate = start_c0_running(heat, tmp_path, 'agent-pause')
    agent = agent_process(heat, sid, 'server_a')
    host = heat.resource(sid, 'agent_a').physical_resource_id
    liveness = heat.stack_paths(sid).liveness(host)
    agent.suspend()
    try:
        fe.wait_for(lambda: not heat.zk_client.get_children(liveness),
                    timeout=faults.AGENT_SESSION_TIMEOUT + 30, interval=0.2,
                    what="the paused agent's session to expire")
        # c0's script is not paused (its own process group): it ends while
        # its agent cannot publish, or even see that it ended.
        zkf.open_gate(gate)
        fe.wait_for(lambda: zkf.finished(runlog) == ['c0 CREATE'],
                    timeout=zkf.CREATE_TIMEOUT,
                    what='c0 to finish while its agent is paused')
        assert agent.status() == psutil.STATUS_STOPPED
    finally:
        agent.resume()
    status, reason = heat.wait(sid, 'CREATE', zkf.CREATE_TIMEOUT)
    assert status == 'CREATE_COMPLETE', reason
    zkf.assert_converged_once(heat, sid, runlog)
    # The same agent process published c0: resumed, not restarted.
    assert agent_process(heat, sid, 'server_a').pid == agent.pid
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'


def test_an_agent_killed_while_its_script_runs_is_named_and_rerun_by_update(
        fault_heat, tmp_path):
    heat = fault_heat
    sid, runlog, gate = start_c0_running(heat, tmp_path, 'agent-kill')
    agent = agent_process(heat, sid, 'server_a')
    agent.kill()
    agent.wait(20)
    restarted = restart_agent(heat, sid, 'server_a')
    try:
        # The new agent owns the host once the killed one's session has
        # expired, finds c0's run started and never recorded, stops what
        # is left of it and reports it: the script may have half-changed
        # the VM, so only the user may run it again.
        status, reason = heat.wait(
            sid, 'CREATE', faults.AGENT_SESSION_TIMEOUT + zkf.CREATE_TIMEOUT)
        assert status == 'CREATE_FAILED', reason
        interrupted = (r'c0 failed on server_a \(host %s\): interrupted: '
                       r'the agent stopped while CREATE was running '
                       r'\(started %s\); not re-run on its own: a stack '
                       r'update retries it' % (
                           re.escape(heat.resource(
                               sid, 'agent_a').physical_resource_id),
                           ISO_UTC))
        assert re.search(interrupted, reason), reason
        c0 = heat.resource(sid, 'c0')
        assert c0.resource_status == 'CREATE_FAILED'
        assert re.search(interrupted, c0.resource_status_reason), \
            c0.resource_status_reason
        for name in ('c1', 'c2'):
            r = heat.resource(sid, name)
            assert r.resource_status == 'CREATE_FAILED', name
            assert 'not run: upstream c0 failed on server_a' in \
                r.resource_status_reason, r.resource_status_reason
        assert zkf.started(runlog) == ['c0 CREATE']
        assert zkf.finished(runlog) == []

        # The user's move: run it again.
        zkf.open_gate(gate)
        heat.client.stacks.update(sid, existing=True)
        fe.wait_for(lambda: heat.client.stacks.get(sid).stack_status !=
                    'CREATE_FAILED', what='the update to start')
        status, reason = heat.wait(sid, 'UPDATE', zkf.CREATE_TIMEOUT)
        assert status == 'UPDATE_COMPLETE', reason
        assert heat.outputs(sid) == zkf.OUTPUTS
        # c0 twice (the interrupted run, never finished, and the retry),
        # then c1 and c2 once; every run that finished, once.
        assert zkf.started(runlog) == ['c0 CREATE', 'c0 CREATE',
                                       'c1 CREATE', 'c2 CREATE']
        assert zkf.finished(runlog) == ['c0 CREATE', 'c1 CREATE',
                                        'c2 CREATE']
        assert heat.delete(sid)[0] == 'DELETE_COMPLETE'
    finally:
        if restarted.poll() is None:
            restarted.kill()
        restarted.wait(20)
