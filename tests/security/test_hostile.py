"""A hostile tenant against a real stack: a VM owner holding its own
host's credential, an anonymous client, a stranger with a made-up
identity, whoever read the Agent's user_data. Every attempt outside the
attacker's rights is refused by ZooKeeper itself, and the stack still
updates and deletes afterwards.

The attempts are one table (ATTEMPTS), one test each; doc/security.md
shows the same table.
"""

import os
import re
import uuid

import pytest
from kazoo import exceptions as kz_exc
from kazoo import security

from heat_softorch.fabric import acls
from heat_softorch.fabric import connection
from heat_softorch.fabric import enrollment
from heat_softorch.fabric import quotas
from tests import fabricenv as fe
from tests import heatenv

REFUSED = (kz_exc.NoAuthError, kz_exc.QuotaExceededError,
           kz_exc.SessionClosedRequireSaslError)
BIG = b'x' * 1000 * 1000


class Context(object):
    """The stack and the attackers' sessions."""

    def __init__(self, heat, sid, runlog):
        self.heat, self.sid, self.runlog = heat, sid, runlog
        self.paths = heat.stack_paths(sid)
        self.a = self.host_of('producer')
        self.b = self.host_of('consumer')
        self.token_a = user_data_field(heat, sid, 'agent_a', 'enroll_token')
        self.ca = connect(heat, acls.credential(
            self.a, credential(heat, sid, 'server_a')))
        self.token = connect(heat, acls.credential(
            self.a + acls.ENROLL_SUFFIX, self.token_a))
        self.stranger = connect(heat, 'stranger:%s' % uuid.uuid4().hex)

    def host_of(self, component):
        return self.heat.resource(
            self.sid, component).physical_resource_id.split('/')[0]

    def quota(self, path):
        return quotas.quota_path(path) + '/' + quotas.LIMITS

    def close(self):
        for c in (self.ca, self.token, self.stranger):
            connection.close(c)


def connect(heat, cred):
    return fe.connect(heat.zk, cred)


def server_dir(heat, sid, server):
    rid = heat.resource(sid, server).physical_resource_id
    return os.path.join(heat.run_dir, 'servers', rid)


def credential(heat, sid, server):
    """What the VM's owner finds on its disk."""
    with open(os.path.join(server_dir(heat, sid, server), 'agent',
                           'credential')) as f:
        return f.read().strip()


def user_data_field(heat, sid, agent, key):
    """What any project member reads: `openstack stack resource show
    STACK agent` shows the user_data attribute."""
    user_data = heat.resource(sid, agent).attributes['user_data']
    return re.search(r'^%s = (.*)$' % key, user_data, re.M).group(1)


@pytest.fixture(scope='module')
def ctx(heat_engines, tmp_path_factory):
    heat = heat_engines('convergence')
    runlog = str(tmp_path_factory.mktemp('hostile') / 'runs')
    sid, state = heat.create('hostile-%s' % uuid.uuid4().hex[:6],
                             'hostile.yaml', {'runlog': runlog})
    assert state[0] == 'CREATE_COMPLETE', state
    c = Context(heat, sid, runlog)
    yield c
    c.close()


def _trap(c):
    """Children under its lock node with an ACL that shuts the engine out:
    allowed (it may create lock nodes there), and harmless: the engine is
    the super-user and deletes them with the stack (last test)."""
    own = [security.make_acl('digest', acls.digest_id(
        c.a, credential(c.heat, c.sid, 'server_a')), all=True)]
    c.ca.create(c.paths.liveness(c.a) + '/trap', b'', acl=own)
    c.ca.create(c.paths.liveness(c.a) + '/trap/child', b'', acl=own)


def _anonymous(c, how):
    """A session with no identity: ZooKeeper closes it at its first
    request (enforce.auth)."""
    anon = connect(c.heat, None)
    try:
        how(anon)
    finally:
        connection.close(anon)


