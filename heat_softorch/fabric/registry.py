"""The engine's writes: stacks, hosts and component specs.

Registration is idempotent: the same specs registered twice in one epoch
write nothing the second time, so any number of Heat workers may register
overlapping sets concurrently. Writes are compare-and-set on the node
versions; a registration that loses a race re-reads and tries again.

Order is the commit protocol. The manifest is written first, in one
request; then specs go out in transactions, each under ZooKeeper's request
limit, upstream before downstream, so an agent never sees a wire to a spec
that is not written yet. The specs of one registration are read in one
round trip first, and only those that differ are written. Sizes are
checked for every node before the first write, so a spec that cannot fit
is refused without leaving half a registration behind.
"""

import hashlib
import json
import logging
import random
import time

from kazoo import exceptions as kz_exc

from heat_softorch.fabric import acls
from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import quotas
from heat_softorch.fabric import records

LOG = logging.getLogger(__name__)

# The parts of a spec that define the component: a change re-runs it.
DEFINITION_FIELDS = ('configs', 'inputs', 'values', 'outputs', 'options',
                     'timeout', 'wiring')

MAX_ATTEMPTS = 25
# What a concurrent writer causes; anything else is a bug worth raising.
RACES = (kz_exc.NodeExistsError, kz_exc.BadVersionError, kz_exc.NoNodeError,
         kz_exc.NotEmptyError)


class Conflict(Exception):
    """Another writer changed a node between our read and our write."""


def definition_digest(spec):
    body = {k: spec.get(k) for k in DEFINITION_FIELDS}
    text = json.dumps(body, sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode()).hexdigest()


def reader_entry(host, name, stack=None):
    """``name@host``, or ``name@host@stack`` for a reader in another
    stack of the same root."""
    entry = '%s@%s' % (zpaths.segment(name), zpaths.segment(host))
    return entry if stack is None else '%s@%s' % (entry,
                                                  zpaths.segment(stack))


def parse_reader_entry(entry):
    """(host, name) of a reader in the same stack."""
    name, _, host = entry.partition('@')
    host, _, _ = host.partition('@')
    return zpaths.unsegment(host), zpaths.unsegment(name)


def parse_remote_entry(entry):
    """(stack or None, host, name) of any reader entry."""
    parts = entry.split('@')
    stack = zpaths.unsegment(parts[2]) if len(parts) > 2 else None
    return stack, zpaths.unsegment(parts[1]), zpaths.unsegment(parts[0])


def grant_reads(client, grants):
    """Make each {path: reader ids} readable by those readers: every
    ACL read in one round trip, the missing grants written in another;
    a path whose ACL changed meanwhile is tried again, and one that does
    not exist raises Conflict (the caller's registration tries again)."""
    def grant(acl, readers):
        missing = set(readers) - acls.readers_of(acl)
        return list(acl) + [acls.read_only(r) for r in sorted(missing)] \
            if missing else None
    _rewrite_acls(client, grants, grant, gone_ok=False)


def revoke_reads(client, revokes):
    """Take read from {path: reader ids}, as grant_reads gives it; a path
    that is gone has nothing left to revoke."""
    def revoke(acl, readers):
        keep = acls.without_readers(acl, readers)
        return keep if len(keep) != len(acl) else None
    _rewrite_acls(client, revokes, revoke, gone_ok=True)


def _rewrite_acls(client, changes, rewrite, gone_ok):
    """Set each path of {path: reader ids} to ``rewrite(acl, readers)``
    (None: unchanged), versioned on the ACL read, retrying a path whose
    ACL changed meanwhile. A path that is gone is skipped when
    ``gone_ok``, else it raises (Conflict when it vanished before its
    read)."""
    for _ in range(MAX_ATTEMPTS):
        if not changes:
            return
        read = [(path, readers, client.get_acls_async(path))
                for path, readers in sorted(changes.items())]
        writes = []
        for path, readers, result in read:
            try:
                acl, stat = result.get()
            except kz_exc.NoNodeError:
                if gone_ok:
                    continue
                raise Conflict('%s vanished' % path)
            new = rewrite(acl, readers)
            if new is not None:
                writes.append((path, readers, client.set_acls_async(
                    path, new, version=stat.aversion)))
        changes = {}
        for path, readers, result in writes:
            try:
                result.get()
            except kz_exc.BadVersionError:
                changes[path] = readers
            except kz_exc.NoNodeError:
                if not gone_ok:
                    raise
    if changes:
        raise Conflict('ACL of %s kept changing' % sorted(changes)[0])


