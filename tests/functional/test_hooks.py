"""Running configs: real processes through heat_softorch.agent.hooks."""

import os

from heat_softorch.agent import hooks


def _script(body):
    return {'tool': 'script', 'config': '#!/bin/sh\n' + body}


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
    # The background child went with the group: it no longer runs (a
    # zombie of an exited parent is reaped by init, never left running).
    assert not os.path.exists('/proc/%d' % child) or open(
        '/proc/%d/stat' % child).read().rsplit(')', 1)[1].split()[0] == 'Z'


def test_a_config_within_its_timeout_returns_its_outputs(tmp_path):
    result = hooks.run(_script(
        'printf "%s" "$x" > "$heat_outputs_path.y"\n'),
        {'x': 'value'}, [{'name': 'y'}], str(tmp_path / 'work'), timeout=30)
    assert result.ok, result.error
    assert result.outputs == {'y': 'value'}
