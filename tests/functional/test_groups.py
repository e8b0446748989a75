"""Replicated components: a group's members read their parent's
components (from: ../db) and the parent reads every member's (from:
app_tier/app), under Heat's real engine with a real ZooKeeper and
LocalServer agents running real scripts."""

import json
import os
import re
import subprocess
import sys
import uuid

import pytest
from heatclient import exc as heat_exc

from heat_softorch.fabric import acls
from heat_softorch.fabric import paths as zpaths
from tests import fabricenv as fe
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


def hosts(heat, sid):
    """{member name: (member stack id, host of its app)} of app_tier."""
    nested = heat.resource(sid, 'app_tier').physical_resource_id
    found = {}
    for r in heat.client.resources.list(nested):
        app = heat.resource(r.physical_resource_id, 'app')
        found[r.resource_name] = (r.physical_resource_id,
                                  app.physical_resource_id.split('/')[0])
    return found


def acl_id(heat, stack_id, host):
    return zk_record(heat, heat.stack_paths(stack_id).host(host))['acl_id']


def zk_record(heat, path):
    raw, _ = heat.zk_client.get(path)
    return json.loads(raw)


def readers(heat, path):
    return acls.readers_of(heat.zk_client.get_acls(path)[0])


def assert_grants(heat, sid):
    """Who reads what across the stacks: each member's host db's outputs
    (and its export record), lb's host each member's outputs; nobody
    else."""
    p = heat.stack_paths(sid)
    db_host = heat.resource(sid, 'db').physical_resource_id.split('/')[0]
    lb_host = heat.resource(sid, 'lb').physical_resource_id.split('/')[0]
    members = hosts(heat, sid)
    member_ids = {acl_id(heat, m, h) for m, h in members.values()}
    assert readers(heat, p.outputs(db_host, 'db')) == member_ids
    assert readers(heat, p.export('db')) == member_ids
    lb_id = acl_id(heat, sid, lb_host)
    assert readers(heat, p.outputs(lb_host, 'lb')) == set()
    assert readers(heat, p.members('app_tier', 'app')) == {lb_id}
    for m, h in members.values():
        assert readers(heat, heat.stack_paths(m).outputs(h, 'app')) == \
            {lb_id}
        assert readers(heat, p.member('app_tier', 'app', h)) == {lb_id}


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
    assert_grants(heat, sid)

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
    # The leaving members' grants went with them.
    assert_grants(heat, sid)

    # The whole stack goes: lb first, the members, db last.
    done = len(runs(runlog))
    assert heat.delete(sid, timeout=200)[0] == 'DELETE_COMPLETE'
    new = runs(runlog)[done:]
    assert new[0] == 'lb DELETE' and new[-1] == 'db DELETE', new
    assert sorted(new[1:-1]) == ['app 0 DELETE db://one',
                                 'app 1 DELETE db://one']
    assert_no_znodes(heat, sid)


def asg_urls(heat, sid):
    """{member name: its app's URL} of app_tier, as Heat lists it now."""
    nested = heat.resource(sid, 'app_tier').physical_resource_id
    return {r.resource_name: 'http://app-%s/?db=db://one' %
            r.physical_resource_id
            for r in heat.client.resources.list(nested)}