class _Batch(object):
    """Transactions of at most one request's worth of operations each."""

    def __init__(self, client):
        self.client = client
        self.groups = [[]]
        self.size = 0

    def add(self, op, path, data=None, acl=(), version=-1):
        size = records.request_size(path, data, acl) + 16
        if self.groups[-1] and (
                self.size + size > records.MAX_REQUEST_BYTES -
                records.HEADROOM or len(self.groups[-1]) >= 500):
            self.groups.append([])
            self.size = 0
        self.groups[-1].append((op, path, data, acl, version))
        self.size += size

    def extend(self, ops):
        """Add (op, path, data[, acl]) tuples."""
        for op in ops:
            self.add(*op)

    def commit(self):
        for group in self.groups:
            if not group:
                continue
            txn = self.client.transaction()
            for op, path, data, acl, version in group:
                if op == 'create':
                    txn.create(path, data or b'', acl=list(acl))
                elif op == 'set':
                    txn.set_data(path, data, version=version)
                elif op == 'delete':
                    txn.delete(path, version=version)
                elif op == 'check':
                    txn.check(path, version)
            results = txn.commit()
            failed = [(g, r) for g, r in zip(group, results)
                      if isinstance(r, Exception) and
                      not isinstance(r, kz_exc.RolledBackError)]
            if failed:
                (op, path, _, _, _), err = failed[0]
                if isinstance(err, RACES):
                    raise Conflict('%s %s: %s' % (op, path,
                                                  type(err).__name__))
                raise err


