"""Replicated components: a group's members read their parent's
components (from: ../db) and the parent reads every member's (from:
app_tier/app), under Heat's real engine with a real ZooKeeper and
LocalServer agents running real scripts."""

import json
import uuid

import pytest

from tests import heatenv


def stack_name(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:6])


def runs(path):
    return heatenv.read_runlog(path)


def lb_lists(lines):
    """The backend lists lb ran with, in order."""
    return [json.loads(line.split(' ', 2)[2]) for line in lines
            if line.startswith('lb ') and not line.startswith('lb DELETE')]


def app_runs(lines, action):
    return sorted(line.split()[1] for line in lines
                  if line.startswith('app ') and line.split()[2] == action)


def urls(indexes, word='one'):
    return ['http://app-%s/?db=db://%s' % (i, word) for i in indexes]


def assert_no_znodes(heat, sid):
    stacks = set(heat.zk_client.get_children(heatenv.ROOT + '/stacks'))
    assert sid not in stacks


@pytest.mark.parametrize('engine', ['convergence', 'legacy'])
def test_a_group_created_scaled_out_and_in_with_a_stack_update(
        heat_engines, engine, tmp_path):
    heat = heat_engines(engine)
    runlog = str(tmp_path / 'runs')
    params = {'runlog': runlog, 'app_count': 3}
    sid, state = heat.create(stack_name('group'), 'group_parent.yaml',
                             params, timeout=200)
    assert state[0] == 'CREATE_COMPLETE', state
    lines = runs(runlog)
    # Every member read db's value; lb ran once, with all three.
    assert lines[0] == 'db CREATE'
    assert sorted(ln for ln in lines if ln.startswith('app ')) == [
        'app %d CREATE db://one' % i for i in range(3)]
    assert lb_lists(lines) == [urls(range(3))]
    assert lines[-1].startswith('lb CREATE')
    assert heat.outputs(sid) == {'backends': json.dumps(urls(range(3)))}

    # Scale out: only the two new members run; lb re-runs once, with 5.
    done = len(lines)
    state = heat.update(sid, 'group_parent.yaml', dict(params, app_count=5),
                        timeout=200)
    assert state[0] == 'UPDATE_COMPLETE', state
    lines = runs(runlog)
    new = lines[done:]
    assert app_runs(new, 'CREATE') == ['3', '4']
    assert not app_runs(new, 'UPDATE')
    assert [ln.split()[1] for ln in new if ln.startswith('lb ')] == \
        ['UPDATE']
    assert lb_lists(new) == [urls(range(5))]
    assert 'db UPDATE' not in new
    assert heat.outputs(sid) == {'backends': json.dumps(urls(range(5)))}

    # Scale in: lb is reconfigured without 2, 3 and 4 before their
    # DELETE configs run, each once, on its live VM.
    done = len(lines)
    state = heat.update(sid, 'group_parent.yaml', dict(params, app_count=2),
                        timeout=200)
    assert state[0] == 'UPDATE_COMPLETE', state
    new = runs(runlog)[done:]
    assert sorted(ln for ln in new if ' DELETE ' in ln) == [
        'app %d DELETE db://one' % i for i in (2, 3, 4)]
    # lb follows the members as they leave (each leaving member holds an
    # engine thread until lb lets it go): at most one run per leave,
    # each without the members gone so far, the last one with 0 and 1.
    lists = lb_lists(new)
    assert 1 <= len(lists) <= 3 and lists[-1] == urls(range(2)), new
    for i in (2, 3, 4):
        gone = min(n for n, ln in enumerate(new) if ln.startswith('lb ') and
                   urls([i])[0] not in ln)
        assert gone < new.index('app %d DELETE db://one' % i), new
    assert heat.outputs(sid) == {'backends': json.dumps(urls(range(2)))}

    # The whole stack goes: lb first, the members, db last.
    done = len(runs(runlog))
    assert heat.delete(sid, timeout=200)[0] == 'DELETE_COMPLETE'
    new = runs(runlog)[done:]
    assert new[0] == 'lb DELETE' and new[-1] == 'db DELETE', new
    assert sorted(new[1:-1]) == ['app 0 DELETE db://one',
                                 'app 1 DELETE db://one']
    assert_no_znodes(heat, sid)
