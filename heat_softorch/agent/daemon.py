"""The agent: runs this host's components as soon as their inputs exist.

Watches push every change into one queue; a single reconciler thread asks
decide.decide() what each changed component calls for (wait, run, confirm,
fail, publish a result kept on disk, ...) and carries it out, handing runs
to a thread pool, so a component that waits for another VM never blocks
the rest of this one. Records go out through publish.Publisher.

An epoch is one Heat operation on the stack. A component settles in an
epoch once every upstream has published for that epoch: it then re-runs if
its definition digest or any input value differs from its last successful
run, and otherwise confirms its previous outputs without running.

The agent owns its host through a lock (fabric.hostside) and publishes
only while it holds it. Once it owns its host again (after a reconnection,
a session expiry, a pause, a restart of the process) it looks at every
component again. A run's result is recorded on the VM before it is
published, so a run that finished while the agent could not publish is
published then, never run again; a run that was in progress when the
agent process died is reported as failed (interrupted) by the next one
rather than silently lost.
"""

import logging
import os
import queue
import socket
import threading
import uuid
from concurrent import futures

from kazoo import exceptions as kz_exc
from kazoo.protocol import states

from heat_softorch.agent import decide
from heat_softorch.agent import enrollment
from heat_softorch.agent import hooks
from heat_softorch.agent import localstate
from heat_softorch.agent import publish
from heat_softorch.fabric import acls
from heat_softorch.fabric import connection
from heat_softorch.fabric import hostside
from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import records

LOG = logging.getLogger('softorch.agent')

STATUS_TEXT_CHARS = 8 * 1024
# Record-keeping decisions (publish a kept result, report an interrupted
# run) are followed by deciding again; this bounds it.
MAX_DECISIONS = 4


class Slot(object):
    """The agent's view of one of its components."""

    def __init__(self, name):
        self.name = name
        self.spec = None
        self.removed = False
        self.running = None   # (epoch, kind) while a run is in progress
        self.missed = False   # something changed while it ran
        self.upstreams = set()
        # The status as last written or read: only this agent writes it
        # while it holds the host (the engine writes when the spec is
        # created and when the host is lost), so an upstream publication
        # starts the run without a read on the way.
        self.status = None


