"""How a resource action waits for agents, and only for agents.

Under convergence every in-progress resource holds an engine thread, so a
check blocks on ZooKeeper watches, reacting within milliseconds, but
returns to Heat after at most ``check_slice`` seconds so that Heat can
cancel it between checks. The legacy engine steps every resource of a
stack in one thread: there a check never blocks.

Heat's TaskRunner sleeps a whole second between two checks. After a check
that has already waited its slice on watches, that second would only be
time in which no watch is listened to (an agent finishing then is seen up
to a second late), so the sleep that follows such a check, in the same
thread, is skipped. Every other task sleeps as Heat decides.
"""

import threading
import time

from heat.engine import scheduler
from oslo_config import cfg

from heat_softorch.engine import options

_waited = threading.local()


def _skip_sleep_after_waiting(sleep):
    def _sleep(runner, wait_time):
        if getattr(_waited, 'flag', False):
            _waited.flag = False
            wait_time = 0
        return sleep(runner, wait_time)
    _sleep.softorch = True
    return _sleep


# plugin_dirs may import this module twice: wrap Heat's method once.
if not getattr(scheduler.TaskRunner._sleep, 'softorch', False):
    scheduler.TaskRunner._sleep = _skip_sleep_after_waiting(
        scheduler.TaskRunner._sleep)


def epoch_of(stack):
    """One Heat operation on the stack: every component touched by it
    settles in this epoch, and agents tell operations apart by it."""
    if stack.convergence and stack.current_traversal:
        return stack.current_traversal
    return legacy_epoch(stack.action, stack.updated_time or
                        stack.created_time)


def legacy_epoch(action, when):
    """The legacy engine's epoch: the operation and when it started, to
    the second: MariaDB keeps no fraction, and a member stack computes
    its parent's epoch from the parent's row (engine/family.py)."""
    return '%s-%s' % (action, when.replace(microsecond=0).isoformat()
                      if when else '')


def until(fabric, stack, watched, check):
    """``check()`` until it returns something other than None, for at most
    one slice. ``watched()`` gives the (data, children) paths whose change
    may change the answer; they are snapshotted before each check, so no
    change is missed between the check and the wait."""
    blocking = stack.convergence
    deadline = time.monotonic() + cfg.CONF[options.GROUP].check_slice
    while True:
        snapshot = fabric.feed.snapshot(*watched()) if blocking else None
        result = check()
        if result is not None:
            return result
        remaining = deadline - time.monotonic()
        if not blocking:
            return None
        if remaining <= 0:
            _waited.flag = True
            return None
        fabric.feed.wait(snapshot, remaining)