def _many_lock_children(c):
    for i in range(300):
        c.ca.create(c.paths.liveness(c.a) + '/junk-%d' % i, b'x' * 10000)


def _new_quota(c):
    c.ca.create(quotas.ROOT + '/evil-%s' % uuid.uuid4().hex[:6], b'')


# (what, who, how): how(c) must raise one of REFUSED.
ATTEMPTS = [
    ("read another host's spec (hidden inputs)", 'host',
     lambda c: c.ca.get(c.paths.spec(c.b, 'consumer'))),
    ("read another host's status", 'host',
     lambda c: c.ca.get(c.paths.status(c.b, 'consumer'))),
    ("read another host's record", 'host',
     lambda c: c.ca.get(c.paths.host(c.b))),
    ("list another host's components", 'host',
     lambda c: c.ca.get_children(c.paths.components(c.b))),
    ("list the stack's hosts", 'host',
     lambda c: c.ca.get_children(c.paths.hosts)),
    ("read the stack's manifest", 'host',
     lambda c: c.ca.get(c.paths.stack)),
    ("write another host's status", 'host',
     lambda c: c.ca.set(c.paths.status(c.b, 'consumer'), b'{}')),
    ("write another host's outputs", 'host',
     lambda c: c.ca.set(c.paths.outputs(c.b, 'consumer'), b'{}')),
    ("write its own spec", 'host',
     lambda c: c.ca.set(c.paths.spec(c.a, 'producer'), b'{}')),
    ("delete another host's outputs", 'host',
     lambda c: c.ca.delete(c.paths.outputs(c.b, 'consumer'))),
    ("delete its own status", 'host',
     lambda c: c.ca.delete(c.paths.status(c.a, 'producer'))),
    ("delete its own seen record", 'host',
     lambda c: c.ca.delete(c.paths.seen(c.a))),
    ("create a node beside its own components", 'host',
     lambda c: c.ca.create(c.paths.components(c.a) + '/intruder', b'')),
    ("create a node under another host's component", 'host',
     lambda c: c.ca.create(c.paths.spec(c.b, 'consumer') + '/x', b'')),
    ("set the ACL of its own spec", 'host',
     lambda c: c.ca.set_acls(c.paths.spec(c.a, 'producer'),
                             [security.make_acl('world', 'anyone',
                                                all=True)])),
    ("open its own outputs to everyone", 'host',
     lambda c: c.ca.set_acls(c.paths.outputs(c.a, 'producer'),
                             [security.make_acl('world', 'anyone',
                                                read=True)])),
    ("set the ACL of another host's outputs", 'host',
     lambda c: c.ca.set_acls(c.paths.outputs(c.b, 'consumer'),
                             [security.make_acl('world', 'anyone',
                                                all=True)])),
    ("create a node at the root", 'host',
     lambda c: c.ca.create('/evil-from-A', b'')),
    ("list the root", 'host', lambda c: c.ca.get_children('/')),
    ("create a node under the plugin's root", 'host',
     lambda c: c.ca.create(heatenv.ROOT + '/evil', b'')),
    ("list every stack", 'host',
     lambda c: c.ca.get_children(heatenv.ROOT + '/stacks')),
    ("delete its own outputs quota", 'host',
     lambda c: c.ca.delete(c.quota(c.paths.outputs(c.a, 'producer')))),
    ("raise its own outputs quota", 'host',
     lambda c: c.ca.set(c.quota(c.paths.outputs(c.a, 'producer')),
                        quotas.limits_data(1, 10 ** 9))),
    ("set a quota on another path", 'host', _new_quota),
    ("write its outputs beyond their quota", 'host',
     lambda c: c.ca.set(c.paths.outputs(c.a, 'producer'),
                        b'x' * (heatenv.MAX_OUTPUTS_BYTES + 1))),
    ("write its status beyond its quota", 'host',
     lambda c: c.ca.set(c.paths.status(c.a, 'producer'), b'x' * 200000)),
    ("write 10 kB into its seen record", 'host',
     lambda c: c.ca.set(c.paths.seen(c.a), b'x' * 10000)),
    ("create 300 nodes of 10 kB under its lock node", 'host',
     _many_lock_children),
    ("create a 1 MB node under its lock node", 'host',
     lambda c: c.ca.create(c.paths.liveness(c.a) + '/big', BIG)),
    ("list the root", 'anonymous',
     lambda c: _anonymous(c, lambda k: k.get_children('/'))),
    ("create a node at the root", 'anonymous',
     lambda c: _anonymous(c, lambda k: k.create('/evil-anon', b''))),
    ("list the root", 'stranger', lambda c: c.stranger.get_children('/')),
    ("create a node at the root", 'stranger',
     lambda c: c.stranger.create('/evil-stranger', b'')),
    ("read a host's spec", 'stranger',
     lambda c: c.stranger.get(c.paths.spec(c.a, 'producer'))),
    ("read the password in the enroll node", 'enroll token',
     lambda c: c.token.get(c.paths.enroll(c.a))),
    ("read the host record", 'enroll token',
     lambda c: c.token.get(c.paths.host(c.a))),
    ("delete the host's seen record", 'enroll token',
     lambda c: c.token.delete(c.paths.seen(c.a))),
    ("create a node beside the host's nodes", 'enroll token',
     lambda c: c.token.create(c.paths.host(c.a) + '/evil', b'')),
    ("read the granted password", 'enroll token',
     lambda c: [c.token.get(c.paths.grant(c.a, g)) for g in
                c.heat.zk_client.get_children(c.paths.grants(c.a))]),
]