def test_a_scaling_policy_signal_reconfigures_lb_without_a_stack_update(
        heat_engines, tmp_path):
    heat = heat_engines('convergence')
    runlog = str(tmp_path / 'runs')
    sid, state = heat.create(stack_name('asg'), 'group_asg.yaml',
                             {'runlog': runlog}, env='env-asg.yaml',
                             timeout=200)
    assert state[0] == 'CREATE_COMPLETE', state
    # collect: map gives {member name: url}.
    assert lb_lists(runs(runlog)) == [asg_urls(heat, sid)]
    assert len(asg_urls(heat, sid)) == 2
    before = heat.client.stacks.get(sid).updated_time

    # Scale out by a policy's signal: Heat updates only the group's
    # nested stack; lb follows the membership in ZooKeeper.
    heat.client.resources.signal(sid, 'scale_up')
    fe.wait_for(lambda: len(lb_lists(runs(runlog))[-1]) == 3, timeout=120,
                what='lb to serve the third member')
    members = asg_urls(heat, sid)
    assert lb_lists(runs(runlog))[-1] == members
    assert len(lb_lists(runs(runlog))) == 2
    assert sum(ln.split()[2] == 'CREATE' for ln in runs(runlog)
               if ln.startswith('app ')) == 3
    stack = heat.client.stacks.get(sid)
    assert (stack.stack_status, stack.updated_time) == ('CREATE_COMPLETE',
                                                        before)

    # Scale in: the oldest member leaves; lb stops using it first. (The
    # group takes a signal only once done with the last one.)
    fe.wait_for(lambda: heat.client.resources.metadata(sid, 'app_tier').get(
        'scaling_in_progress') is False, timeout=120,
        what='the scale-out to end')
    heat.client.resources.signal(sid, 'scale_down')
    fe.wait_for(lambda: any(' DELETE ' in ln for ln in runs(runlog)),
                timeout=120, what="the leaving member's DELETE config")
    fe.wait_for(lambda: len(asg_urls(heat, sid)) == 2, timeout=120,
                what='the group to shrink')
    lines = runs(runlog)
    gone = [ln.split()[1] for ln in lines if ' DELETE ' in ln]
    assert len(gone) == 1
    left = 'http://app-%s/?db=db://one' % gone[0]
    assert left in members.values()
    assert lb_lists(lines)[-1] == asg_urls(heat, sid)
    reconfigured = max(n for n, ln in enumerate(lines)
                       if ln.startswith('lb ') and left not in ln)
    assert reconfigured < lines.index('app %s DELETE db://one' % gone[0])
    assert heat.client.stacks.get(sid).updated_time == before

    assert heat.delete(sid, timeout=200)[0] == 'DELETE_COMPLETE'
    assert_no_znodes(heat, sid)


def test_a_member_replaced_after_mark_unhealthy_is_a_new_member(
        heat_engines, tmp_path):
    # Convergence alone: a replacement is Heat's, the same in either
    # engine for softorch (a new component on a new host, the old one
    # deleted), and the suite keeps within its 20 minutes.
    heat = heat_engines('convergence')
    runlog = str(tmp_path / 'runs')
    params = {'runlog': runlog, 'app_count': 2}
    sid, state = heat.create(stack_name('groupheal'), 'group_parent.yaml',
                             params, timeout=200)
    assert state[0] == 'CREATE_COMPLETE', state
    before = hosts(heat, sid)
    member_stack, old_host = before['1']
    heat.client.resources.mark_unhealthy(member_stack, 'agent', True,
                                         'replace member 1')
    done = len(runs(runlog))
    state = heat.update(sid, 'group_parent.yaml', params, timeout=200)
    assert state[0] == 'UPDATE_COMPLETE', state
    after = hosts(heat, sid)
    # Member 1 is a new member (a new agent, so a new host); member 0 is
    # untouched. The replacement ran CREATE, the one it replaced its
    # DELETE config, once each.
    assert after['0'] == before['0']
    assert after['1'][1] != old_host
    new = runs(runlog)[done:]
    assert sorted(ln for ln in new if ln.startswith('app ')) == [
        'app 1 CREATE db://one', 'app 1 DELETE db://one'], new
    # The roster has the members there are, keyed by their hosts: the
    # replaced one left it, with its grants.
    p = heat.stack_paths(sid)
    assert sorted(zpaths.unsegment(c) for c in heat.zk_client.get_children(
        p.members('app_tier', 'app'))) == sorted(h for _, h in
                                                 after.values())
    assert heat.outputs(sid) == {'backends': json.dumps(urls(range(2)))}
    assert_grants(heat, sid)
    assert heat.delete(sid, timeout=200)[0] == 'DELETE_COMPLETE'
    assert_no_znodes(heat, sid)


