"""How a resource action waits for agents, and only for agents.

Under convergence every in-progress resource holds an engine thread, so a
check blocks on ZooKeeper watches, reacting within milliseconds, but
returns to Heat after at most ``check_slice`` seconds so that Heat can
cancel it between checks. The legacy engine steps every resource of a
stack in one thread: there a check never blocks.
"""

import time

from oslo_config import cfg

from heat_softorch.engine import options


def epoch_of(stack):
    """One Heat operation on the stack: every component touched by it
    settles in this epoch, and agents tell operations apart by it."""
    if stack.convergence and stack.current_traversal:
        return stack.current_traversal
    when = stack.updated_time or stack.created_time
    return '%s-%s' % (stack.action, when.isoformat() if when else '')


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
        if not blocking or remaining <= 0:
            return None
        fabric.feed.wait(snapshot, remaining)