@pytest.mark.parametrize('what,who,how', ATTEMPTS,
                         ids=['%s: %s' % (w, a) for a, w, _ in ATTEMPTS])
def test_refused(ctx, what, who, how):
    with pytest.raises(REFUSED):
        how(ctx)


def test_harmless_trap_under_the_lock_node(ctx):
    _trap(ctx)
    assert ctx.heat.zk_client.exists(ctx.paths.liveness(ctx.a) +
                                     '/trap/child')


def test_the_token_is_gone_from_the_vm(ctx):
    ini = os.path.join(server_dir(ctx.heat, ctx.sid, 'server_a'), 'agent',
                       'agent.ini')
    with open(ini) as f:
        text = f.read()
    assert 'enroll_token' not in text
    assert 'host = %s' % ctx.a in text


def test_the_stack_still_updates_and_deletes(ctx):
    state = ctx.heat.update(ctx.sid, 'hostile.yaml',
                            {'runlog': ctx.runlog, 'value': 'two'})
    assert state[0] == 'UPDATE_COMPLETE', state
    assert ctx.heat.outputs(ctx.sid) == {'seen': 'two'}
    state = ctx.heat.delete(ctx.sid)
    assert state[0] == 'DELETE_COMPLETE', state
    assert heatenv.read_runlog(ctx.runlog)[-1] == 'consumer DELETE'
    zk = ctx.heat.zk_client
    assert not zk.exists(ctx.paths.stack)
    assert not zk.exists(quotas.quota_path(ctx.paths.stack))


# -- TLS ---------------------------------------------------------------------

def test_a_plaintext_client_cannot_connect(zk_endpoint):
    with pytest.raises(connection.Unreachable) as err:
        connection.connect(zk_endpoint, acls.credential(*fe.ENGINE),
                           timeout=3)
    assert 'speaks TLS' in str(err.value)


def test_a_client_that_does_not_trust_the_ca_cannot_connect(zk_endpoint):
    with pytest.raises(connection.Unreachable) as err:
        connection.connect(zk_endpoint, acls.credential(*fe.ENGINE),
                           timeout=3, tls=connection.TLS(None))
    assert 'not trusted' in str(err.value)


