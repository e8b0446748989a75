"""Components read across the stacks of one root: exports and rosters.

A member template reads a component of its parent (``from: ../db``), and
the parent reads a component in every member of a group (``from:
app_tier/app``). Each stack has its own subtree and its hosts their own
credentials, so what crosses goes through two small records in the
subtree of the stack being read, both written by the engine alone (hosts
only read them, each only what it is wired to; paths.py has the layout):

- :class:`Exports`: where a component read from other stacks publishes,
  and who reads it.
- :class:`Roster`: the members of a group that hold one component, and
  the components that read them. A member is keyed by the host of its
  component: one per member incarnation, never its index or name, so a
  member replaced after ``mark unhealthy`` is a new member.

Both follow one rule for a grant that two registrations race to make: each
side writes its own half first (the reader's entry, the member or the
upstream's host), then syncs and reads the other half, and grants what it
finds. Whichever comes second sees the first, so a reader is never left
without its grant. Every method is idempotent, so a registration that
fails part-way is simply made again.

Failure: ACL writes that race retry (registry.grant_reads); a node that
vanished meanwhile (a stack being deleted) ends that part quietly, since
there is nothing left to grant or revoke on it; anything else raises to
the caller, whose Heat action fails with it.
"""

import logging
import re

from kazoo import exceptions as kz_exc

from heat_softorch.fabric import acls
from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import records
from heat_softorch.fabric import registry as registry_mod

LOG = logging.getLogger(__name__)


def _grant(client, grants):
    """registry.grant_reads, leaving out nodes that are gone."""
    try:
        registry_mod.grant_reads(client, grants)
    except registry_mod.Conflict:
        existing = {p: ids for p, ids in grants.items()
                    if client.exists(p) is not None}
        registry_mod.grant_reads(client, existing)


class _Records(object):
    """What Exports and Roster share: creating engine-owned nodes (their
    ancestors too: a member may register before its parent stack's first
    component has made the stack's node) and reading reader entries."""

    def __init__(self, client, paths, engine_id):
        self.client = client
        self.paths = paths
        self.engine_id = engine_id

    def _acl(self, readers=()):
        return acls.engine_only(self.engine_id) + [
            acls.read_only(r) for r in sorted(set(readers))]

    def _create(self, path, data=b'', readers=()):
        """Create ``path``; False when it existed."""
        try:
            self.client.create(path, data, acl=self._acl(readers))
            return True
        except kz_exc.NodeExistsError:
            return False
        except kz_exc.NoNodeError:
            parent = path.rsplit('/', 1)[0]
            self._create(parent)
            return self._create(path, data, readers)

    def _entries(self, path):
        """{entry name: record} of the reader entries under ``path``, read
        after a sync: a concurrent registration's entry is seen."""
        try:
            self.client.sync(path)
        except kz_exc.NoNodeError:
            return {}
        return self._children(path, 'reader')

    def _children(self, path, kind):
        """{child name: record} of the children of ``path``, read in one
        round trip; a child removed meanwhile is left out."""
        try:
            names = self.client.get_children(path)
        except kz_exc.NoNodeError:
            return {}
        pending = [(n, self.client.get_async('%s/%s' % (path, n)))
                   for n in names]
        found = {}
        for n, result in pending:
            try:
                raw, _ = result.get()
            except kz_exc.NoNodeError:
                continue
            found[n] = records.decode(raw, '%s/%s' % (path, n), kind) or {}
        return found

    def _add_entry(self, path, entry, acl_id, **fields):
        self._create('%s/%s' % (path, entry), records.encode(
            'reader', dict(fields, acl_id=acl_id)))

    def _remove(self, path, recursive=False):
        try:
            self.client.delete(path, recursive=recursive)
        except (kz_exc.NoNodeError, kz_exc.NotEmptyError):
            pass


