"""tools/heat_allinone.py with two fixes to Heat, for stacks over ~500
resources.

usage: heat_allinone.py --config-file heat.conf --port PORT

Heat 27's engine ThreadGroup (heat/engine/service.py) under the threading
backend appends every thread it starts for a stack (one per event
dispatched: two per resource action) to ``self.threads`` and never removes
finished ones, then refuses the 1001st with "Maximum number of threads
reached": in one engine process a stack of more than about 500 resources
fails part-way, whatever its resources are. The benchmarks' 1,000-component
stacks (1,200 resources) need more, so finished threads are dropped from
the list before the limit is checked, as oslo.service's own ThreadGroup
does through ``thread_done``.

Heat's sync points key their data by tuples written as strings and read
back with ``ast.literal_eval``; CPython 3.11's AST construction keeps its
recursion depth in interpreter-wide state, so when many engine threads
parse at once (hundreds of leaves reporting to the stack's sync point of
a 1,000-component stack) one of them can fail with "SystemError: AST
constructor recursion depth mismatch" (python/cpython#106905), and the
stack with it. That parse is serialised here.

Everything else is tools/heat_allinone.py, run as is.
"""

import os
import runpy
import threading

from oslo_service import backend

backend.init_backend(backend.BackendType.THREADING)

from heat.engine import service  # noqa: E402

_add_thread = service.ThreadGroup.add_thread


def add_thread(self, func, *args, **kwargs):
    with self._lock:
        self.threads = [t for t in self.threads if t.is_alive()]
    return _add_thread(self, func, *args, **kwargs)


service.ThreadGroup.add_thread = add_thread

from heat.engine import sync_point  # noqa: E402

_unpack_tuple = sync_point._str_unpack_tuple
_parse_lock = threading.Lock()


def unpack_tuple(s):
    with _parse_lock:
        return _unpack_tuple(s)


sync_point._str_unpack_tuple = unpack_tuple

if __name__ == '__main__':
    runpy.run_path(os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), 'tools', 'heat_allinone.py'),
        run_name='__main__')
