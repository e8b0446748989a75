"""Hard ZooKeeper quotas on what a host can write.

A hostile VM holds its host's credential and need not run our agent, so
the agent's own size checks bind nothing: ZooKeeper must refuse the writes
(``zookeeper.enforceQuota=true`` and hard limits, ZooKeeper 3.7+). A host
can write four kinds of node, and each gets a quota of its own, sized from
what the plugin writes there::

    node                  the host may          hard limit
    --------------------  --------------------  ---------------------------
    seen                  set its start record  SEEN_BYTES
    agent                 create lock nodes     LOCK_NODES, LOCK_BYTES
    enroll (the token)    create claims         CLAIMS, ENROLL_BYTES
    each status           set it                STATUS_BYTES + per wire
                                                and per group wire
    each outputs          set it                the spec's outputs limit

so a host can hold at most their sum, ``host_bytes()``, whatever it tries;
a write over a limit fails with QuotaExceededError for that host alone.
Quotas sit on these nodes rather than on the host's subtree because
ZooKeeper checks a quota against everything under it, the engine's writes
included: with a subtree quota, a host that filled its share would make
the engine's next spec write fail. The engine's own nodes carry none.

ZooKeeper keeps a quota as ``/zookeeper/quota/<path>/zookeeper_limits``
(and ``zookeeper_stats``, which it computes); the engine creates them, with
its ACL only (``softorch zookeeper lockdown`` closes
``/zookeeper/quota`` itself), and removes them with the nodes. Limits are
checked against committed state: one multi-op request can overshoot by at
most its own size (under 1 MB).
"""

from kazoo import exceptions as kz_exc

from heat_softorch.fabric import acls
from heat_softorch.fabric import records

ROOT = '/zookeeper/quota'
LIMITS = 'zookeeper_limits'
STATS = 'zookeeper_stats'

SEEN_BYTES = 4096
LOCK_NODES = 4
LOCK_BYTES = 4096
CLAIMS = 4
ENROLL_BYTES = 4096
# stdout and stderr tails (8 Ki characters each, up to 4 bytes a
# character), the reason and the rest of the record; each wire may add a
# line to waiting_on.
STATUS_BYTES = 80 * 1024
STATUS_BYTES_PER_WIRE = 256
# A group wire records the members of each run (status and last success:
# a host id and a member name each): room for about a thousand members.
STATUS_BYTES_PER_GROUP = 128 * 1024
# ZooKeeper's own per-node limit, less headroom: what records.check_size
# lets through. An operator may set a lower one ([softorch]
# max_outputs_bytes).
OUTPUTS_BYTES = records.MAX_REQUEST_BYTES - records.HEADROOM


def quota_path(path):
    return ROOT + path


def limits_data(count=-1, nbytes=-1):
    """A hard limit as ZooKeeper's StatsTrack writes it (the soft fields
    first, for its older parser)."""
    return ('count=-1,bytes=-1=;byteHardLimit=%d;countHardLimit=%d'
            % (nbytes, count)).encode()


def status_bytes(spec):
    return (STATUS_BYTES + STATUS_BYTES_PER_WIRE * (
        len(spec.get('wires', ())) + len(spec.get('remote', ()))) +
        STATUS_BYTES_PER_GROUP * len(spec.get('groups', ())))


def component_limits(spec, outputs_bytes=OUTPUTS_BYTES):
    """{'status': bytes, 'outputs': bytes}: what the component's host may
    write there; the spec carries it so that the agent can say so."""
    return {'status': status_bytes(spec), 'outputs': outputs_bytes}


def host_bytes(components_limits):
    """The most a host can store, given its components' limits."""
    return SEEN_BYTES + LOCK_BYTES + ENROLL_BYTES + sum(
        lim['status'] + lim['outputs'] for lim in components_limits)


class Quotas(object):
    """The quota nodes of one stack, as operations for the Registry's
    transactions; every node is created with the engine's ACL only."""

    def __init__(self, client, stack_paths, engine_id):
        self.client = client
        self.paths = stack_paths
        self.engine_id = engine_id

    def _acl(self):
        return acls.engine_only(self.engine_id)

    def _one(self, path, count=-1, nbytes=-1):
        """Creates of the quota of ``path`` (its parent must exist)."""
        q = quota_path(path)
        return [('create', q, b'', self._acl()),
                ('create', q + '/' + LIMITS, limits_data(count, nbytes),
                 self._acl()),
                # ZooKeeper computes the stats when this node is created.
                ('create', q + '/' + STATS, b'count=0,bytes=0', self._acl())]

    def prepare_host(self, host):
        """Make the quota tree's parents of a host (idempotent); before
        host_ops() goes out."""
        self.client.ensure_path(quota_path(self.paths.components(host)),
                                acl=self._acl())

    def host_ops(self, host):
        """Quotas on what a new host may write besides its components."""
        return (self._one(self.paths.seen(host), 1, SEEN_BYTES) +
                self._one(self.paths.liveness(host), 1 + LOCK_NODES,
                          LOCK_BYTES) +
                self._one(self.paths.enroll(host), 1 + CLAIMS,
                          ENROLL_BYTES))

    def component_ops(self, host, name, limits):
        """Quotas of a new component's status and outputs."""
        return ([('create', quota_path(self.paths.spec(host, name)), b'',
                  self._acl())] +
                self._one(self.paths.status(host, name), 1,
                          limits['status']) +
                self._one(self.paths.outputs(host, name), 1,
                          limits['outputs']))

    def update_ops(self, host, name, limits):
        """Sets of an existing component's limits."""
        return [('set', quota_path(self.paths.status(host, name)) + '/' +
                 LIMITS, limits_data(1, limits['status'])),
                ('set', quota_path(self.paths.outputs(host, name)) + '/' +
                 LIMITS, limits_data(1, limits['outputs']))]

    def _remove(self, path):
        try:
            self.client.delete(quota_path(path), recursive=True)
        except kz_exc.NoNodeError:
            pass

    def remove_component(self, host, name):
        self._remove(self.paths.spec(host, name))

    def remove_host(self, host):
        self._remove(self.paths.host(host))

    def remove_stack(self):
        self._remove(self.paths.stack)