class Exports(_Records):
    """Where a component that other stacks read publishes, and who reads
    it: ``exports/<c>`` holds ``{host}`` and is readable by each reader's
    host; ``exports/<c>/readers/<name@host@stack>`` lists the readers,
    each with the ACL id it reads as.

    The upstream's registration calls :meth:`publish`, a reader's
    :meth:`subscribe`; the later of the two grants the reader read on the
    upstream's outputs. A reader watches the node and follows the host it
    names (an upstream moved to another agent is found again).
    """

    def _ensure(self, name):
        self._create(self.paths.export(name), records.encode(
            'export', {'component': name, 'host': None}))
        self._create(self.paths.export_readers(name))

    def read(self, name):
        """(record or None, version)."""
        try:
            raw, stat = self.client.get(self.paths.export(name))
        except kz_exc.NoNodeError:
            return None, None
        return records.decode(raw, self.paths.export(name), 'export') or \
            {}, stat.version

    def _set_host(self, name, host):
        for _ in range(registry_mod.MAX_ATTEMPTS):
            rec, version = self.read(name)
            if rec is None or rec.get('host') == host:
                return
            rec.update(host=host, component=name, updated=records.now())
            try:
                self.client.set(self.paths.export(name),
                                records.encode('export', rec),
                                version=version)
                return
            except kz_exc.BadVersionError:
                continue

    def publish(self, name, host):
        """``name`` is registered on ``host``: say so, and let every
        reader read its outputs."""
        self._ensure(name)
        self._set_host(name, host)
        ids = {e.get('acl_id') for e in self._entries(
            self.paths.export_readers(name)).values() if e.get('acl_id')}
        if ids:
            _grant(self.client, {self.paths.outputs(host, name): ids})

    def subscribe(self, name, reader, reader_id, locate=None):
        """``reader`` ((stack, host, component)) reads ``name``: enter it,
        let it read the export node and, when the upstream's host is
        known, its outputs. ``locate()`` finds the host of a component
        already registered whose registration did not know it was read
        (its stack could not see this reader's template). Returns the
        host or None."""
        self._ensure(name)
        stack, host, comp = reader
        self._add_entry(self.paths.export_readers(name),
                        registry_mod.reader_entry(host, comp, stack),
                        reader_id, stack=stack, host=host, component=comp)
        _grant(self.client, {self.paths.export(name): {reader_id}})
        self.client.sync(self.paths.export(name))
        rec, _ = self.read(name)
        up = (rec or {}).get('host')
        if up is None and locate is not None:
            up = locate()
            if up is not None:
                self.publish(name, up)
        if up is not None:
            _grant(self.client, {self.paths.outputs(up, name): {reader_id}})
        return up

    def unsubscribe(self, name, reader, reader_id):
        """``reader`` no longer reads ``name``: its entry and its grants
        go."""
        stack, host, comp = reader
        self._remove('%s/%s' % (self.paths.export_readers(name),
                                registry_mod.reader_entry(host, comp,
                                                          stack)))
        rec, _ = self.read(name)
        revokes = {self.paths.export(name): {reader_id}}
        if rec and rec.get('host'):
            revokes[self.paths.outputs(rec['host'], name)] = {reader_id}
        registry_mod.revoke_reads(self.client, revokes)

    def readers(self, name):
        """[(stack, host, component)] of the readers of ``name``."""
        return sorted((e.get('stack'), e.get('host'), e.get('component'))
                      for e in self._entries(
                          self.paths.export_readers(name)).values())

    def names(self):
        """The components of this stack read from other stacks."""
        try:
            return {zpaths.unsegment(c) for c in
                    self.client.get_children(self.paths.exports)}
        except kz_exc.NoNodeError:
            return set()

    def remove(self, name):
        """The upstream is gone: so is its export, once no reader is
        left (a reader still there keeps watching its node)."""
        if not self._entries(self.paths.export_readers(name)):
            self._remove(self.paths.export(name), recursive=True)


