"""Registering specs ahead of Heat.

A component's own Heat action registers its spec and its upstreams'
(see SoftwareComponent._register). Heat then reaches the other components
one resource at a time, at the pace of its engine threads; a chain whose
specs waited for that would advance at Heat's pace, not ZooKeeper's. So the
first component to start also registers every component whose values Heat
can already resolve: those whose Heat dependencies are among its own (the
chain's downstream on the same VMs, typically). Their own Heat actions
later find their specs in place.

Best effort, with no effect on the asking component: a spec that cannot be
built or written here is left to its own resource, which reports the
problem where the template author looks for it. Each engine process
remembers what it registered ahead for a stack and an epoch, so that the
components following do not build the same specs again.
"""

import collections
import threading

from oslo_log import log as logging

from heat_softorch.engine import specs

LOG = logging.getLogger(__name__)

# (stack id, epoch) -> names registered ahead; the oldest entries go.
_DONE = collections.OrderedDict()
_DONE_MAX = 256
_lock = threading.Lock()


def _done(stack_id, epoch):
    with _lock:
        key = (stack_id, epoch)
        names = _DONE.pop(key, set())
        _DONE[key] = names
        while len(_DONE) > _DONE_MAX:
            _DONE.popitem(last=False)
        return names


def register(fabric, component, stack_defn, result, epoch, hosts, servers):
    """Register, after ``component``'s own specs (named in ``hosts``), the
    specs of the components resolvable with it. Returns the names written."""
    done = _done(component.stack.id, epoch)
    todo = [n for n in result.resolvable_with(component.name)
            if n not in hosts and n not in done]
    if not todo:
        return []
    hosts, built = dict(hosts), []
    for name in todo:
        try:
            props = stack_defn.resource_definition(name).properties(
                component.properties_schema, component.context)
            spec = specs.component_spec(name, props, result, hosts, servers,
                                        component.stack)
        except Exception as exc:  # noqa: its own resource will report it
            LOG.debug('%s: not registering %s ahead: %s', component.name,
                      name, exc)
            continue
        hosts[name] = spec['host']
        built.append(spec)
    try:
        written = fabric.registry.register(built, epoch,
                                           last_is_marker=False)
    except Exception as exc:  # noqa: its own resources will register them
        LOG.info('%s: registering %d spec(s) ahead failed: %s',
                 component.name, len(built), exc)
        return []
    with _lock:
        done.update(s['name'] for s in built)
    if written:
        LOG.info('%s: registered %d spec(s) ahead for epoch %s',
                 component.name, len(written), epoch)
    return written
