"""Waiting for agents without taking an engine thread from Heat.

Under convergence a resource action runs from start to end in one thread
of the engine's RPC executor (oslo.messaging's threading executor: a
futurist ThreadPoolExecutor of ``executor_thread_pool_size`` threads). A
component's action waits for agents, and an agent may itself wait for a
Heat action still queued for a thread (the server of an upstream's VM):
were every thread waiting, that action would stay queued for good. While
an action waits, ``lent()`` gives its executor one more thread, so a
queued action always finds one and the configured pool size counts the
threads that work, not those that wait.

Failure behaviour: where the current thread is not a worker of such an
executor (the legacy engine's stack thread, whose checks never block; an
eventlet executor) ``lent()`` does nothing. ``LENDS`` says whether this
engine's executor is one it can lend from; without it the plugin keeps a
component's action from starting before every VM it waits for exists
(``graph.analyse(..., waits_hold_threads=True)``), at the cost of many
more Heat dependencies.
"""

import contextlib
import threading

import futurist
from oslo_utils import eventletutils

# oslo.messaging picks the eventlet executor when threads are patched.
LENDS = not eventletutils.is_monkey_patched('thread')


def _executor():
    # futurist's worker threads keep a weak reference to their executor.
    ref = getattr(threading.current_thread(), 'executor_ref', None)
    executor = ref() if callable(ref) else None
    if isinstance(executor, futurist.ThreadPoolExecutor):
        return executor
    return None


@contextlib.contextmanager
def lent():
    """One more thread for this thread's executor while the block waits.

    The threads it starts stay in the pool, idle, once the waits end
    (futurist does not retire workers).
    """
    executor = _executor()
    if executor is None:
        yield
        return
    with executor._shutdown_lock:
        executor._max_workers += 1
        # Work queued before the loan would wait for the next submission.
        if executor.queue_size:
            executor._maybe_spin_up()
    try:
        yield
    finally:
        with executor._shutdown_lock:
            executor._max_workers -= 1