def test_a_failing_member_fails_the_stack_naming_member_host_and_code(
        heat, tmp_path):
    runlog = str(tmp_path / 'runs')
    sid, state = heat.create(stack_name('groupfail'), 'group_parent.yaml',
                             {'runlog': runlog, 'app_count': 3, 'fail': '1'},
                             timeout=200)
    assert state[0] == 'CREATE_FAILED', state
    reason = state[1]
    assert re.search(r'app \(member 1 of app_tier\) failed on server '
                     r'\(host agent-[0-9a-f]{6}\)', reason), reason
    # The member's reason reaches the parent through Heat's
    # ResourceFailure._from_status_reason, which splits it at every ':'
    # and joins the parts with ': ' (db://one arrives as db: //one) when
    # the failure comes up as a nested stack's status reason.
    assert 'CREATE exit 7' in reason, reason
    assert 'app 1 cannot reach db://one' in reason.replace(': //', '://'), \
        reason
    # lb did not run with a broken tier.
    assert not lb_lists(runs(runlog))
    assert heat.delete(sid, timeout=200)[0] == 'DELETE_COMPLETE'
    assert_no_znodes(heat, sid)


def bad_templates(tmp_path, member=None, parent=None):
    """group_parent.yaml and group_member.yaml copied into tmp_path, each
    with (old, new) text replaced; the parent's path."""
    for name, change in (('group_member.yaml', member),
                         ('group_parent.yaml', parent)):
        with open(os.path.join(heatenv.TEMPLATES, name)) as f:
            text = f.read()
        if change:
            assert change[0] in text
            text = text.replace(*change)
        (tmp_path / name).write_text(text)
    return str(tmp_path / 'group_parent.yaml')


LB_LINK = ('outputs:\n  url:', '  lb_link:\n    type: OS::SoftOrch::'
           'ComponentLink\n    properties: {from: ../lb, to: app}\noutputs:'
           '\n  url:')


@pytest.mark.parametrize('member, parent, words', [
    (('from: ../db', 'from: ../nosuch'), None,
     "group_member.yaml (the members of 'app_tier'): ComponentLink "
     "'db_link': 'from' names '../nosuch', but the parent stack has no "
     "component 'nosuch' (components: db, lb). Name a component of the "
     "parent stack."),
    (('map: {db_url: db_url}', 'map: {db_url: dburl}'), None,
     "group_member.yaml (the members of 'app_tier'): ComponentLink "
     "'db_link': map reads output 'dburl' of '../db', which 'db' of the "
     "parent stack does not declare (declared: db_url)."),
    (None, ('map: {backends: url}', 'map: {backends: uri}'),
     "ComponentLink 'lb_backends': map reads output 'uri' of "
     "'app_tier/app', which 'app' in group_member.yaml does not declare "
     "(declared: url). Did you mean 'url'?"),
    (LB_LINK, None,
     "Components app_tier/app, lb form a cycle through group 'app_tier' "
     "(members from group_member.yaml): app_tier/app -> lb -> "
     "app_tier/app."),
], ids=['unknown parent component', 'undeclared parent output',
        'undeclared member output', 'cycle through the group'])
def test_links_across_stacks_are_checked_before_anything_runs(
        heat_engines, tmp_path, member, parent, words):
    heat = heat_engines('convergence')
    path = bad_templates(tmp_path, member, parent)
    offline = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), 'softorch'),
         'validate', path, '-e',
         os.path.join(heatenv.TEMPLATES, 'env-local.yaml')],
        capture_output=True, text=True, timeout=120)
    assert offline.returncode == 1 and words in offline.stderr, \
        offline.stderr
    before = set(heat.zk_client.get_children(heatenv.ROOT + '/stacks'))
    with pytest.raises(heat_exc.HTTPBadRequest) as err:
        heat.create(stack_name('badgroup'), path, {'runlog': '/tmp/x'},
                    wait=False)
    assert words in str(err.value), str(err.value)
    assert set(heat.zk_client.get_children(
        heatenv.ROOT + '/stacks')) == before
