"""The engine's ZooKeeper connection, as a Heat client plugin.

One kazoo client per engine process, made on first use: heat-engine loads
plugins in its parent before forking its workers, and a connection made
there would be shared, broken, by every child. The client is keyed by pid
so that a forked worker makes its own.
"""

import os
import threading

from heat.engine.clients import client_plugin
from oslo_config import cfg
from oslo_log import log as logging

from heat_softorch.engine import options
from heat_softorch.fabric import acls
from heat_softorch.fabric import changes
from heat_softorch.fabric import connection
from heat_softorch.fabric import ensemble
from heat_softorch.fabric import family
from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import progress
from heat_softorch.fabric import registry

LOG = logging.getLogger(__name__)
options.register()

_LOCK = threading.Lock()
_SHARED = {}   # pid -> (client, feed)


class NotConfigured(Exception):
    pass


def shared():
    """(kazoo client, ChangeFeed) of this process, connecting on first use."""
    pid = os.getpid()
    with _LOCK:
        if pid in _SHARED and _SHARED[pid][0].connected:
            return _SHARED[pid]
        conf = cfg.CONF[options.GROUP]
        if not conf.engine_password:
            raise NotConfigured('[softorch] engine_password is not set in '
                                'heat.conf')
        hosts = ','.join(conf.zookeeper_hosts)
        if pid in _SHARED:
            # Not connected right now: kazoo reconnects on its own; wait
            # for it rather than open a second session.
            client, feed = _SHARED[pid]
            if client.connected or _wait_connected(client,
                                                   conf.connect_timeout):
                return _SHARED[pid]
            raise connection.Unreachable(
                'ZooKeeper unreachable at %s (lost the connection and not '
                'back after %.0f s)' % (hosts, conf.connect_timeout))
        tls = options.tls()
        if tls is None:
            LOG.warning('heat-softorch connects to ZooKeeper at %s over '
                        'plain TCP ([softorch] zookeeper_plaintext): '
                        'credentials and specs cross the network in clear',
                        hosts)
        client = connection.connect(
            hosts, acls.credential(conf.engine_user, conf.engine_password),
            timeout=conf.connect_timeout, tls=tls)
        LOG.info('heat-softorch connected to ZooKeeper at %s%s', hosts,
                 ' over TLS' if tls else '')
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


def _wait_connected(client, timeout):
    done = threading.Event()

    def listener(state):
        if client.connected:
            done.set()
            return True
    client.add_listener(listener)
    return client.connected or done.wait(timeout)


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
