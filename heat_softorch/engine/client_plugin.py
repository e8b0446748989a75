"""The engine's ZooKeeper connection, as a Heat client plugin.

One kazoo client per engine process, made on first use: heat-engine loads
plugins in its parent before forking its workers, and a connection made
there would be shared, broken, by every child. The client is keyed by pid
so that a forked worker makes its own.
"""

import os
import threading
import time

from heat.common import exception
from heat.engine.clients import client_plugin
from kazoo import exceptions as kz_exc
from kazoo.protocol import states
from kazoo import retry as kz_retry
from oslo_config import cfg
from oslo_log import log as logging

from heat_softorch.engine import options
from heat_softorch.fabric import acls
from heat_softorch.fabric import changes
from heat_softorch.fabric import connection
from heat_softorch.fabric import ensemble
from heat_softorch.fabric import family
from heat_softorch.fabric import outage as outage_mod
from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import progress
from heat_softorch.fabric import registry

LOG = logging.getLogger(__name__)
options.register()

_LOCK = threading.Lock()
_SHARED = {}   # pid -> (client, feed)
_OUTAGES = {}  # pid -> Outage
_LAST_FAILED = {}  # pid -> (monotonic time, Unreachable) of a failed connect

# A client that kazoo no longer reconnects: replace it.
_DEAD_STATES = (states.KeeperState.CLOSED, states.KeeperState.AUTH_FAILED)
RETRYABLE = outage_mod.CONNECTION_ERRORS + (connection.Unreachable,)


class NotConfigured(Exception):
    pass


class ZooKeeperUnreachable(Exception):
    """ZooKeeper has been out of reach longer than [softorch] outage_limit;
    the message names the endpoints and how long it was gone."""


class StillDown(Exception):
    """A bounded ride-out ended with ZooKeeper still out of reach, within
    the outage limit: a check says "not yet" and Heat asks again."""


def outage():
    """This process's Outage: one clock for every resource action."""
    pid = os.getpid()
    with _LOCK:
        if pid not in _OUTAGES:
            _OUTAGES[pid] = outage_mod.Outage()
        return _OUTAGES[pid]


def _hosts():
    return ','.join(cfg.CONF[options.GROUP].zookeeper_hosts)


def shared():
    """(kazoo client, ChangeFeed) of this process, connecting on first use.

    Once made, the client is returned whether connected or not: kazoo
    reconnects on its own (with a new session after an expiry, its
    DataWatch and ChildrenWatch recipes re-arming themselves), and a
    request made meanwhile fails within the session timeout, which the
    caller's ride_out() retries."""
    pid = os.getpid()
    watch = outage()
    with _LOCK:
        entry = _SHARED.get(pid)
        if entry is not None and entry[0].client_state not in _DEAD_STATES:
            return entry
        conf = cfg.CONF[options.GROUP]
        if not conf.engine_password:
            raise NotConfigured('[softorch] engine_password is not set in '
                                'heat.conf')
        if entry is not None:
            LOG.warning('heat-softorch: the ZooKeeper client is %s; making '
                        'a new one', entry[0].client_state)
            try:
                connection.close(entry[0])
            except Exception:  # noqa: it is being replaced anyway
                pass
            del _SHARED[pid]
        # Threads queued behind a connection attempt that just failed fail
        # at once rather than each waiting a connect_timeout of its own.
        failed = _LAST_FAILED.get(pid)
        if failed and time.monotonic() - failed[0] < conf.connect_timeout:
            raise failed[1]
        tls = options.tls()
        if tls is None:
            LOG.warning('heat-softorch connects to ZooKeeper at %s over '
                        'plain TCP ([softorch] zookeeper_plaintext): '
                        'credentials and specs cross the network in clear',
                        _hosts())
        try:
            client = connection.connect(
                _hosts(), acls.credential(conf.engine_user,
                                          conf.engine_password),
                timeout=conf.connect_timeout,
                session_timeout=conf.session_timeout,
                request_timeout=conf.session_timeout, tls=tls)
        except connection.Unreachable as exc:
            _LAST_FAILED[pid] = (time.monotonic(), exc)
            watch.down(str(exc))
            raise
        _LAST_FAILED.pop(pid, None)
        client.add_listener(_listener(watch, conf.outage_limit))
        watch.up()
        LOG.info('heat-softorch connected to ZooKeeper at %s%s (session '
                 'timeout %.0f s)', _hosts(), ' over TLS' if tls else '',
                 conf.session_timeout)
        _audit(client, conf)
        _SHARED[pid] = (client, changes.ChangeFeed(client))
        return _SHARED[pid]