class Agent(object):

    def __init__(self, conf):
        self.conf = conf
        self.paths = zpaths.StackPaths(conf.root, conf.stack_id)
        self.local = localstate.LocalState(conf.state_dir)
        self.session = uuid.uuid4().hex[:12]
        self.client = None
        self.side = None
        self.fence = None
        self.slots = {}
        self.publications = {}        # watched data path -> record
        self.watchers = {}            # watched data path -> {names}
        self.kinds = {}               # watched data path -> record kind
        self.children = {}            # watched member list -> [children]
        self.child_watchers = {}      # watched member list -> {names}
        self.queue = queue.Queue()
        self.dirty = set()
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.pool = futures.ThreadPoolExecutor(conf.max_concurrent,
                                               thread_name_prefix='run')
        self.active = set()           # hooks.Run in progress
        self.publisher = None

    # -- lifecycle -------------------------------------------------------

    def _password(self):
        return enrollment.password(self.conf, self.local)

    def start(self):
        password = self._password()
        ident = acls.digest_id(self.conf.host, password)
        self.client = connection.connect(
            self.conf.zookeeper, acls.credential(self.conf.host, password),
            timeout=self.conf.connect_timeout,
            session_timeout=self.conf.session_timeout,
            default_acl=acls.agent_created(ident), tls=self.conf.tls())
        self.side = hostside.HostSide(self.client, self.paths,
                                      self.conf.host)
        self.publisher = publish.Publisher(
            self.side, self.local, self.conf.host, self.session,
            fence=lambda: self.fence, remember=self._remember,
            stack=self.conf.stack_id)
        try:
            self.client.get(self.paths.components(self.conf.host))
        except (kz_exc.NoNodeError, kz_exc.NoAuthError):
            connection.close(self.client)
            raise enrollment.EnrollError(
                'host %s of stack %s is not registered at %s, or this '
                'credential is not its own' % (
                    self.conf.host, self.conf.stack_id,
                    self.paths.host(self.conf.host)))
        self._take_ownership()
        self.client.add_listener(self._on_connection)
        self.client.ChildrenWatch(self.paths.components(self.conf.host),
                                  self._on_components)
        threading.Thread(target=self._reconcile_loop, name='reconcile',
                         daemon=True).start()
        self.ready.set()

    def _take_ownership(self):
        LOG.info('taking ownership of host %s', self.conf.host)
        self.fence = self.side.acquire('%s:%d:%s' % (
            socket.gethostname(), os.getpid(), self.session))
        self.side.mark_seen({'started': records.now(), 'pid': os.getpid(),
                             'hostname': socket.gethostname(),
                             'session': self.session})
        LOG.info('agent for host %s up (lock %s)', self.conf.host,
                 self.fence)

    def _on_connection(self, state):
        if state == states.KazooState.LOST:
            LOG.warning('ZooKeeper session lost: publishing stops until '
                        'ownership is taken again')
            self.fence = None
        elif state == states.KazooState.CONNECTED:
            threading.Thread(target=self._recover, daemon=True).start()

    def _recover(self):
        try:
            if self.fence is None or not self.client.exists(self.fence):
                self.fence = None
                self._take_ownership()
        except Exception:  # noqa: retried at the next reconnection
            LOG.exception('could not take ownership again')
            return
        # Events may have been missed while disconnected: look again.
        with self.lock:
            names = list(self.slots)
            for slot in self.slots.values():
                slot.status = None
            for path in list(self.watchers):
                self._refresh_publication(path)
        for name in names:
            self._refresh_spec(name)
            self.enqueue(name)

    def stop(self):
        """Stop, taking running scripts down too: their status stays
        RUNNING, which the next agent reports as interrupted."""
        self.stopping.set()
        self.queue.put(None)
        with self.lock:
            for run in list(self.active):
                hooks.kill_group(run.pgid)
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.side:
            self.side.release()
        connection.close(self.client)

    def serve_forever(self):
        self.start()
        try:
            while not self.stopping.wait(1):
                pass
        finally:
            self.stop()

    # -- watches ---------------------------------------------------------

    def _on_components(self, children):
        if self.stopping.is_set():
            return False
        names = {zpaths.unsegment(c) for c in children}
        for name in names:
            with self.lock:
                if name in self.slots and not self.slots[name].removed:
                    continue
                self.slots[name] = Slot(name)
            self.client.DataWatch(self.side.spec_path(name),
                                  self._spec_watcher(name))

    def _spec_watcher(self, name):
        def on_spec(data, stat, *_):
            with self.lock:
                slot = self.slots.get(name)
                if slot is None:
                    return False
                if data is None and stat is None:
                    slot.removed = True
                    slot.spec = None
                else:
                    self._store_spec(slot, data)
                slot.status = None
            self.enqueue(name)
            return not slot.removed
        return on_spec

    def _store_spec(self, slot, data):
        try:
            slot.spec = records.decode(data, self.side.spec_path(slot.name),
                                       'spec')
        except records.RecordError as exc:
            LOG.error('%s', exc)
            slot.spec = None

    def _refresh_spec(self, name):
        try:
            data, _ = self.client.get(self.side.spec_path(name))
        except kz_exc.NoNodeError:
            with self.lock:
                self.slots[name].removed = True
            return
        with self.lock:
            self._store_spec(self.slots[name], data)

    def _watch_upstream(self, path, name, kind='publication'):
        """Watch a node another component's run depends on: an upstream's
        publication, another stack's export record, a group member's
        record. Its decoded record is kept in ``publications``."""
        with self.lock:
            if path in self.watchers:
                self.watchers[path].add(name)
                return
            self.watchers[path] = {name}
            self.kinds[path] = kind

        # ``*_`` takes the event kazoo passes to a function that accepts
        # it; it calls one that does not twice, the first raising TypeError.
        def on_publication(data, stat, *_):
            with self.lock:
                names = self.watchers.get(path)
                if not names:
                    self.watchers.pop(path, None)
                    self.publications.pop(path, None)
                    return False
                self.publications[path] = self._decode_pub(path, data)
                names = list(names)
            for n in names:
                self.enqueue(n)
        try:
            self.client.DataWatch(path, on_publication)
        except kz_exc.NoAuthError:
            LOG.warning('not allowed to read %s yet; retrying', path)
            with self.lock:
                self.watchers.pop(path, None)
            threading.Timer(1.0, self.enqueue, (name,)).start()

    def _watch_children(self, path, name):
        """Watch a group's member list for ``name``; the children are kept
        in ``children``. A list not there yet, or not yet readable, is
        looked at again in a second."""
        with self.lock:
            if path in self.child_watchers:
                self.child_watchers[path].add(name)
                return
            self.child_watchers[path] = {name}

        def on_children(children):
            with self.lock:
                names = self.child_watchers.get(path)
                if not names:
                    self.child_watchers.pop(path, None)
                    self.children.pop(path, None)
                    return False
                self.children[path] = sorted(children)
                names = list(names)
            for n in names:
                self.enqueue(n)
        try:
            self.client.ChildrenWatch(path, on_children)
            if not self.client.exists(path):
                raise kz_exc.NoNodeError(path)
        except (kz_exc.NoAuthError, kz_exc.NoNodeError) as exc:
            LOG.warning('cannot list %s yet (%s); retrying', path,
                        type(exc).__name__)
            with self.lock:
                self.child_watchers.pop(path, None)
            threading.Timer(1.0, self.enqueue, (name,)).start()

    def _decode_pub(self, path, data):
        try:
            return records.decode(data, path, self.kinds.get(
                path, 'publication'))
        except records.RecordError as exc:
            LOG.error('%s', exc)
            return None

    def _refresh_publication(self, path):
        try:
            data, _ = self.client.get(path)
        except kz_exc.KazooException:
            data = None
        self.publications[path] = self._decode_pub(path, data)

    def enqueue(self, name):
        with self.lock:
            if name in self.dirty:
                return
            self.dirty.add(name)
        self.queue.put(name)

    # -- the reconciler --------------------------------------------------

    def _reconcile_loop(self):
        while not self.stopping.is_set():
            name = self.queue.get()
            if name is None:
                return
            with self.lock:
                self.dirty.discard(name)
            if self.fence is None:
                continue  # _recover() enqueues everything once owner again
            try:
                self.evaluate(name)
            except hostside.Fenced as exc:
                LOG.warning('%s', exc)
            except Exception:  # noqa: one component must not stop the rest
                LOG.exception('evaluating component %s', name)

    def _remember(self, name, status):
        with self.lock:
            slot = self.slots.get(name)
            if slot is not None:
                slot.status = status

    def evaluate(self, name):
        for _ in range(MAX_DECISIONS):
            with self.lock:
                slot = self.slots.get(name)
                if slot is None:
                    return
                spec = None if slot.removed else slot.spec
                if spec is None and not slot.removed:
                    return  # unreadable: wait for the engine to fix it
                if slot.running and not slot.removed:
                    slot.missed = True
                    return
                status = slot.status
            local = self.local.load(name)
            if spec is None:
                status = {}  # gone with the spec
            elif status is None or local.get('result'):
                # A kept result is dropped only if ZooKeeper itself shows
                # it, never on the word of a write that may have failed.
                status = slot.status = self.side.read_status(name) or {}
            upstreams, groups = [], []
            if spec is not None and spec['action'] in decide.FORWARD:
                upstreams, groups = self._upstreams(slot, spec)
            decision = decide.decide(spec, upstreams, local, status,
                                     self.session, groups)
            if not self._carry_out(slot, spec, status, decision):
                return
        LOG.error('%s: no settled decision after %d tries', name,
                  MAX_DECISIONS)

    def _upstreams(self, slot, spec):
        """([(wire, publication)], [(group wire, [(member, publication)])])
        of what ``spec`` reads, each node watched for ``slot``: wires in
        this stack, wires to another stack's component (through its
        export record, which names the host it publishes on) and group
        wires (the member list, each member's record and publication)."""
        wired = [(w, self.paths.outputs(w['host'], w['component']))
                 for w in spec.get('wires', ())]
        used = {p for _, p in wired}
        remote = []
        for wire in spec.get('remote', ()):
            used.add(wire['export'])
            export = self._read_watched(wire['export'], slot, 'export')
            host = (export or {}).get('host')
            path = None
            if host:
                path = zpaths.StackPaths(self.paths.root, wire[
                    'stack']).outputs(host, wire['component'])
                used.add(path)
                self._read_watched(path, slot)
            remote.append((dict(wire, host=host), path))
        groups = []
        for gwire in spec.get('groups', ()):
            listing = gwire['members']
            with self.lock:
                known = slot.name in self.child_watchers.get(listing, ())
            if not known:
                self._watch_children(listing, slot.name)
            with self.lock:
                children = list(self.children.get(listing) or ())
            found = []
            for child in children:
                rec_path = '%s/%s' % (listing, child)
                used.add(rec_path)
                rec = self._read_watched(rec_path, slot, 'member')
                pub = None
                if rec and rec.get('stack') and rec.get('host'):
                    out = zpaths.StackPaths(self.paths.root, rec[
                        'stack']).outputs(rec['host'], rec['component'])
                    used.add(out)
                    pub = self._read_watched(out, slot)
                found.append((rec, pub))
            groups.append((gwire, found))
        for wire, path in wired:
            if path not in self.watchers or slot.name not in \
                    self.watchers[path]:
                self._watch_upstream(path, slot.name)
        self._unwatch(slot, slot.upstreams - used)
        slot.upstreams = used
        with self.lock:
            upstreams = [(w, self.publications.get(p)) for w, p in wired]
            upstreams += [(w, self.publications.get(p) if p else None)
                          for w, p in remote]
        return upstreams, groups

    def _read_watched(self, path, slot, kind='publication'):
        """The record at ``path``, watched for ``slot`` from now on."""
        if path not in self.watchers or slot.name not in \
                self.watchers[path]:
            self._watch_upstream(path, slot.name, kind)
        with self.lock:
            return self.publications.get(path)

    def _unwatch(self, slot, paths):
        """``slot`` no longer reads ``paths`` (a member that left): each
        watch ends at its node's next event once nobody reads it."""
        with self.lock:
            for path in paths:
                names = self.watchers.get(path)
                if names:
                    names.discard(slot.name)

    def _carry_out(self, slot, spec, status, decision):
        """Act on a decision; True to decide again on what it left."""
        name, kind, out = slot.name, decision.kind, self.publisher
        if kind == decide.NOTHING:
            return False
        if kind == decide.FORGET:
            self._forget(slot)
        elif kind == decide.PUBLISH:
            LOG.info('%s: publishing the %s result kept on this VM', name,
                     decision.result['status'].get('action'))
            return out.publish_result(name, decision.result)
        elif kind == decide.DROP_RESULT:
            out.drop_result(name)
            return True
        elif kind == decide.INTERRUPTED:
            self._report_interrupted(name, spec, decision)
            return True
        elif kind == decide.UPSTREAM_FAILED:
            LOG.info('%s: %s', name, decision.reason)
            out.write(name, spec, status, records.FAILED,
                      reason=decision.reason,
                      root_cause=decision.root_cause,
                      values=publish.PREVIOUS)
        elif kind == decide.WAIT:
            out.write(name, spec, status, records.WAITING, publish=False,
                      waiting_on=decision.waiting_on,
                      waiting_for=decision.waiting_for,
                      waiting_since=decision.since or records.now())
        elif kind == decide.NEVER_RAN:
            out.write(name, spec, status, records.COMPLETE,
                      action=decision.action, reason=decision.reason,
                      values={})
        elif kind == decide.CONFIRM:
            # deploy_stdout and friends describe the last run: keep them.
            extra = {k: status.get(k) for k in ('exit_code', 'stdout',
                                                'stderr')}
            if decision.used:
                # The same values, maybe from other members (one
                # replaced by its twin): what the config now relies on.
                extra.update(decision.used, last_ok=dict(
                    status.get('last_ok') or {}, **decision.used))
            out.write(name, spec, status, records.COMPLETE, confirmed=True,
                      action=decision.action, run_key=decision.run_key,
                      values=publish.PREVIOUS, **extra)
        elif kind == decide.RUN:
            self._start_run(slot, spec, status, decision.action,
                            decision.inputs, decision.run_key,
                            decision.used)
        else:
            raise ValueError('unknown decision %r' % (decision,))
        return False

    def _report_interrupted(self, name, spec, decision):
        run = decision.run
        if decision.kill and hooks.kill_group(decision.kill):
            LOG.warning('%s: stopped what the previous agent left running '
                        '(process group %s)', name, decision.kill)
        LOG.warning('%s: %s', name, decision.reason)
        interrupted = dict(spec, epoch=run.get('epoch', spec['epoch']),
                           action=run.get('request', spec['action']))
        self.publisher.write(name, interrupted, run, records.FAILED,
                             action=run.get('action'),
                             reason=decision.reason, dirty=True,
                             started=run.get('started'),
                             run_key=run.get('run_key'),
                             values=publish.PREVIOUS)
        self.local.update(name, pgid=None, running=None)

    def _hidden_values(self, spec, inputs):
        hidden = {i['name'] for i in spec.get('inputs', ()) if i.get(
            'hidden')}
        return [str(v) for k, v in inputs.items() if k in hidden and v]

    # -- runs ------------------------------------------------------------

    def _start_run(self, slot, spec, status, kind, inputs, key,
                   used=None):
        config = (spec.get('configs') or {}).get(kind)
        waiting_since = status.get('waiting_since') if status.get(
            'epoch') == spec['epoch'] else None
        with self.lock:
            slot.running = (spec['epoch'], kind)
        if not config:
            # Nothing to run for this action: what it had stands.
            try:
                self._finish(slot, spec, status, kind, inputs, key, None,
                             waiting_since, records.now(), used)
            finally:
                with self.lock:
                    slot.running = None
            return
        run = hooks.Run(config, inputs, spec.get('outputs', ()),
                        self.local.workdir(slot.name),
                        timeout=spec.get('timeout'),
                        hook_dirs=self.conf.hook_dirs, derived={
                            'deploy_server_id': spec.get('server') or
                            self.conf.host,
                            'deploy_action': kind,
                            'deploy_stack_id': '%s/%s' % (
                                spec.get('stack_name', ''),
                                self.conf.stack_id),
                            'deploy_resource_name': slot.name,
                            'deploy_signal_transport': 'NO_SIGNAL'})
        # Started here, waited for in the pool: a thread handoff less
        # between an upstream's publication and this script's start.
        started = records.now()
        try:
            failed = run.start()
        except Exception as exc:  # noqa: reported as the run's failure
            failed = hooks.Result(None, error='cannot start: %s' % exc)
        self.pool.submit(self._run, slot, spec, status, kind, inputs, key,
                         run, self.fence, waiting_since, started, failed,
                         used)

    def _run(self, slot, spec, status, kind, inputs, key, run, fence,
             waiting_since, started, failed, used=None):
        published = False
        try:
            if failed is None:
                with self.lock:
                    self.active.add(run)
                self.local.update(slot.name, durable=False, pgid=run.pgid,
                                  running={
                                      'session': self.session,
                                      'epoch': spec['epoch'],
                                      'request': spec['action'],
                                      'action': kind, 'started': started,
                                      'run_key': key})
                LOG.info('%s: %s started', slot.name, kind)
                announced = publish.Announcement(
                    lambda: self.publisher.write(
                        slot.name, spec, status, records.RUNNING,
                        publish=False, action=kind, started=started,
                        waiting_since=waiting_since or started,
                        pid=run.pgid, fence=fence, run_key=key, wait=False,
                        **(used or {})))
                result = run.wait()
                announced.cancel()
                with self.lock:
                    self.active.discard(run)
            else:
                result, announced = failed, None
            if self.stopping.is_set():
                return
            published = self._finish(slot, spec, status, kind, inputs, key,
                                     result, waiting_since, started,
                                     used)
            if announced and announced.pending:
                # Sent before the result, so settled by now; its outcome
                # no longer matters once the result is written or kept.
                try:
                    self.side.settle(announced.pending)
                except (hostside.Fenced, kz_exc.KazooException):
                    pass
        except Exception:  # noqa: report, never lose a run silently
            LOG.exception('%s: %s', slot.name, kind)
        finally:
            # Evaluated again only if needed: re-reading a status just
            # written would cost CPU at the moment a downstream starts.
            with self.lock:
                slot.running = None
                again, slot.missed = slot.missed or not published, False
            if again:
                self.enqueue(slot.name)

    def _finish(self, slot, spec, status, kind, inputs, key, result,
                waiting_since, started, used=None):
        """Publish a run's outcome (``result`` None: the action has no
        config); True once ZooKeeper has it."""
        name = slot.name
        finished = records.now()
        fields = dict(action=kind, started=started, finished=finished,
                      waiting_since=waiting_since or started, run_key=key)
        fields.update(used or {})
        if result is None:
            ok, values = True, {} if kind == 'CREATE' else publish.PREVIOUS
            fields.update(exit_code=None, reason='no %s config' % kind)
        else:
            hidden = self._hidden_values(spec, inputs)
            ok, values = result.ok, result.outputs
            fields.update(
                exit_code=result.exit_code,
                stdout=records.mask(records.tail(result.stdout,
                                                 STATUS_TEXT_CHARS), hidden),
                stderr=records.mask(records.tail(result.stderr,
                                                 STATUS_TEXT_CHARS), hidden),
                reason=records.mask(result.error, hidden))
        limit = (spec.get('limits') or {}).get('outputs')
        if ok and limit and values is not publish.PREVIOUS:
            # ZooKeeper's quota would refuse the publication: say why
            # instead, as the run's failure.
            size = records.publication_bytes(values)
            if size > limit:
                ok = False
                fields['reason'] = (
                    'outputs are %s, over the limit of %s per component '
                    '([softorch] max_outputs_bytes of this cloud)'
                    % (records.human(size), records.human(limit)))
        if ok:
            if kind in ('CREATE', 'UPDATE', 'RESUME'):
                last_ok = {'run_key': key, 'action': kind,
                           'generation': spec['generation'],
                           'digest': spec['digest'], 'finished': finished}
                last_ok.update(used or {})
            else:
                last_ok = status.get('last_ok')
            LOG.info('%s: %s complete in %.3f s', name, kind,
                     finished - started)
            state = records.COMPLETE
            previous = dict(status, last_ok=last_ok, dirty=False)
            # What this component's own later DELETE config runs with.
            keep = {'inputs': inputs}
        else:
            LOG.info('%s: %s failed (exit %s): %s', name, kind,
                     result.exit_code, fields.get('reason'))
            state, previous, keep = records.FAILED, status, {}
            fields['dirty'] = True
            values = publish.PREVIOUS
        if result is None:
            # Nothing ran, so nothing to keep against a repeat.
            self.publisher.write(name, spec, previous, state, values=values,
                                 **fields)
            self.local.update(name, pgid=None, running=None, **keep)
            return True
        return self.publisher.result(name, spec, previous, state, values,
                                     keep, **fields)

    def _forget(self, slot):
        with self.lock:
            self.slots.pop(slot.name, None)
            for path in slot.upstreams:
                names = self.watchers.get(path)
                if names:
                    names.discard(slot.name)
        if self.local.load(slot.name).get('result'):
            LOG.info('%s: removed; its unpublished result is dropped',
                     slot.name)
        self.local.forget(slot.name)
        LOG.info('%s: removed', slot.name)
