"""Running configs: real processes through heat_softorch.agent.hooks."""

from heat_softorch.agent import hooks
from tests import fabricenv as fe


def _script(body):
    return {'tool': 'script', 'config': '#!/bin/sh\n' + body}


def _running(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except FileNotFoundError:
        return False
    # A zombie of an exited parent is reaped by init, never left running.
    return state not in ('Z', 'X')


def test_a_config_past_its_timeout_is_stopped_with_what_it_started(
        tmp_path):
    pidfile = tmp_path / 'child.pid'
    result = hooks.run(_script(
        'sleep 300 &\necho $! > "%s"\necho started\nwait\n' % pidfile),
        {}, [], str(tmp_path / 'work'), timeout=1)
    assert not result.ok
    assert result.error == 'timed out after 1 s'
    assert result.stdout == 'started\n'
    child = int(pidfile.read_text())
    # The background child went with the group. SIGKILL is delivered at
    # once but a process dies when the kernel next schedules it, so allow
    # it a moment; a child the kill missed would sleep for 300 s.
    fe.wait_for(lambda: not _running(child), timeout=10,
                what='the killed background child to stop running')


def test_a_config_within_its_timeout_returns_its_outputs(tmp_path):
    result = hooks.run(_script(
        'printf "%s" "$x" > "$heat_outputs_path.y"\n'),
        {'x': 'value'}, [{'name': 'y'}], str(tmp_path / 'work'), timeout=30)
    assert result.ok, result.error
    assert result.outputs == {'y': 'value'}
