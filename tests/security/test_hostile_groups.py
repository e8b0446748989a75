"""A hostile tenant across the stacks of a group: the owner of a member's
VM, and of the load balancer's VM reading every member, each with its
host's own credential. Each reads exactly what it is wired to; a member
that left the group reads nothing of its parent any more."""

import json
import uuid

import pytest
from kazoo import exceptions as kz_exc

from heat_softorch.fabric import acls
from heat_softorch.fabric import connection
from tests.security import test_hostile as th


@pytest.fixture(scope='module')
def group(heat_engines, tmp_path_factory):
    heat = heat_engines('convergence')
    runlog = str(tmp_path_factory.mktemp('group') / 'runs')
    sid, state = heat.create('hostilegroup-%s' % uuid.uuid4().hex[:6],
                             'group_parent.yaml',
                             {'runlog': runlog, 'app_count': 2}, timeout=200)
    assert state[0] == 'CREATE_COMPLETE', state
    ctx = GroupContext(heat, sid, runlog)
    yield ctx
    ctx.close()
    assert heat.delete(sid, timeout=200)[0] == 'DELETE_COMPLETE'


class GroupContext(object):

    def __init__(self, heat, sid, runlog):
        self.heat, self.sid, self.runlog = heat, sid, runlog
        self.p = heat.stack_paths(sid)
        self.db = self.host_of(sid, 'db')
        self.lb = self.host_of(sid, 'lb')
        nested = heat.resource(sid, 'app_tier').physical_resource_id
        self.members = {r.resource_name: r.physical_resource_id
                        for r in heat.client.resources.list(nested)}
        self.m0, self.m1 = self.members['0'], self.members['1']
        self.h0 = self.host_of(self.m0, 'app')
        self.h1 = self.host_of(self.m1, 'app')
        self.cred1 = acls.credential(self.h1, th.credential(
            heat, self.m1, 'server'))
        self.member = th.connect(heat, acls.credential(
            self.h0, th.credential(heat, self.m0, 'server')))
        self.consumer = th.connect(heat, acls.credential(
            self.lb, th.credential(heat, sid, 'lb_server')))

    def host_of(self, sid, component):
        return self.heat.resource(
            sid, component).physical_resource_id.split('/')[0]

    def close(self):
        connection.close(self.member)
        connection.close(self.consumer)


def member_path(ctx, sid, host, kind):
    paths = ctx.heat.stack_paths(sid)
    return getattr(paths, kind)(host, 'app')


def test_a_member_reads_the_parent_outputs_wired_to_it_and_nothing_else(
        group):
    raw, _ = group.member.get(group.p.outputs(group.db, 'db'))
    assert json.loads(raw)['values'] == {'db_url': 'db://one'}
    export, _ = group.member.get(group.p.export('db'))
    assert json.loads(export)['host'] == group.db
    refused = [
        group.p.outputs(group.lb, 'lb'),            # not wired to it
        group.p.spec(group.db, 'db'),               # db's definition
        group.p.status(group.db, 'db'),
        member_path(group, group.m1, group.h1, 'outputs'),  # a sibling's
        group.p.members('app_tier', 'app'),         # who else is there
        group.p.member('app_tier', 'app', group.h0),
    ]
    for path in refused:
        with pytest.raises(kz_exc.NoAuthError):
            group.member.get(path)
    with pytest.raises(kz_exc.NoAuthError):
        group.member.set(group.p.member('app_tier', 'app', group.h0),
                         b'{"state": "JOINED"}')
    with pytest.raises(kz_exc.NoAuthError):
        group.member.set(group.p.export('db'), b'{"host": "mine"}')


def test_the_consumer_reads_each_member_and_nothing_else_of_them(group):
    assert sorted(group.consumer.get_children(
        group.p.members('app_tier', 'app'))) == sorted([group.h0, group.h1])
    for sid, host in ((group.m0, group.h0), (group.m1, group.h1)):
        rec, _ = group.consumer.get(group.p.member('app_tier', 'app', host))
        assert json.loads(rec)['stack'] == sid
        raw, _ = group.consumer.get(member_path(group, sid, host, 'outputs'))
        assert json.loads(raw)['values']['url'].startswith('http://app-')
        for kind in ('spec', 'status'):
            with pytest.raises(kz_exc.NoAuthError):
                group.consumer.get(member_path(group, sid, host, kind))
        with pytest.raises(kz_exc.NoAuthError):
            group.consumer.set(member_path(group, sid, host, 'outputs'),
                               b'{}')
    for path in (group.p.outputs(group.db, 'db'), group.p.export('db')):
        with pytest.raises(kz_exc.NoAuthError):
            group.consumer.get(path)
    with pytest.raises(kz_exc.NoAuthError):
        group.consumer.create(group.p.member('app_tier', 'app', 'fake'),
                              b'{}')
    with pytest.raises(kz_exc.NoAuthError):
        group.consumer.set(group.p.member('app_tier', 'app', group.h0),
                           b'{"state": "LEAVING"}')


def test_a_member_that_left_reads_nothing_of_its_parent(group):
    heat = group.heat
    state = heat.update(group.sid, 'group_parent.yaml',
                        {'runlog': group.runlog, 'app_count': 1},
                        timeout=200)
    assert state[0] == 'UPDATE_COMPLETE', state
    # Its VM is gone; its credential, kept by whoever owned the VM, is
    # worth nothing: db's outputs and export no longer list it.
    gone = th.connect(heat, group.cred1)
    try:
        for path in (group.p.outputs(group.db, 'db'), group.p.export('db')):
            with pytest.raises(kz_exc.NoAuthError):
                gone.get(path)
    finally:
        connection.close(gone)
    assert group.consumer.get_children(
        group.p.members('app_tier', 'app')) == [group.h0]
