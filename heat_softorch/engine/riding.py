"""What every heat-softorch resource that talks to ZooKeeper shares: its
actions ride out ZooKeeper faults, and ``openstack stack check`` asks the
agents rather than answering "not supported".

Riding out: every ZooKeeper step of a resource action runs through
client_plugin.ride_out(). A handler (handle_create, handle_delete, ...)
runs once per action, so it blocks until ZooKeeper answers or the outage
limit is reached; a check returns to Heat after one slice either way, so
that Heat can still cancel it, and the next check counts the same outage.

Checking: a resource whose last Heat action never finished (the engine
running it died) fails its check with the command that converges the
stack; one whose agent is gone fails once the grace period has passed
(while the agent may still be restarting, the check waits for it); each
kind adds its own test through ``_health()``.
"""

from heat.common import exception
from heat.objects import event as event_objects
from oslo_config import cfg
from oslo_log import log as logging

from heat_softorch.engine import client_plugin
from heat_softorch.engine import options
from heat_softorch.engine import waiting
from heat_softorch.fabric import progress

LOG = logging.getLogger(__name__)

UPDATE_EXISTING = 'openstack stack update --existing %s'


class RidesOut(object):
    """Mixin for resource.Resource subclasses with a softorch host."""

    def _zk(self, what, func, within=None):
        """``func(fabric)`` across ZooKeeper faults (ride_out)."""
        plugin = self.client_plugin()
        return client_plugin.ride_out(
            '%s %s' % (what, self.name),
            lambda: func(plugin.fabric(self.stack)), within)

    @staticmethod
    def _slice():
        return cfg.CONF[options.GROUP].check_slice

    # -- stack check ------------------------------------------------------

    def _check_host(self):
        """The host whose agent this resource depends on, or None."""
        raise NotImplementedError

    def _check_watched(self, fabric, host):
        """(data, children) paths whose change may change the verdict."""
        return fabric.progress.watched(host, self.name)

    def _health(self, fabric, host):
        """None while undecided (the check waits), True when healthy, else
        a sentence saying what is wrong. The agent's liveness is already
        judged when this is called."""
        return True

    def _unfinished(self):
        """A sentence when the resource's last Heat action (other than a
        check) never finished, else None.

        A check runs only on a resource no live engine holds: a
        convergence check must take the resource's lock, and Heat steals
        it from a dead engine only (marking the resource "Worker went down
        during resource CHECK" and checking again); the legacy engine
        holds the stack's lock. So a last action still IN_PROGRESS in the
        resource's events is one whose engine is gone. The events, not the
        resource's state: by the time handle_check runs the state says
        CHECK."""
        try:
            events = event_objects.Event.get_all_by_stack(
                self.context, self.stack.id, limit=20, sort_dir='desc',
                filters={'resource_name': self.name})
        except Exception as exc:  # noqa: no verdict without them
            LOG.debug('%s: events unreadable: %s', self.name, exc)
            return None
        for event in events:
            if event.resource_action == self.CHECK:
                continue
            if event.resource_status != self.IN_PROGRESS:
                return None
            return ('its %s never finished in Heat: the heat-engine that '
                    'ran it is gone. Converge the stack with: %s' % (
                        event.resource_action,
                        UPDATE_EXISTING % self.stack.name))
        return None

    def handle_check(self):
        problem = self._unfinished()
        if problem:
            raise exception.Error(problem)
        host = self._check_host()
        if not host:
            raise exception.Error('%s has no host in ZooKeeper: its '
                                  'creation never reached it' % self.name)
        return {'host': host}

    def check_check_complete(self, token):
        host = token['host']

        def wait(fabric):
            def watched():
                return self._check_watched(fabric, host)

            def verdict():
                state, why = fabric.progress.liveness(host)
                if state == progress.LOST:
                    return why
                if state == progress.DOWN:
                    return None  # within the grace period: may come back
                return self._health(fabric, host)

            return waiting.until(fabric, self.stack, watched, verdict)

        try:
            verdict = self._zk('checking', wait, within=self._slice())
        except client_plugin.StillDown:
            return False
        if verdict is None:
            return False
        if verdict is not True:
            raise exception.Error(verdict)
        return True
