"""A finished run is published, never repeated: real agent processes
paused, fenced out, killed and restarted around a real script, against a
real ZooKeeper.

The script announces itself in a run log, then waits for a gate file the
test opens, so each test chooses what the agent misses without guessing
how long anything takes.
"""

import os
import re
import signal

import pytest

from heat_softorch.fabric import acls
from heat_softorch.fabric import connection
from heat_softorch.fabric import hostside
from heat_softorch.fabric import progress
from heat_softorch.fabric import records
from tests import fabricenv as fe

GATED = ('echo "$deploy_resource_name $deploy_action" >> "$runlog"\n'
         'while [ ! -e "$gate" ]; do sleep 0.05; done\n'
         'echo -n "made by $deploy_action" > "$heat_outputs_path.thing"\n'
         'touch "$gate.passed"\n')
ISO_UTC = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ'


@pytest.fixture
def stack(zk_endpoint, tmp_path):
    s = fe.FabricStack(zk_endpoint, str(tmp_path))
    yield s
    for proc in s.agents.values():
        proc.send_signal(signal.SIGCONT)  # a failed test may leave it stopped
    s.close()


def gated(tmp_path):
    runlog, gate = str(tmp_path / 'runs'), str(tmp_path / 'gate')
    comp = fe.component('once', 'h1', {'CREATE': fe.script_config(GATED),
                                       'UPDATE': fe.script_config(GATED)},
                        inputs=['runlog', 'gate'],
                        values={'runlog': runlog, 'gate': gate},
                        outputs=['thing'])
    return comp, runlog, gate


def runs(runlog):
    return [a for n, a, *_ in fe.read_runs(runlog) if n == 'once']


def start_and_pause_mid_run(stack, runlog):
    """The agent stopped (SIGSTOP) while its script runs, kept stopped
    until ZooKeeper expired its session."""
    fe.wait_for(lambda: runs(runlog), what='the script to start')
    fe.wait_for(lambda: stack.status('h1', 'once')['state'] ==
                records.RUNNING, what='the run to be announced RUNNING')
    stack.agents['h1'].send_signal(signal.SIGSTOP)
    fe.wait_for(lambda: not stack.progress.alive('h1'),
                what="the stopped agent's session to expire")


def finish_script(gate):
    open(gate, 'w').close()
    fe.wait_for(lambda: os.path.exists(gate + '.passed'),
                what='the script to finish')


def assert_complete_once(stack, comp, runlog):
    out = stack.wait_settled('h1', 'once')
    assert out.state == progress.DONE, out.message
    assert stack.publication('h1', 'once')['values'] == {
        'thing': 'made by CREATE'}
    assert runs(runlog) == ['CREATE']
    # The same template again confirms what ran; it does not run it again.
    stack.register([comp])
    out = stack.wait_settled('h1', 'once')
    assert out.state == progress.DONE, out.message
    assert out.status['confirmed'] is True
    assert runs(runlog) == ['CREATE']


def test_a_run_finished_while_the_agent_was_paused_is_published_once(
        stack, tmp_path):
    comp, runlog, gate = gated(tmp_path)
    stack.add_host('h1')
    stack.start_agent('h1')
    stack.register([comp])
    start_and_pause_mid_run(stack, runlog)
    finish_script(gate)
    stack.agents['h1'].send_signal(signal.SIGCONT)
    fe.wait_for(lambda: stack.progress.alive('h1'),
                what='the agent to own its host again')
    assert_complete_once(stack, comp, runlog)


@pytest.mark.parametrize('newer_epoch', [False, True],
                         ids=['same-epoch', 'engine-moved-on'])
def test_a_result_kept_on_disk_is_published_by_the_next_agent_process(
        stack, zk_endpoint, tmp_path, newer_epoch):
    comp, runlog, gate = gated(tmp_path)
    stack.add_host('h1')
    stack.start_agent('h1')
    stack.register([comp])
    start_and_pause_mid_run(stack, runlog)
    # Hold the host as its agent would: resumed, the agent records its
    # result but cannot take its host back, so cannot publish.
    password = stack.passwords['h1']
    holder = fe.connect(zk_endpoint, acls.credential('h1', password),
                        default_acl=acls.agent_created(
                            acls.digest_id('h1', password)))
    try:
        hostside.HostSide(holder, stack.paths, 'h1').acquire('test holder')
        finish_script(gate)
        stack.agents['h1'].send_signal(signal.SIGCONT)
        log = os.path.join(stack.workdir, 'h1.log')
        fe.wait_for(lambda: 'once: CREATE result kept on this VM' in open(
            log).read(), what='the agent to keep its result on disk')
        stack.kill_agent('h1')
    finally:
        connection.close(holder)
    assert stack.status('h1', 'once')['state'] == records.RUNNING
    if newer_epoch:
        # A stack update while the agent is away: the run it finished
        # counts as the last success of the new epoch too.
        stack.register([comp])
    stack.start_agent('h1')
    if newer_epoch:
        out = stack.wait_settled('h1', 'once')
        assert out.state == progress.DONE, out.message
        assert out.status['confirmed'] is True
    assert_complete_once(stack, comp, runlog)


def test_an_agent_killed_mid_run_reports_it_interrupted(stack, tmp_path):
    comp, runlog, gate = gated(tmp_path)
    stack.add_host('h1')
    stack.start_agent('h1')
    stack.register([comp])
    fe.wait_for(lambda: runs(runlog), what='the script to start')
    stack.kill_agent('h1')
    stack.start_agent('h1')
    out = stack.wait_settled('h1', 'once')
    assert out.state == progress.FAILED
    assert re.search(r'interrupted: the agent stopped while CREATE was '
                     r'running \(started %s\)' % ISO_UTC, out.message), \
        out.message
    assert runs(runlog) == ['CREATE']
    # Not re-run on its own; a stack update runs it again.
    open(gate, 'w').close()
    stack.register([comp])
    out = stack.wait_settled('h1', 'once')
    assert out.state == progress.DONE, out.message
    assert runs(runlog) == ['CREATE', 'CREATE']