class Roster(_Records):
    """The members of group <g> that hold component <c>, in the subtree of
    the group's stack, and the components of that stack that read them.

    A member's engine action :meth:`join` s (again at every registration:
    the record carries the member's epoch and its parent's), later
    :meth:`leave` s (state LEAVING: its consumers reconfigure without it
    before its DELETE config runs) and is :meth:`remove` d. A consumer's
    :meth:`consume` enters it and lets its host read the member list,
    every member record and every member's outputs; a member joining
    later grants the consumers it finds. Consumers watch the member list
    and each record: membership changes without any Heat operation of
    this stack (a scaling policy's signal).
    """

    def _ensure(self, group, name):
        self._create(self.paths.group(group, name))
        self._create(self.paths.members(group, name))
        self._create(self.paths.group_readers(group, name))

    def _outputs(self, member):
        return zpaths.StackPaths(self.paths.root, member['stack']).outputs(
            member['host'], member['component'])

    def consumer_ids(self, group, name):
        return {e.get('acl_id') for e in self._entries(
            self.paths.group_readers(group, name)).values()
            if e.get('acl_id')}

    def consumers(self, group, name):
        """[(host, component)] of the components reading ``group/name``."""
        return sorted((e.get('host'), e.get('component')) for e in
                      self._entries(self.paths.group_readers(
                          group, name)).values())

    def read(self, group, name, host):
        """(member record or None, version)."""
        path = self.paths.member(group, name, host)
        try:
            raw, stat = self.client.get(path)
        except kz_exc.NoNodeError:
            return None, None
        return records.decode(raw, path, 'member') or {}, stat.version

    def members(self, group, name):
        """Every member record of ``group/name``, by host."""
        return {zpaths.unsegment(h): rec for h, rec in self._children(
            self.paths.members(group, name), 'member').items()}

    def join(self, member):
        """Enter or refresh ``member`` (a dict with at least group,
        component, host, stack: the member's own stack) and let the
        consumers read it and its outputs."""
        group, name, host = member['group'], member['component'], \
            member['host']
        self._ensure(group, name)
        ids = self.consumer_ids(group, name)
        path = self.paths.member(group, name, host)
        for _ in range(registry_mod.MAX_ATTEMPTS):
            old, version = self.read(group, name, host)
            rec = dict(old or {}, **member)
            rec.setdefault('state', records.JOINED)
            rec.setdefault('joined', records.now())
            if old is None:
                if self._create(path, records.encode('member', rec), ids):
                    break
                continue
            if old == rec:
                break
            try:
                self.client.set(path, records.encode('member', rec),
                                version=version)
                break
            except kz_exc.BadVersionError:
                continue
        if ids:
            _grant(self.client, {path: ids, self._outputs(member): ids})

    def leave(self, group, name, host, left_in=None):
        """Mark the member LEAVING; its record after, or None when it is
        not (or no longer) a member. ``left_in``: the epoch of the Heat
        operation of the group's stack that removes it (None for a
        scaling signal): its consumers then wait for that operation to
        update them instead of following at once."""
        path = self.paths.member(group, name, host)
        for _ in range(registry_mod.MAX_ATTEMPTS):
            rec, version = self.read(group, name, host)
            if rec is None:
                return None
            if rec.get('state') == records.LEAVING:
                return rec
            rec.update(state=records.LEAVING, leaving=records.now(),
                       left_in=left_in)
            try:
                self.client.set(path, records.encode('member', rec),
                                version=version)
                return rec
            except kz_exc.BadVersionError:
                continue
            except kz_exc.NoNodeError:
                return None
        raise registry_mod.Conflict('member record %s kept changing' % path)

    def revoke(self, member):
        """The consumers stop reading ``member``'s outputs (they have
        reconfigured without it)."""
        ids = self.consumer_ids(member['group'], member['component'])
        if ids:
            registry_mod.revoke_reads(self.client,
                                      {self._outputs(member): ids})

    def remove(self, member):
        """The member is gone: its record and the consumers' grants."""
        self.revoke(member)
        self._remove(self.paths.member(member['group'], member['component'],
                                       member['host']))

    def consume(self, group, name, reader, reader_id):
        """``reader`` ((host, component) in this stack) reads every member
        of ``group/name``: enter it and let its host read the member list,
        each member record and each member's outputs."""
        self._ensure(group, name)
        host, comp = reader
        self._add_entry(self.paths.group_readers(group, name),
                        registry_mod.reader_entry(host, comp), reader_id,
                        host=host, component=comp)
        grants = {self.paths.members(group, name): {reader_id}}
        self.client.sync(self.paths.members(group, name))
        for member_host, rec in self.members(group, name).items():
            grants[self.paths.member(group, name, member_host)] = \
                {reader_id}
            if rec.get('stack') and rec.get('host'):
                grants[self._outputs(rec)] = {reader_id}
        _grant(self.client, grants)

    def unconsume(self, group, name, reader, reader_id):
        """``reader`` no longer reads ``group/name``: its entry and every
        grant it had go."""
        host, comp = reader
        self._remove('%s/%s' % (self.paths.group_readers(group, name),
                                registry_mod.reader_entry(host, comp)))
        revokes = {self.paths.members(group, name): {reader_id}}
        for member_host, rec in self.members(group, name).items():
            revokes[self.paths.member(group, name, member_host)] = \
                {reader_id}
            if rec.get('stack') and rec.get('host'):
                revokes[self._outputs(rec)] = {reader_id}
        registry_mod.revoke_reads(self.client, revokes)


def member_order(record):
    """Members by name, numbers as numbers ('2' before '10'), then by
    when they joined (a replacement may share its predecessor's name)."""
    name = str(record.get('member') or '')
    parts = re.split(r'(\d+)', name)
    return ([(0, int(x), '') if x.isdigit() else (1, 0, x)
             for x in parts if x], record.get('joined') or 0,
            record.get('host') or '')


FAILED = 'failed'


def released(status, group_key, host):
    """Whether a consumer, by its status record, no longer uses the member
    whose component runs on ``host`` (``group_key``: '<group>/<comp>'):
    True; False while it does (or may: a run without it still going);
    FAILED when its run without the member failed, so it may still send
    the member traffic. A consumer with no status has nothing to stop."""
    if not status:
        return True
    used = (status.get('members') or {}).get(group_key) or ()
    applied = ((status.get('last_ok') or {}).get('members') or {}).get(
        group_key) or ()
    state = status.get('state')
    if state == records.ABANDONED:
        return True
    if host not in applied and (state != records.RUNNING or
                                host not in used):
        return True
    if state == records.FAILED and host not in used:
        return FAILED
    return False
