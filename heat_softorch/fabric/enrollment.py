"""Enrollment: how a VM's agent gets its host's password, and how a stolen
enroll token is noticed.

The Agent's ``user_data`` carries a one-time enroll token; user_data is
readable by every member of the project (``openstack stack resource show``,
the server's events), so the token must be worth nothing to a reader. It
grants one right: *create* on ``hosts/<h>/enroll``, the claims node, which
holds the host's password but which the token cannot read.

Protocol::

    agent (token + a claim secret made on the VM)      engine
    ---------------------------------------------      ------------------
    create enroll/claim-<id>   {claim id, hostname}
                                                       first claim: create
                                                       grants/claim-<id> =
                                                       the password, readable
                                                       by that claim id only;
                                                       empty the enroll node
    read grants/claim-<id> as the claim id
    -> the password, kept on the VM only

Only the VM knows its claim secret, so only the claimant reads its grant.
Whoever claims first wins; any later claim is refused (its grant says so)
and marks the host ``enroll_conflict``: every component of that host then
fails at once with a reason saying the user_data may have leaked, so a
stolen token is loud whichever side won the race. After the first claim the
token can only add claims, which is to raise that alarm.

Failure behaviour: the engine side is idempotent and may run in any number
of engine processes at once; every one picks the claim created first (its
zxid), grants are created (a NodeExistsError means another process did it)
before the password is removed from the enroll node. A claim's name derives
from its secret, which the agent keeps on disk until it has its password:
an agent restarted anywhere in between makes the same claim again (a
NodeExistsError) and reads the same grant, never a second claim.
"""

import logging
import socket
import threading
import time

from kazoo import exceptions as kz_exc

from heat_softorch.fabric import acls
from heat_softorch.fabric import connection
from heat_softorch.fabric import records

LOG = logging.getLogger(__name__)

CLAIM_PREFIX = 'claim-'
CLAIM_SUFFIX = '.claim'


class EnrollError(Exception):
    """The agent cannot enroll; the message says why and what to do."""


def leaked(host):
    return ('host %s was enrolled by another client; the Agent\'s user_data '
            'may have leaked: replace the Agent (openstack stack resource '
            'mark-unhealthy, then openstack stack update --existing)' % host)


def claim_credential(host, secret):
    return acls.credential(host + CLAIM_SUFFIX, secret)


def claim_id(host, secret):
    return acls.digest_id(host + CLAIM_SUFFIX, secret)


# -- the agent's side ---------------------------------------------------------

def claim_name(host, secret):
    return CLAIM_PREFIX + acls.fingerprint(claim_id(host, secret))


def claim(hosts, stack_paths, host, token, secret, tls=None, timeout=10.0):
    """Make this VM's claim on ``host`` with the enroll token; the claim's
    node name. ``secret`` is the claim secret, kept on the VM."""
    client = connection.connect(
        hosts, acls.credential(host + acls.ENROLL_SUFFIX, token),
        timeout=timeout, tls=tls)
    name = claim_name(host, secret)
    try:
        body = records.encode('claim', {
            'claim_id': claim_id(host, secret), 'host': host,
            'hostname': socket.gethostname(), 'at': records.now()})
        try:
            client.create(stack_paths.enroll(host) + '/' + name, body,
                          acl=acls.claim())
        except kz_exc.NodeExistsError:
            pass  # made before a restart: the same claim
        except kz_exc.NoNodeError:
            raise EnrollError(
                'host %s of stack %s does not exist (any more): its stack was '
                'deleted or its Agent replaced' % (host,
                                                   stack_paths.stack_id))
        except kz_exc.NoAuthError:
            raise EnrollError('the enroll token of host %s is wrong' % host)
        except kz_exc.QuotaExceededError:
            raise EnrollError(
                'host %s has too many enrollment claims already: %s'
                % (host, leaked(host)))
        return name
    finally:
        connection.close(client)


def await_grant(hosts, stack_paths, host, name, secret, tls=None,
                timeout=10.0, log=None, patience=None):
    """The host's password from the grant of claim ``name``, waiting for the
    engine (it answers when one of the host's components is checked) for
    ``patience`` seconds, or as long as it takes. Raises EnrollError when
    the claim is refused or patience ran out."""
    client = connection.connect(hosts, claim_credential(host, secret),
                                timeout=timeout, tls=tls)
    path = stack_paths.grant(host, name)
    arrived = threading.Event()
    deadline = None if patience is None else time.monotonic() + patience
    try:
        while True:
            arrived.clear()
            # exists() needs no right: it watches a node we cannot read yet.
            if client.exists(path, watch=lambda event: arrived.set()):
                break
            if log:
                log('waiting for the engine to accept claim %s of host %s'
                    % (name, host))
                log = None
            left = 60 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise EnrollError('claim %s of host %s not answered after '
                                  '%.0f s' % (name, host, patience))
            arrived.wait(min(left, 60))
        raw, _ = client.get(path)
    finally:
        connection.close(client)
    grant = records.decode(raw, path, 'grant')
    if grant.get('refused'):
        raise EnrollError(grant['refused'])
    return grant['password']


