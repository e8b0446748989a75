"""Waiting for any of a set of zNodes to change.

One kazoo watch per path per client, however many waiters: raw watches
are one-shot and a fresh callback per poll would pile up on nodes that do
not change. kazoo's DataWatch and ChildrenWatch re-arm themselves and
survive reconnects; after a reconnect every path is counted as changed,
since an event may have been missed while the connection was down.

Take a snapshot *before* reading the state it guards, then wait on it: a
change between the read and the wait is then never lost. A change wakes
only the waiters of its path: an engine checking 64 components at once
would otherwise wake 64 threads for every status an agent writes.
"""

import functools
import threading
import time

from kazoo import client as kz_client
from kazoo.protocol import states

# Longest a snapshot waits for new watches to be armed.
ARM_WAIT = 2.0


class ChangeFeed(object):

    def __init__(self, client):
        self.client = client
        self._lock = threading.Lock()
        self._counts = {}
        self._watched = set()
        self._reconnects = 0
        self._waiters = {}  # key -> the Events of the threads waiting on it
        client.add_listener(self._on_state)

    def _on_state(self, state):
        if state == states.KazooState.CONNECTED:
            with self._lock:
                self._reconnects += 1
                for events in self._waiters.values():
                    for event in events:
                        event.set()

    def _bump(self, key):
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            for event in self._waiters.get(key, ()):
                event.set()

    def _ensure(self, key):
        """Start watching ``key``; an Event set once the watch is armed,
        or None when it already was."""
        with self._lock:
            if key in self._watched:
                return None
            self._watched.add(key)
        # Armed in a thread of kazoo's: arming reads the node, and a
        # DataWatch retries that read for as long as ZooKeeper is gone, so
        # the caller (a resource check that must return to Heat within its
        # slice) must not be the one waiting for it.
        armed = threading.Event()
        self.client.handler.spawn(self._arm, key, armed)
        return armed

    def _arm(self, key, armed):
        try:
            self._arm_watch(key)
        finally:
            armed.set()

    def _arm_watch(self, key):
        kind, path = key
        # Both callbacks take exactly what kazoo passes: a DataWatch calls
        # func(data, stat, event) whenever func accepts three arguments, so
        # a key bound as a third, defaulted parameter would be overwritten.
        try:
            if kind == 'children':
                kz_client.ChildrenWatch(
                    self.client, path, functools.partial(self._on_event, key),
                    allow_session_lost=True)
            else:
                self.client.DataWatch(path, functools.partial(
                    self._on_event, key))
        except Exception:  # noqa: ChildrenWatch gives up after its retries
            # Not armed: the next snapshot tries again, and the waiters
            # check again now rather than wait for a change nobody watches.
            with self._lock:
                self._watched.discard(key)
            self._bump(key)

    def _on_event(self, key, *_):
        self._bump(key)
        return key in self._watched  # False ends the watch

    def snapshot(self, data_paths=(), children_paths=()):
        keys = [('data', p) for p in data_paths] + [
            ('children', p) for p in children_paths]
        arming = [e for e in map(self._ensure, keys) if e is not None]
        # A watch's first call counts as a change. Armed before the counts
        # are read (the usual case: one round trip), it is in them and
        # wakes nobody; armed later (ZooKeeper slow or gone), it wakes the
        # waiters of this snapshot, which may have missed a change made
        # before the watch existed.
        deadline = time.monotonic() + ARM_WAIT
        for event in arming:
            if not event.wait(max(0.0, deadline - time.monotonic())):
                break
        with self._lock:
            return (self._reconnects,
                    {k: self._counts.get(k, 0) for k in keys})

    def forget(self, data_paths=(), children_paths=()):
        """Stop watching: each watch ends at its node's next event."""
        with self._lock:
            for key in [('data', p) for p in data_paths] + [
                    ('children', p) for p in children_paths]:
                self._watched.discard(key)
                self._counts.pop(key, None)

    def wait(self, snapshot, timeout):
        """Block until a node of ``snapshot`` changed or ``timeout`` passed.
        True when something changed."""
        reconnects, counts = snapshot
        event = threading.Event()
        with self._lock:
            if self._reconnects != reconnects or any(
                    self._counts.get(k, 0) != n for k, n in counts.items()):
                return True
            for key in counts:
                self._waiters.setdefault(key, set()).add(event)
        try:
            return event.wait(timeout)
        finally:
            with self._lock:
                for key in counts:
                    events = self._waiters.get(key)
                    if events is not None:
                        events.discard(event)
                        if not events:
                            del self._waiters[key]