def _audit(client, conf):
    """Warn, once per process, of what leaves hosts more rights than the
    plugin's ACLs give them (doc/security.md)."""
    try:
        client.ensure_path(conf.root_path, acl=acls.engine_only(
            acls.digest_id(conf.engine_user, conf.engine_password)))
        for problem in ensemble.audit(client, conf.root_path):
            LOG.warning('ZooKeeper at %s: %s', ','.join(conf.zookeeper_hosts),
                        problem)
    except Exception as exc:  # noqa: a check, never a reason to fail
        LOG.warning('could not check the ZooKeeper ensemble\'s settings: %s',
                    exc)


def _listener(watch, limit):
    """One kazoo listener: the log first, then the Outage. kazoo keeps its
    listeners in a set, so two of them run in no set order, and a log
    called after the Outage heard of the change said nothing (neither
    "lost the connection" nor "is back after")."""
    log = _logger(watch, limit)

    def listen(state):
        log(state)
        watch.listener(state)
    return listen


def _logger(watch, limit):
    """A kazoo listener saying what the connection's state means for
    resource actions (called before the Outage hears of it)."""
    def log(state):
        if state == states.KazooState.CONNECTED:
            if watch.since is not None:
                LOG.info('heat-softorch: ZooKeeper at %s is back after '
                         '%.1f s', _hosts(), watch.gone_for())
        elif state == states.KazooState.LOST:
            LOG.warning('heat-softorch: ZooKeeper session at %s lost; '
                        'resource actions carry on with a new session',
                        _hosts())
        elif watch.since is None:
            LOG.warning('heat-softorch: lost the connection to ZooKeeper at '
                        '%s; resource actions wait for it up to %d s '
                        '([softorch] outage_limit)', _hosts(), limit)
    return log


def error_message(exc, what):
    """What a failed resource action says: never nothing. kazoo's
    exceptions mostly have no words (Heat would print "NoAuthError:
    resources.c3: "): say which it was and what the engine was doing."""
    text = str(exc).strip()
    if text:
        return text
    if isinstance(exc, kz_exc.NoAuthError):
        return ('ZooKeeper refused the engine\'s credential (NoAuthError) '
                'while %s: check [softorch] engine_user and '
                'engine_password' % what)
    return '%s while %s' % (outage_mod.error_text(exc), what)