# -- the engine's side --------------------------------------------------------

# (client, enroll path) pairs this process watches: one watch each.
_WATCHED = set()
_WATCHED_LOCK = threading.Lock()


class Registrar(object):
    """Answers the claims on a stack's hosts, as the engine identity.

    Claims are answered from a kazoo watch on each host's claims node,
    set when the Agent resource registers the host (watch()), not only
    from the checks of the host's components: under convergence a
    component's check holds an engine thread, and with every thread taken
    by components waiting for another host's component, that host's own
    check might never run to answer its claim. The checks answer too
    (check()), for a host registered by an engine process that has since
    gone.
    """

    def __init__(self, client, stack_paths, engine_id):
        self.client = client
        self.paths = stack_paths
        self.engine_id = engine_id
        # host -> (claims answered by this process, the conflict or None)
        self._answered = {}

    def watch(self, host):
        """Answer claims on ``host`` as they come, in this process, for as
        long as the node exists (kazoo re-arms the watch after a
        reconnect)."""
        path = self.paths.enroll(host)
        with _WATCHED_LOCK:
            if (id(self.client), path) in _WATCHED:
                return
            _WATCHED.add((id(self.client), path))

        def on_claims(children):
            if children:
                # Off kazoo's event thread, which must not wait on replies.
                self.client.handler.spawn(self._answer_logged, host)
        self.client.ChildrenWatch(path, on_claims)

    def _answer_logged(self, host):
        try:
            self.answer(host)
        except Exception:  # noqa: the host's component checks try again
            LOG.exception('answering the claims on host %s', host)

    def check(self, host, stat):
        """Answer any new claim on ``host``, given the stat of its enroll
        node; a sentence when its enrollment was contested (a second
        claim), else None. No round trip when nothing changed since this
        process last answered."""
        if stat is None or stat.numChildren == 0:
            return None
        count, conflict = self._answered.get(host, (None, None))
        if stat.numChildren == count:
            return conflict
        return self.answer(host)

    def answer(self, host):
        enroll = self.paths.enroll(host)
        try:
            names = self.client.get_children(enroll)
        except kz_exc.NoNodeError:
            return None
        claims = sorted((c for c in (self._claim(host, n) for n in names)
                         if c is not None), key=lambda c: c['zxid'])
        if not claims:
            return None
        first, rest = claims[0], claims[1:]
        self._grant_password(host, first)
        for c in rest:
            self._create_grant(host, c, {'refused': leaked(host)})
        if not rest:
            self._answered[host] = (len(names), None)
            return None
        conflict = {'claims': [
            {'claim': c['name'], 'hostname': c.get('hostname'),
             'at': c.get('at')} for c in claims],
            'reason': leaked(host)}
        self._mark(host, conflict)
        self._answered[host] = (len(names), leaked(host))
        return leaked(host)

    def _claim(self, host, name):
        path = '%s/%s' % (self.paths.enroll(host), name)
        try:
            raw, stat = self.client.get(path)
            rec = records.decode(raw, path, 'claim') or {}
        except (kz_exc.NoNodeError, records.RecordError):
            return None  # not a claim: nothing to answer
        if not isinstance(rec.get('claim_id'), str) or \
                ':' not in rec['claim_id']:
            return None
        return dict(rec, name=name, zxid=stat.czxid)

    def _grant_password(self, host, first):
        enroll = self.paths.enroll(host)
        raw, _ = self.client.get(enroll)
        if not raw:
            return  # granted already: the password left the enroll node
        self._create_grant(host, first, {'password': raw.decode()})
        self.client.set(enroll, b'')
        self._mark(host, None, enrolled={
            'claim': first['name'], 'hostname': first.get('hostname'),
            'at': records.now()})

    def _create_grant(self, host, claim, body):
        grants = self.paths.grants(host)
        try:
            self.client.create(grants, b'', acl=acls.engine_only(
                self.engine_id))
        except kz_exc.NodeExistsError:
            pass
        try:
            self.client.create('%s/%s' % (grants, claim['name']),
                               records.encode('grant', body),
                               acl=acls.grant(self.engine_id,
                                              claim['claim_id']))
        except kz_exc.NodeExistsError:
            pass

    def _mark(self, host, conflict, **fields):
        path = self.paths.host(host)
        for _ in range(25):
            try:
                raw, stat = self.client.get(path)
            except kz_exc.NoNodeError:
                return
            rec = records.decode(raw, path, 'host')
            if conflict is not None:
                fields['enroll_conflict'] = conflict
            if all(rec.get(k) == v for k, v in fields.items()):
                return
            rec.update(fields)
            try:
                self.client.set(path, records.encode('host', rec),
                                version=stat.version)
                return
            except kz_exc.BadVersionError:
                continue
