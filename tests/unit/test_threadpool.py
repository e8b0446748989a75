"""Waits lend their engine thread: heat_softorch.engine.threadpool with
futurist's ThreadPoolExecutor, the one oslo.messaging's threading
executor runs Heat's actions in."""

import threading

import futurist

from heat_softorch.engine import threadpool

WAIT = 30


def test_work_queued_behind_waiting_threads_runs():
    pool = futurist.ThreadPoolExecutor(max_workers=2)
    release = threading.Event()
    waiting = threading.Semaphore(0)

    def wait_for_agents():
        with threadpool.lent():
            waiting.release()
            # What a component's action waits for: the queued action.
            return release.wait(WAIT)

    try:
        waiters = [pool.submit(wait_for_agents) for _ in range(2)]
        for _ in waiters:
            assert waiting.acquire(timeout=30)
        # Both configured threads wait; the action they wait for still
        # gets one.
        queued = pool.submit(release.set)
        queued.result(timeout=WAIT)
        assert [w.result(timeout=30) for w in waiters] == [True, True]
    finally:
        release.set()
        pool.shutdown()


def test_the_loan_ends_with_the_wait():
    pool = futurist.ThreadPoolExecutor(max_workers=1)
    try:
        def lend():
            with threadpool.lent():
                return pool._max_workers
        assert pool.submit(lend).result(timeout=30) == 2
        assert pool._max_workers == 1
    finally:
        pool.shutdown()
