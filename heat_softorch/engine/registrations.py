"""What this engine process registered, per stack and epoch.

A component's Heat action registers the specs of its upstreams, itself
(``Analysis.registration_order``) and of the downstream components Heat
can already resolve (``Analysis.ahead_of``). Built by every resource, that
is quadratic: Heat starts the 29 downstream components of a 30-chain
together, and each built up to 30 specs (a spec is a resolution of Heat's
Properties), on two cores. Within an epoch (one Heat operation on
one template) a spec Heat can resolve no longer changes, so each engine
process builds each spec once per epoch: the registrations of one stack
and epoch take turns, and each builds only what none before it
registered.

Failure: a registration that raises records nothing, so the next one
builds and writes its specs again. Other engine processes know nothing of
this one's registrations: they build the same specs, and the Registry
finds them unchanged and writes nothing.
"""

import collections
import contextlib
import threading

# (stack id, epoch) -> Registered; the oldest go first.
_EPOCHS = collections.OrderedDict()
_EPOCHS_MAX = 256
_lock = threading.Lock()


class Registered(object):
    """One stack epoch: the hosts of the components registered in it, the
    agents' hosts read from ZooKeeper, whether its manifest is written,
    and (a stack with groups) which of its components other stacks read,
    as ZooKeeper listed them."""

    def __init__(self):
        self.turn = threading.Lock()
        self.hosts = {}
        self.agents = {}
        self.manifest = False
        self.exports = None


@contextlib.contextmanager
def turn(stack_id, epoch):
    """The stack epoch's Registered, held by this thread alone."""
    key = (stack_id, epoch)
    with _lock:
        entry = _EPOCHS.pop(key, None) or Registered()
        _EPOCHS[key] = entry
        while len(_EPOCHS) > _EPOCHS_MAX:
            _EPOCHS.popitem(last=False)
    with entry.turn:
        yield entry