class Registry(object):
    """Engine-side writes for one stack, as the engine identity."""

    def __init__(self, client, stack_paths, engine_id,
                 outputs_bytes=quotas.OUTPUTS_BYTES):
        self.client = client
        self.paths = stack_paths
        self.engine_id = engine_id
        self.outputs_bytes = outputs_bytes
        self.quotas = quotas.Quotas(client, stack_paths, engine_id)
        self._host_ids = {}

    # -- stack and hosts ------------------------------------------------

    def _ensure(self, path, data=b''):
        try:
            self.client.create(path, data,
                               acl=acls.engine_only(self.engine_id))
        except kz_exc.NodeExistsError:
            pass

    def ensure_stack(self, manifest=None):
        """Create the stack's node; (re)write the manifest for a new epoch.
        Without a manifest, only make sure the nodes exist."""
        data = records.encode('manifest', manifest or {'epoch': None})
        records.check_size(self.paths.stack, data, (),
                           'the manifest of stack %s' % self.paths.stack_id)
        for p in (self.paths.root, self.paths.stacks):
            if not self.client.exists(p):
                self._ensure(p)
        for _ in range(MAX_ATTEMPTS):
            try:
                raw, stat = self.client.get(self.paths.stack)
            except kz_exc.NoNodeError:
                try:
                    self.client.create(self.paths.stack, data,
                                       acl=acls.engine_only(self.engine_id))
                    self._ensure(self.paths.hosts)
                    return
                except kz_exc.NodeExistsError:
                    continue
            old = records.decode(raw, self.paths.stack) or {}
            if manifest is None or old.get('epoch') == manifest.get('epoch'):
                if not self.client.exists(self.paths.hosts):
                    self._ensure(self.paths.hosts)
                return
            try:
                self.client.set(self.paths.stack, data, version=stat.version)
                return
            except kz_exc.BadVersionError:
                continue
        raise Conflict('manifest of %s kept changing' % self.paths.stack)

    def add_host(self, host, password, record, enroll_token=None):
        """Create a host's nodes; idempotent. ``password`` is the host's
        ZooKeeper password: with ``enroll_token`` it waits in the enroll
        node for the first claim (fabric/enrollment.py) and is kept
        nowhere else."""
        host_id = acls.digest_id(host, password)
        enroll_id = (acls.digest_id(host + acls.ENROLL_SUFFIX, enroll_token)
                     if enroll_token else None)
        body = dict(record, host=host, acl_id=host_id,
                    created=records.now())
        if not self.client.exists(self.paths.hosts):
            self._ensure(self.paths.hosts)
        self.quotas.prepare_host(host)
        txn = self.client.transaction()
        txn.create(self.paths.host(host), records.encode('host', body),
                   acl=acls.host_record(self.engine_id, host_id))
        txn.create(self.paths.liveness(host), b'',
                   acl=acls.liveness(self.engine_id, host_id))
        txn.create(self.paths.seen(host), b'',
                   acl=acls.host_writable(self.engine_id, host_id))
        txn.create(self.paths.components(host), b'',
                   acl=acls.host_readable(self.engine_id, host_id))
        if enroll_id:
            txn.create(self.paths.enroll(host), password.encode(),
                       acl=acls.enroll(self.engine_id, enroll_id))
        else:
            txn.create(self.paths.enroll(host), b'',
                       acl=acls.engine_only(self.engine_id))
        for _, path, data, acl in self.quotas.host_ops(host):
            txn.create(path, data, acl=acl)
        results = txn.commit()
        if isinstance(results[0], kz_exc.NodeExistsError):
            return False
        for r in results:
            if isinstance(r, Exception):
                raise r
        self._host_ids[host] = host_id
        return True

    def host_record(self, host):
        raw, _ = self.client.get(self.paths.host(host))
        return records.decode(raw, self.paths.host(host), 'host')

    def agent_hosts(self):
        """{Agent resource name: host} of this stack's hosts, read from
        their names (zpaths.new_host) in one round trip. An agent with more
        than one host (replaced, and the old one not yet removed) maps to
        the one created last."""
        try:
            hosts = [zpaths.unsegment(c) for c in
                     self.client.get_children(self.paths.hosts)]
        except kz_exc.NoNodeError:
            return {}
        found = {}
        for host in sorted(hosts):
            found.setdefault(zpaths.agent_of_host(host), []).append(host)

        def created(host):
            try:
                return self.host_record(host).get('created') or 0
            except kz_exc.NoNodeError:
                return -1  # removed meanwhile
        return {agent: (named[0] if len(named) == 1 else max(
            named, key=created)) for agent, named in found.items()}

    def host_acl_id(self, host):
        if host not in self._host_ids:
            try:
                self._host_ids[host] = self.host_record(host)['acl_id']
            except kz_exc.NoNodeError:
                raise records.RecordError(
                    'host %s is not registered in stack %s'
                    % (host, self.paths.stack_id))
        return self._host_ids[host]

    def update_host(self, host, **fields):
        path = self.paths.host(host)
        for _ in range(MAX_ATTEMPTS):
            raw, stat = self.client.get(path)
            rec = records.decode(raw, path, 'host')
            if all(rec.get(k) == v for k, v in fields.items()):
                return rec
            rec.update(fields)
            try:
                self.client.set(path, records.encode('host', rec),
                                version=stat.version)
                return rec
            except kz_exc.BadVersionError:
                continue
        raise Conflict('host record %s kept changing' % path)

    # -- specs ----------------------------------------------------------

    def _read_spec(self, host, name):
        return self._read_specs([(host, name)])[0]

    def register(self, specs, epoch, action=records.DEPLOY):
        """Write ``specs`` (upstream first) for ``epoch``. Returns the names
        whose spec node was written.

        Each spec is a dict with ``name``, ``host`` and the definition
        fields; ``wiring`` lists ``{input, component, output}`` by name and
        ``wires`` the same with the upstream's ``host``.
        """
        if not specs:
            return []
        prepared = []
        for spec in specs:
            body = dict(spec, digest=definition_digest(spec), epoch=epoch,
                        action=action, armed=True,
                        limits=quotas.component_limits(spec,
                                                       self.outputs_bytes))
            path = self.paths.spec(spec['host'], spec['name'])
            records.check_size(path, records.encode('spec', dict(
                body, generation=0, registered=0.0)), (),
                "the spec of component '%s'" % spec['name'])
            prepared.append(body)
        for attempt in range(MAX_ATTEMPTS):
            try:
                return self._register_once(prepared)
            except Conflict as exc:
                LOG.debug('registration conflict (%s), retrying', exc)
                time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
        raise Conflict('could not register specs for stack %s: other '
                       'writers kept changing them' % self.paths.stack_id)

    @staticmethod
    def _same(old, new):
        keys = ('digest', 'epoch', 'action', 'armed', 'wires', 'server',
                'limits', 'remote', 'groups', 'member')
        return all(old.get(k) == new.get(k) for k in keys)

    def _read_specs(self, keys):
        """(spec, stat) of each (host, name), (None, None) where there is
        none; read at once: a deep component's closure costs one round
        trip, not one per upstream."""
        pending = [(k, self.paths.spec(*k),
                    self.client.get_async(self.paths.spec(*k)))
                   for k in keys]
        found = []
        for key, path, result in pending:
            try:
                raw, stat = result.get()
            except kz_exc.NoNodeError:
                found.append((None, None))
                continue
            found.append((records.decode(raw, path, 'spec'), stat))
        return found

    def _register_once(self, prepared):
        """One attempt, in a fixed number of round trips whatever the
        number of specs and wires (the engine registers under a per-stack
        turn, so each round trip here holds up every other registration of
        the stack): the specs read together, the reader grants and the
        readers' entries asked for together, then the transactions."""
        plans, new_here = [], {}  # new_here: (host, name) -> reader ids
        for body, (old, stat) in zip(prepared, self._read_specs(
                [(b['host'], b['name']) for b in prepared])):
            if old is None:
                new_here[(body['host'], body['name'])] = set()
            if old is None or not self._same(old, body):
                plans.append((body, old, stat))
        # Reader grants: every wire's upstream publication must be readable
        # by the downstream host before the downstream spec exists.
        grants, entries = {}, []
        for body, old, _ in plans:
            host, name = body['host'], body['name']
            reader_id = self.host_acl_id(host)
            for wire in body.get('wires', ()):
                up = (wire['host'], wire['component'])
                if up in new_here:
                    new_here[up].add(reader_id)
                else:
                    grants.setdefault(self.paths.outputs(*up),
                                      set()).add(reader_id)
            old_ups = {(w['host'], w['component'])
                       for w in (old or {}).get('wires', ())}
            new_ups = {(w['host'], w['component'])
                       for w in body.get('wires', ())}
            entry = reader_entry(host, name)
            entries.append((
                [(up, '%s/%s' % (self.paths.readers(*up), entry))
                 for up in sorted(new_ups - old_ups)],
                ['%s/%s' % (self.paths.readers(*up), entry)
                 for up in sorted(old_ups - new_ups)]))
        self._grant_reads(grants)
        existing = self._existing(
            [path for added, removed in entries
             for path in [p for up, p in added if up not in new_here] +
             removed])
        batch = _Batch(self.client)
        written = []
        for (body, old, stat), (added, removed) in zip(plans, entries):
            host, name = body['host'], body['name']
            spec_path = self.paths.spec(host, name)
            gen = 1 if old is None else (
                old['generation'] + (old['digest'] != body['digest']))
            rec = dict(body, generation=gen, registered=records.now())
            data = records.encode('spec', rec)
            host_id = self.host_acl_id(host)
            if old is None:
                batch.add('create', spec_path, data,
                          acls.host_readable(self.engine_id, host_id))
                pending = records.encode('status', {
                    'state': records.PENDING, 'component': name,
                    'host': host, 'registered': rec['registered']})
                batch.add('create', spec_path + '/status', pending,
                          acls.host_writable(self.engine_id, host_id))
                batch.add('create', spec_path + '/outputs',
                          records.encode('publication',
                                         {'state': records.PENDING}),
                          acls.host_writable(self.engine_id, host_id,
                                             new_here[(host, name)]))
                batch.add('create', self.paths.readers(host, name), b'',
                          acls.engine_only(self.engine_id))
                batch.extend(self.quotas.component_ops(host, name,
                                                       body['limits']))
            else:
                batch.add('set', spec_path, data, version=stat.version)
                if old.get('limits') != body['limits']:
                    # Specs written before quotas have none to update.
                    batch.extend(self.quotas.update_ops(
                        host, name, body['limits']) if old.get('limits')
                        else self.quotas.component_ops(host, name,
                                                       body['limits']))
            for up, path in added:
                if path not in existing:
                    batch.add('create', path, b'',
                              acls.engine_only(self.engine_id))
            for path in removed:
                if path in existing:
                    batch.add('delete', path)
            written.append(name)
        batch.commit()
        return written

    def _existing(self, paths):
        """Which of ``paths`` exist, asked in one round trip."""
        pending = [(p, self.client.exists_async(p)) for p in paths]
        return {p for p, result in pending if result.get() is not None}

    def _grant_reads(self, grants):
        grant_reads(self.client, grants)

    # -- reverse actions (DELETE, SUSPEND) --------------------------------

    def readers(self, host, name):
        """(host, name) of the components wired to this one's outputs."""
        try:
            entries = self.client.get_children(
                self.paths.readers(host, name))
        except kz_exc.NoNodeError:
            return []
        return [parse_reader_entry(e) for e in entries]

    def set_action(self, host, name, action, epoch, armed):
        """Point a spec at ``action`` for ``epoch``; False when it is gone."""
        for _ in range(MAX_ATTEMPTS):
            spec, stat = self._read_spec(host, name)
            if spec is None:
                return False
            if (spec['action'], spec['epoch']) == (action, epoch) and (
                    spec['armed'] or not armed):
                return True
            if action == records.DELETE and spec['action'] == action and \
                    not self._delete_failed(host, name, spec['epoch']):
                # Another operation asked for this DELETE first (across
                # stacks, the upstream's and the member's stack both do):
                # it runs once, in that epoch; never disarm it.
                if spec['armed'] or not armed:
                    return True
                epoch = spec['epoch']
            spec.update(action=action, epoch=epoch, armed=armed,
                        registered=records.now())
            try:
                self.client.set(self.paths.spec(host, name),
                                records.encode('spec', spec),
                                version=stat.version)
                return True
            except kz_exc.BadVersionError:
                continue
        raise Conflict('spec of %s kept changing' % name)

    def _delete_failed(self, host, name, epoch):
        """Whether the DELETE asked for in ``epoch`` failed: a new
        operation then asks again."""
        try:
            raw, _ = self.client.get(self.paths.status(host, name))
        except kz_exc.NoNodeError:
            return False
        status = records.decode(raw, self.paths.status(host, name)) or {}
        return status.get('epoch') == epoch and status.get('state') in (
            records.FAILED, records.ABANDONED)

    def abandon(self, host, name, epoch, reason):
        """Record that the engine gave up on a component whose host is
        lost, so that what waits on it proceeds (or fails) at once."""
        spec_path = self.paths.spec(host, name)
        now = records.now()
        status = {'state': records.ABANDONED, 'component': name,
                  'host': host, 'epoch': epoch, 'reason': reason,
                  'finished': now}
        try:
            raw, _ = self.client.get(spec_path + '/outputs')
            pub = records.decode(raw, spec_path + '/outputs') or {}
        except kz_exc.NoNodeError:
            return
        pub.update(state=records.ABANDONED, epoch=epoch, finished=now,
                   root_cause={'host': host, 'component': name})
        for attempt in (pub, dict(pub, values={})):
            txn = self.client.transaction()
            txn.set_data(spec_path + '/status',
                         records.encode('status', status))
            txn.set_data(spec_path + '/outputs',
                         records.encode('publication', attempt))
            results = txn.commit()
            # A host that filled its outputs quota leaves no room for the
            # abandonment beside its values: they go.
            if not any(isinstance(r, kz_exc.QuotaExceededError)
                       for r in results):
                return

    # -- removal --------------------------------------------------------

    def remove_component(self, host, name):
        """Remove a component's nodes and its entries in upstream readers."""
        spec, _ = self._read_spec(host, name)
        entry = reader_entry(host, name)
        for wire in (spec or {}).get('wires', ()):
            try:
                self.client.delete('%s/%s' % (self.paths.readers(
                    wire['host'], wire['component']), entry))
            except kz_exc.NoNodeError:
                pass
        try:
            self.client.delete(self.paths.spec(host, name), recursive=True)
        except kz_exc.NoNodeError:
            pass
        self.quotas.remove_component(host, name)

    def remove_host(self, host):
        """Remove a host's subtree; the stack's too when it was the last."""
        try:
            self.client.delete(self.paths.host(host), recursive=True)
        except kz_exc.NoNodeError:
            pass
        self.quotas.remove_host(host)
        self._host_ids.pop(host, None)
        try:
            if not self.client.get_children(self.paths.hosts):
                self.remove_stack()
        except kz_exc.NoNodeError:
            pass

    def remove_stack(self):
        try:
            self.client.delete(self.paths.stack, recursive=True)
        except kz_exc.NoNodeError:
            pass
        self.quotas.remove_stack()
