"""Writing a component's status and publication, as its host's agent.

Every write is one transaction fenced by the agent's lock node (see
fabric.hostside): a status alone (WAITING, RUNNING) or a status with the
publication that downstream components read. A write made under a lock
the agent no longer holds fails with hostside.Fenced.

A run's result is recorded on the VM, with an fsync, before it is
published, and forgotten once ZooKeeper has it. When the publication fails
(ZooKeeper unreachable, the session expired, the host not yet owned again)
the record stays, and the agent publishes it under the lock it holds then
(decide's rule 2): a finished run is never lost and never run again. The
record holds the very status and publication the run produced; a failure
keeps the outputs published before it, read only when it is published, so
that nothing on the way from a script's exit to its record needs
ZooKeeper.
"""

import logging
import threading

from kazoo import exceptions as kz_exc

from heat_softorch.fabric import hostside
from heat_softorch.fabric import records

LOG = logging.getLogger('softorch.agent')

# A run is announced RUNNING in ZooKeeper once it has lasted this long: a
# shorter one goes straight to its result, one write instead of two on
# the path from its exit to its downstream's start. An agent restarted in
# between learns of the run from its local state instead.
ANNOUNCE_AFTER = 0.05
# values=PREVIOUS: publish the outputs already published (a failure, a
# confirmation), read when the publication is sent.
PREVIOUS = object()


class Publisher(object):

    def __init__(self, side, local, host, session, fence, remember,
                 stack=None):
        self.side = side
        self.local = local
        self.host = host
        self.session = session
        # Named in root causes: a component of another stack may read it.
        self.stack = stack
        self._fence = fence          # () -> the lock node held now, or None
        self._remember = remember    # (name, status): what was last written

    def build(self, name, spec, previous, state, values=None, publish=True,
              root_cause=None, **fields):
        """The status, and the publication unless ``publish`` is False,
        for ``state`` of ``spec``, carrying over from ``previous`` what
        outlives a state (the last success, a dirty VM, waiting since)."""
        status = {
            'component': name, 'host': self.host,
            'server': spec.get('server'), 'epoch': spec['epoch'],
            'generation': spec['generation'], 'digest': spec['digest'],
            'request': spec['action'], 'state': state,
            'session': self.session,
            'last_ok': previous.get('last_ok'),
            'dirty': previous.get('dirty', False),
            # The last epoch it settled in: from then on in that epoch it
            # follows a group's membership (decide.GroupRead).
            'settled_in': previous.get('settled_in'),
        }
        if spec.get('member'):
            status['member'] = spec['member']
        if previous.get('epoch') == spec['epoch'] and \
                previous.get('waiting_since'):
            status['waiting_since'] = previous['waiting_since']
        status.update(fields, root_cause=root_cause)
        if state in records.DONE_STATES:
            status['settled_in'] = spec['epoch']
            status.setdefault('finished', records.now())
            status.setdefault('waiting_since', status['finished'])
        if not publish:
            return status, None
        return status, {
            'state': state, 'epoch': spec['epoch'],
            'generation': spec['generation'], 'request': spec['action'],
            'values': None if values is PREVIOUS else values or {},
            'finished': status.get('finished'),
            'root_cause': root_cause or (
                self.root_cause(name) if state == records.FAILED else None),
            # What it read of other stacks: their readers look.
            **({'remote': fields['remote']} if 'remote' in fields else {})}

    def root_cause(self, name):
        cause = {'host': self.host, 'component': name}
        if self.stack:
            cause['stack'] = self.stack
        return cause

    def write(self, name, spec, previous, state, fence=None, wait=True,
              **fields):
        """Build and send a status (and publication); with ``wait=False``
        the pending write, for hostside's settle()."""
        status, pub = self.build(name, spec, previous, state, **fields)
        return self.send(name, status, pub, fence=fence, wait=wait)

    def send(self, name, status, publication, fence=None, wait=True):
        if publication is not None and publication['values'] is None:
            publication = dict(publication,
                               values=self.previous_values(name))
        self._remember(name, status)
        try:
            pending = self.side.publish_async(name, status, publication,
                                              fence=fence or self._fence())
            if not wait:
                return pending
            self.side.settle(pending)
        except Exception:
            # Not what ZooKeeper holds: read it again before deciding.
            self._remember(name, None)
            raise
        return status

    def previous_values(self, name):
        pub = self.side.read_publication(name) or {}
        return pub.get('values') or {}

    # -- results ---------------------------------------------------------

    def result(self, name, spec, previous, state, values, keep, **fields):
        """Record a run's result on the VM, then publish it under the lock
        held now. ``keep``: more for the local record (a success's inputs,
        for its later DELETE). True once ZooKeeper has it."""
        status, pub = self.build(name, spec, previous, state, values=values,
                                 **fields)
        result = {'status': status, 'publication': pub}
        self.local.update(name, pgid=None, running=None, result=result,
                          **keep)
        return self.publish_result(name, result)

    def publish_result(self, name, result):
        """Publish a recorded result; False, keeping it, when ZooKeeper
        cannot take it now."""
        try:
            self.send(name, result['status'], result['publication'])
        except (hostside.Fenced, kz_exc.KazooException) as exc:
            LOG.warning('%s: %s result kept on this VM, published once the '
                        'agent owns its host again (%s)', name,
                        result['status'].get('action'),
                        str(exc) or type(exc).__name__)
            return False
        self.drop_result(name)
        return True

    def drop_result(self, name):
        self.local.update(name, result=None)


class Announcement(object):
    """Sends a run's RUNNING status unless the run ends within
    ANNOUNCE_AFTER. Sending and cancelling exclude each other, so the
    RUNNING write is always sent before the result that follows it."""

    def __init__(self, send):
        self._send = send
        self._lock = threading.Lock()
        self._over = False
        self.pending = None
        self._timer = threading.Timer(ANNOUNCE_AFTER, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self):
        with self._lock:
            if self._over:
                return
            try:
                self.pending = self._send()
            except Exception as exc:  # noqa: the result's write will tell
                LOG.warning('RUNNING status not sent: %s', exc)

    def cancel(self):
        with self._lock:
            self._over = True
        self._timer.cancel()
