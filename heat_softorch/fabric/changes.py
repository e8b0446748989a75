"""Waiting for any of a set of zNodes to change.

One kazoo watch per path per client, however many waiters: raw watches
are one-shot and a fresh callback per poll would pile up on nodes that do
not change. kazoo's DataWatch and ChildrenWatch re-arm themselves and
survive reconnects; after a reconnect every path is counted as changed,
since an event may have been missed while the connection was down.

Take a snapshot *before* reading the state it guards, then wait on it: a
change between the read and the wait is then never lost.
"""

import functools
import threading

from kazoo import client as kz_client
from kazoo.protocol import states


class ChangeFeed(object):

    def __init__(self, client):
        self.client = client
        self._cond = threading.Condition()
        self._counts = {}
        self._watched = set()
        self._reconnects = 0
        client.add_listener(self._on_state)

    def _on_state(self, state):
        if state == states.KazooState.CONNECTED:
            with self._cond:
                self._reconnects += 1
                self._cond.notify_all()

    def _bump(self, key):
        with self._cond:
            self._counts[key] = self._counts.get(key, 0) + 1
            self._cond.notify_all()

    def _ensure(self, key):
        with self._cond:
            if key in self._watched:
                return
            self._watched.add(key)
        kind, path = key
        # Both callbacks take exactly what kazoo passes: a DataWatch calls
        # func(data, stat, event) whenever func accepts three arguments, so
        # a key bound as a third, defaulted parameter would be overwritten.
        if kind == 'children':
            kz_client.ChildrenWatch(self.client, path,
                                    functools.partial(self._on_event, key),
                                    allow_session_lost=True)
        else:
            self.client.DataWatch(path, functools.partial(self._on_event,
                                                          key))

    def _on_event(self, key, *_):
        self._bump(key)
        return key in self._watched  # False ends the watch

    def snapshot(self, data_paths=(), children_paths=()):
        keys = [('data', p) for p in data_paths] + [
            ('children', p) for p in children_paths]
        for key in keys:
            self._ensure(key)
        with self._cond:
            return (self._reconnects,
                    {k: self._counts.get(k, 0) for k in keys})

    def forget(self, data_paths=(), children_paths=()):
        """Stop watching: each watch ends at its node's next event."""
        with self._cond:
            for key in [('data', p) for p in data_paths] + [
                    ('children', p) for p in children_paths]:
                self._watched.discard(key)
                self._counts.pop(key, None)

    def wait(self, snapshot, timeout):
        """Block until a node of ``snapshot`` changed or ``timeout`` passed.
        True when something changed."""
        reconnects, counts = snapshot

        def changed():
            return self._reconnects != reconnects or any(
                self._counts.get(k, 0) != n for k, n in counts.items())

        with self._cond:
            return self._cond.wait_for(changed, timeout)