# -- enrollment -------------------------------------------------------------

def _claim_with_stolen_token(heat, sid):
    host = user_data_field(heat, sid, 'agent_a', 'host')
    token = user_data_field(heat, sid, 'agent_a', 'enroll_token')
    secret = acls.new_secret()
    name = enrollment.claim(heat.zk, heat.stack_paths(sid), host, token,
                            secret, tls=fe.tls_of(heat.zk))
    return host, name, secret


def test_a_stolen_token_fails_the_stack_fast(heat_engines, tmp_path):
    """The race: whoever read the user_data claims the host before its VM
    boots. The thief wins the race, and the stack fails as soon as the real
    agent claims, naming the leak, instead of waiting out the boot
    timeout."""
    heat = heat_engines('convergence')
    sid, _ = heat.create('race-%s' % uuid.uuid4().hex[:6], 'hostile.yaml',
                         {'runlog': str(tmp_path / 'runs'),
                          'boot_delay': 4}, wait=False)
    fe.wait_for(lambda: heat.resource(sid, 'agent_a').resource_status ==
                'CREATE_COMPLETE', what='agent_a')
    host, name, secret = _claim_with_stolen_token(heat, sid)
    state = heat.wait(sid, 'CREATE', timeout=120)
    assert state[0] == 'CREATE_FAILED', state
    assert 'host %s was enrolled by another client' % host in state[1]
    assert "the Agent's user_data may have leaked" in state[1]
    producer = heat.resource(sid, 'producer')
    assert producer.resource_status == 'CREATE_FAILED'
    # The real agent was told, and stopped.
    log = os.path.join(server_dir(heat, sid, 'server_a'), 'console.log')
    fe.wait_for(lambda: 'was enrolled by another client' in open(log).read(),
                what='the real agent to report the refusal')
    heat.delete(sid)


def test_a_replayed_token_fails_the_next_operation(heat_engines, tmp_path):
    heat = heat_engines('convergence')
    runlog = str(tmp_path / 'runs')
    sid, state = heat.create('replay-%s' % uuid.uuid4().hex[:6],
                             'hostile.yaml', {'runlog': runlog})
    assert state[0] == 'CREATE_COMPLETE', state
    host, name, secret = _claim_with_stolen_token(heat, sid)
    state = heat.update(sid, 'hostile.yaml', {'runlog': runlog,
                                              'value': 'two'})
    assert state[0] == 'UPDATE_FAILED', state
    assert 'host %s was enrolled by another client' % host in state[1]
    # The replay is refused: its grant says so, and gives no password.
    with pytest.raises(enrollment.EnrollError) as err:
        enrollment.await_grant(heat.zk, heat.stack_paths(sid), host, name,
                               secret, tls=fe.tls_of(heat.zk), patience=30)
    assert 'was enrolled by another client' in str(err.value)
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'


# -- quotas, as our own agent meets them -----------------------------------

def test_outputs_over_the_limit_fail_that_component_clearly(heat_engines):
    heat = heat_engines('convergence')
    sid, state = heat.create('quota-%s' % uuid.uuid4().hex[:6],
                             'quota.yaml', {'size': 100000})
    assert state[0] == 'CREATE_FAILED', state
    big = heat.resource(sid, 'big')
    assert big.resource_status == 'CREATE_FAILED'
    assert 'outputs are 0.1 MB, over the limit of %d bytes per component' % (
        heatenv.MAX_OUTPUTS_BYTES) in big.resource_status_reason
    # Nothing else was hurt: with outputs that fit, the same stack
    # completes (Heat may not have started `small` before the failure).
    state = heat.update(sid, 'quota.yaml', {'size': 1000})
    assert state[0] == 'UPDATE_COMPLETE', state
    assert heat.outputs(sid) == {'ok': 'yes'}
    assert heat.delete(sid)[0] == 'DELETE_COMPLETE'