def ride_out(what, func, within=None):
    """``func()``, retried across ZooKeeper faults.

    A lost connection, an expired session, a request left unanswered or a
    failed connection attempt is retried (kazoo's KazooRetry, whose sleeps
    end as soon as the connection is back) with whatever session kazoo has
    made meanwhile, until ZooKeeper has been out of reach of this process
    for longer than [softorch] outage_limit: then ZooKeeperUnreachable.
    With ``within`` (seconds), StillDown once that much time has passed
    with ZooKeeper still gone: a check returns to Heat, which can cancel
    it between checks, and the next check counts the same outage. Without,
    the call (a handler, which starts an action) waits at least
    connect_timeout even in an outage already past the limit: ZooKeeper
    may have just come back, and kazoo takes a few seconds to notice.

    ``func`` must be safe to run again after a partial run: every
    engine-side write is idempotent (Registry), and a write whose answer
    was lost may have happened. Any other error is raised as it is, with
    words if it had none (error_message)."""
    conf = cfg.CONF[options.GROUP]
    watch = outage()
    limit = conf.outage_limit
    started = time.monotonic()
    deadline = None if within is None else started + within
    least = conf.connect_timeout if within is None else 0.0

    def given_up():
        return watch.exceeded(limit) and time.monotonic() - started >= least

    def interrupted():
        return given_up() or (
            deadline is not None and time.monotonic() >= deadline)

    failures = []

    def attempt():
        try:
            client, _ = shared()
            if not client.connected:
                # A request made now would only queue until kazoo is
                # connected again: don't make one.
                raise kz_exc.ConnectionLoss('not connected')
            result = func()
        except kz_exc.ConnectionClosedError as exc:
            # KazooRetry never retries a closed client; shared() replaces
            # it, so it is a connection loss like any other here.
            watch.down(outage_mod.error_text(exc))
            raise kz_retry.ForceRetryError()
        except RETRYABLE as exc:
            if not failures:
                LOG.info('heat-softorch: %s: %s; retrying', what,
                         outage_mod.error_text(exc))
            failures.append(exc)
            watch.down(outage_mod.error_text(exc))
            raise
        if failures:
            LOG.info('heat-softorch: %s: done after %d retries', what,
                     len(failures))
        watch.up()
        return result

    retry = kz_retry.KazooRetry(max_tries=-1, delay=0.1, backoff=2,
                                max_delay=2.0, ignore_expire=True,
                                sleep_func=watch.wait_up,
                                interrupt=interrupted)
    retry.retry_exceptions = RETRYABLE + (kz_retry.ForceRetryError,)
    try:
        return retry(attempt)
    except kz_retry.InterruptedError:
        if not given_up():
            raise StillDown()
        raise ZooKeeperUnreachable(
            'ZooKeeper at %s unreachable for %.0f s, longer than the outage '
            'limit ([softorch] outage_limit = %d s), while %s; last error: '
            '%s' % (_hosts(), watch.gone_for(), limit, what,
                    watch.last_error or 'none'))
    except (ZooKeeperUnreachable, StillDown, NotConfigured,
            exception.HeatException):
        raise
    except Exception as exc:
        if str(exc).strip():
            raise
        raise exception.Error(error_message(exc, what))


class Fabric(object):
    """Everything a resource needs to talk to one stack's zNodes."""

    def __init__(self, stack_id):
        conf = cfg.CONF[options.GROUP]
        self.client, self.feed = shared()
        self.paths = zpaths.StackPaths(conf.root_path, stack_id)
        self.engine_id = acls.digest_id(conf.engine_user,
                                        conf.engine_password)
        self.registry = registry.Registry(
            self.client, self.paths, self.engine_id,
            outputs_bytes=conf.max_outputs_bytes)
        self.progress = progress.Progress(
            self.client, self.paths, self.registry,
            grace_period=conf.agent_grace_period,
            boot_timeout=conf.agent_boot_timeout)
        self.exports = family.Exports(self.client, self.paths,
                                      self.engine_id)
        self.roster = family.Roster(self.client, self.paths, self.engine_id)

    def of(self, stack_id):
        """The Fabric of another stack of the same root (links across
        stacks): the same connection, that stack's zNodes."""
        if stack_id == self.paths.stack_id:
            return self
        return Fabric(stack_id)


class SoftOrchClientPlugin(client_plugin.ClientPlugin):
    """``client('softorch')``: a factory of per-stack Fabric objects."""

    service_types = []

    def _create(self, version=None):
        return Fabric

    def fabric(self, stack):
        """The Fabric of a resource's stack. The legacy engine deletes the
        resources an update replaced from a backup stack, "<name>*", owned
        by the real one: their zNodes are the real stack's."""
        if stack.owner_id and stack.name.endswith('*'):
            return Fabric(stack.owner_id)
        return Fabric(stack.id)
