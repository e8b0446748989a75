"""How long ZooKeeper has been out of reach, as one process sees it.

The engine rides out ZooKeeper faults (a blip, a restart, a leader change,
an expired session) by retrying, and gives up only once ZooKeeper has been
gone longer than a limit. That needs one clock per process, not per
request: a resource check that returns to Heat every second and is called
again must count the same outage, and every resource waiting on the same
ZooKeeper must give up at the same moment.

An outage starts when the client's connection drops (kazoo's SUSPENDED or
LOST) or when a request fails for want of a connection while kazoo still
believes it is connected (a half-open socket: kazoo notices only after two
thirds of the session timeout); it ends when the connection is back
(CONNECTED) or a request succeeds. A client that has never connected is
in an outage from its first failed attempt.

Pure bookkeeping: kazoo's states come in through :meth:`listener`, the
clock is injectable, and nothing here talks to ZooKeeper.
"""

import threading
import time

from kazoo import exceptions as kz_exc
from kazoo.handlers import threading as kz_threading
from kazoo.protocol import states
from kazoo import retry as kz_retry

# What a request raises for want of a working connection: worth retrying
# with a new connection or session. ConnectionClosedError is a
# SessionExpiredError: a client closed under us is replaced, then retried.
CONNECTION_ERRORS = (kz_exc.ConnectionLoss, kz_exc.SessionExpiredError,
                     kz_exc.OperationTimeoutError,
                     kz_threading.KazooTimeoutError,
                     kz_retry.RetryFailedError)


class Outage(object):
    """Since when ZooKeeper has been unreachable, if it is."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._since = None
        self._up = threading.Event()
        self._up.set()
        self.last_error = None
        self.sessions_lost = 0

    # -- what happened ---------------------------------------------------

    def listener(self, state):
        """A kazoo connection listener (``client.add_listener``)."""
        if state == states.KazooState.CONNECTED:
            self.up()
        else:
            if state == states.KazooState.LOST:
                with self._lock:
                    self.sessions_lost += 1
            self.down('connection %s' % state.lower())

    def down(self, error=None):
        """The connection dropped, or a request failed for want of one."""
        with self._lock:
            if self._since is None:
                self._since = self._clock()
            if error is not None:
                self.last_error = error
            self._up.clear()

    def up(self):
        """ZooKeeper answered: whatever outage there was is over."""
        with self._lock:
            self._since = None
            self._up.set()

    # -- what it amounts to ----------------------------------------------

    @property
    def since(self):
        """The clock reading at which the outage began; None when up."""
        return self._since

    def gone_for(self):
        """Seconds ZooKeeper has been unreachable; 0 when it is not."""
        with self._lock:
            if self._since is None:
                return 0.0
            return max(0.0, self._clock() - self._since)

    def exceeded(self, limit):
        """True once ZooKeeper has been gone for longer than ``limit``."""
        return self.gone_for() > limit

    def wait_up(self, timeout):
        """Sleep up to ``timeout`` seconds, less if the connection comes
        back meanwhile: the sleep of a retry that should try again as soon
        as it can succeed. True when up."""
        return self._up.wait(timeout)


def error_text(exc):
    """A connection error as words: kazoo's exceptions mostly have none."""
    if isinstance(exc, str):
        return exc
    text = str(exc).strip()
    meaning = {
        kz_exc.ConnectionClosedError: 'the client was closed',
        kz_exc.SessionExpiredError: 'the session expired',
        kz_exc.ConnectionLoss: 'the connection was lost',
        kz_exc.OperationTimeoutError: 'a request got no answer in time',
        kz_threading.KazooTimeoutError: 'a request got no answer in time',
        kz_retry.RetryFailedError: 'retries gave up',
    }
    for kind, words in meaning.items():
        if isinstance(exc, kind):
            return '%s: %s' % (type(exc).__name__, text or words)
    return '%s: %s' % (type(exc).__name__, text) if text else \
        type(exc).__name__
