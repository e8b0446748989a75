"""Stacks created and deleted with the openstack client, as a user does,
timed: the native-path tests use it, and so can a comparison of Heat's
software deployments with softorch's components on the same cloud.

``create(env, name, template, ...)`` runs ``openstack stack create --wait``
and returns a :class:`Run`: the stack's status and reason, its outputs, the
client's wall time, and each resource's times from Heat's own events
(``CREATE_IN_PROGRESS`` to ``CREATE_COMPLETE``, one-second resolution).
"""

import datetime
import json
import time

from tests.e2e import services


class Run(object):
    """One stack operation as the client saw it."""

    def __init__(self, name, status, reason, seconds, outputs, events,
                 stack_id=None):
        self.name = name
        self.id = stack_id
        self.status = status
        self.reason = reason
        self.seconds = seconds        # the client's wall time
        self.outputs = outputs        # {output_key: output_value}
        self.events = events          # [(datetime, resource, status)]

    def span(self, resource, action='CREATE'):
        """(start, end) of a resource's action from Heat's events, or
        None when it has not both."""
        start = end = None
        for when, name, status in self.events:
            if name != resource:
                continue
            if status == action + '_IN_PROGRESS' and start is None:
                start = when
            elif status == action + '_COMPLETE':
                end = when
        return (start, end) if start and end else None

    def heat_seconds(self, action='CREATE'):
        """The stack's own action from Heat's events, in seconds."""
        s = self.span(self.name, action)
        return (s[1] - s[0]).total_seconds() if s else None


def _json(env, *args, timeout=120):
    r = services.openstack(*args, '-f', 'json', env=env, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError('openstack %s failed (%d):\n%s' % (
            ' '.join(args), r.returncode, r.stderr))
    return json.loads(r.stdout)


def events(env, name):
    rows = _json(env, 'stack', 'event', 'list', name, '--sort',
                 'event_time:asc', '--limit', '1000')
    return [(datetime.datetime.fromisoformat(
        r['event_time'].replace('Z', '+00:00')), r['resource_name'],
        r['resource_status']) for r in rows]


def create(env, name, template, environments=(), parameters=None,
           timeout=600):
    """openstack stack create --wait NAME; a Run (whatever the outcome:
    the caller asserts on it)."""
    args = ['stack', 'create', '-t', template, '--wait', '--poll', '1']
    for e in environments:
        args += ['-e', e]
    for k, v in sorted((parameters or {}).items()):
        args += ['--parameter', '%s=%s' % (k, v)]
    t0 = time.monotonic()
    r = services.openstack(*(args + [name]), env=env, timeout=timeout)
    seconds = time.monotonic() - t0
    shown = _json(env, 'stack', 'show', name)
    outputs = {o['output_key']: o.get('output_value')
               for o in shown.get('outputs') or []}
    run = Run(name, shown['stack_status'], shown['stack_status_reason'],
              seconds, outputs, events(env, name), shown['id'])
    run.client_output = r.stdout + r.stderr
    return run


def delete(env, name, timeout=300):
    """openstack stack delete --wait NAME; the client's wall time."""
    t0 = time.monotonic()
    r = services.openstack('stack', 'delete', '--wait', '-y', name, env=env,
                           timeout=timeout)
    if r.returncode != 0:
        raise AssertionError('stack delete %s failed:\n%s%s' % (
            name, r.stdout, r.stderr))
    return time.monotonic() - t0
