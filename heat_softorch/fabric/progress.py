"""How the engine learns what became of a component.

The engine never waits for another Heat resource, only for agents: an
outcome is read from the component's status record and its host's
liveness. A host whose agent is gone is given a grace period (counted from
the moment the engine first saw it gone, recorded in the host record so
that every engine worker counts from the same moment); after it, the
engine abandons the component, which publishes the failure to everything
downstream at once.
"""

import collections

from kazoo import exceptions as kz_exc

from heat_softorch.fabric import enrollment
from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import records

Outcome = collections.namedtuple('Outcome', 'state message status')
DONE, FAILED, PENDING = 'done', 'failed', 'pending'
# A host's agent as a check sees it (Progress.liveness).
ALIVE, DOWN, LOST = 'alive', 'down', 'lost'

STDERR_LINES = 6
MESSAGE_CHARS = 800


def where(status):
    server, host = status.get('server'), status.get('host')
    if server and server != host:
        return '%s (host %s)' % (server, host)
    return host or '?'


def label(status):
    """'app', or 'app (member 1 of app_tier)' for a group member's."""
    member = status.get('member') or {}
    if member.get('group'):
        return '%s (member %s of %s)' % (status.get('component', '?'),
                                         member.get('name'),
                                         member['group'])
    return status.get('component', '?')


def own_failure(status):
    """'db failed on db_server (host h): CREATE exit 3: <stderr tail>'."""
    text = '%s failed on %s' % (label(status), where(status))
    if status.get('state') == records.ABANDONED:
        return status.get('reason') or text
    detail = []
    if status.get('reason'):
        detail.append(status['reason'])
    elif status.get('exit_code') is not None:
        detail.append('%s exit %s' % (status.get('action', ''),
                                      status['exit_code']))
    err = (status.get('stderr') or '').strip()
    if err:
        detail.append(' | '.join(err.splitlines()[-STDERR_LINES:]))
    if detail:
        text += ': ' + ': '.join(d.strip() for d in detail)
    return text[:MESSAGE_CHARS]


class Progress(object):

    def __init__(self, client, stack_paths, registry, grace_period,
                 boot_timeout):
        self.client = client
        self.paths = stack_paths
        self.registry = registry
        self.grace = grace_period
        self.boot_timeout = boot_timeout
        self.enrollment = enrollment.Registrar(client, stack_paths,
                                               registry.engine_id)

    def read_status(self, host, name, stack=None):
        paths = self.paths
        if stack and stack != self.paths.stack_id:
            paths = zpaths.StackPaths(self.paths.root, stack)
        path = paths.status(host, name)
        try:
            raw, _ = self.client.get(path)
        except kz_exc.NoNodeError:
            return None
        return records.decode(raw, path, 'status')

    def watched(self, host, name):
        """(data paths, children paths) whose change may end a wait: a
        claim answered at once lets an enrolling agent start, and a
        second claim fails the host's components at once."""
        return ([self.paths.status(host, name)],
                [self.paths.liveness(host), self.paths.enroll(host)])

    def describe(self, status):
        root = status.get('root_cause')
        if root and (root.get('host'), root.get('component')) != (
                status.get('host'), status.get('component')):
            upstream = self.read_status(root['host'], root['component'],
                                        root.get('stack'))
            if upstream:
                return ('not run: upstream ' + own_failure(upstream))[
                    :MESSAGE_CHARS]
            return 'not run: upstream %s failed' % root['component']
        return own_failure(status)

    def outcome(self, host, name, epoch, action=records.DEPLOY):
        # The claims on the host are asked for with the status, in the same
        # round trip: a contested enrollment fails the component even if
        # an agent (maybe the thief's) settled it.
        claims = self.client.exists_async(self.paths.enroll(host))
        status = self.read_status(host, name)
        contested = self.enrollment.check(host, claims.get())
        if contested and status is not None:
            self.registry.abandon(host, name, epoch, contested)
            if action == records.DELETE:
                return Outcome(DONE, contested, status)
            return Outcome(FAILED, contested, self.read_status(host, name))
        if status is None:
            return Outcome(FAILED, 'component %s is not registered on host '
                           '%s' % (name, host), None)
        if action == records.DELETE and status.get('request') == \
                records.DELETE and status.get('state') == records.COMPLETE:
            # A DELETE config runs once, whichever operation armed it:
            # across stacks, the engine action of an upstream's stack may
            # have armed it in its own epoch.
            return Outcome(DONE, None, status)
        if status.get('epoch') == epoch:
            state = status.get('state')
            if state == records.COMPLETE and status.get(
                    'request', records.DEPLOY) == action:
                return Outcome(DONE, None, status)
            if state == records.ABANDONED and action == records.DELETE:
                # Given up in this delete because its host is lost, maybe by
                # the delete of an upstream (which waits on its readers):
                # gone, as below.
                return Outcome(DONE, status.get('reason'), status)
            if state in (records.FAILED, records.ABANDONED):
                return Outcome(FAILED, self.describe(status), status)
        lost = self.host_lost(host)
        if lost:
            if action == records.DELETE:
                # Nothing left to run the DELETE config on: let it go.
                self.registry.abandon(host, name, epoch, lost)
                return Outcome(DONE, lost, status)
            self.registry.abandon(host, name, epoch, lost)
            return Outcome(FAILED, lost, self.read_status(host, name))
        return Outcome(PENDING, None, status)

    def alive(self, host):
        try:
            return bool(self.client.get_children(self.paths.liveness(host)))
        except kz_exc.NoNodeError:
            return False

    def liveness(self, host):
        """(ALIVE, None); (DOWN, None) while the agent is gone within its
        grace period (it may be restarting); (LOST, sentence) after it, or
        when the agent never started at all: a check, unlike a deployment,
        does not give a VM its boot time."""
        if self.alive(host):
            self.host_lost(host)  # clears what an earlier absence noted
            return ALIVE, None
        try:
            rec = self.registry.host_record(host)
            seen_raw, _ = self.client.get(self.paths.seen(host))
        except kz_exc.NoNodeError:
            return LOST, 'host %s is gone' % host
        if not seen_raw:
            return LOST, 'the agent on %s has never started' % where(
                dict(host=host, server=rec.get('server')))
        lost = self.host_lost(host)
        return (LOST, lost) if lost else (DOWN, None)

    def host_lost(self, host):
        """None while the host's agent is up or within its grace period;
        else a sentence saying what happened to it (its enrollment
        contested, even if an agent runs: that agent may be a thief's)."""
        contested = self.enrollment.check(
            host, self.client.exists(self.paths.enroll(host)))
        if contested:
            return contested
        if self.alive(host):
            try:
                if self.registry.host_record(host).get('dead_since'):
                    self.registry.update_host(host, dead_since=None)
            except kz_exc.NoNodeError:
                pass
            return None
        try:
            rec = self.registry.host_record(host)
            seen_raw, _ = self.client.get(self.paths.seen(host))
        except kz_exc.NoNodeError:
            return 'host %s is gone' % host
        label = where(dict(host=host, server=rec.get('server')))
        now = records.now()
        if not seen_raw:
            if now - rec.get('created', now) > self.boot_timeout:
                return ('the agent on %s never started (waited %d s since '
                        'the host was created)' % (label, self.boot_timeout))
            return None
        since = rec.get('dead_since')
        if since is None:
            self.registry.update_host(host, dead_since=now)
            return None
        if now - since > self.grace:
            return ('host %s lost: its agent has been gone for %d s '
                    '(grace period %d s)' % (label, now - since, self.grace))
        return None
