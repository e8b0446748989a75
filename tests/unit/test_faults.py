"""The pure pieces of fault handling: the engine's outage bookkeeping, the
words of connection errors, and `softorch status`'s orphan rule."""

import threading

from kazoo import exceptions as kz_exc
from kazoo.protocol import states

from heat_softorch.cmd import status
from heat_softorch.fabric import outage
from tests.unit import test_operator_views as views


class Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_an_outage_runs_from_the_first_drop_to_the_reconnection():
    clock = Clock()
    o = outage.Outage(clock)
    assert o.gone_for() == 0 and not o.exceeded(30)
    o.listener(states.KazooState.SUSPENDED)
    clock.now += 20
    # Later failures and a lost session belong to the same outage.
    o.down('ConnectionLoss: the connection was lost')
    o.listener(states.KazooState.LOST)
    clock.now += 15
    assert o.gone_for() == 35 and o.exceeded(30)
    assert o.sessions_lost == 1
    assert o.last_error == 'connection lost'
    o.listener(states.KazooState.CONNECTED)
    assert o.gone_for() == 0 and not o.exceeded(30)
    # The next outage counts from its own start, not the first one's.
    clock.now += 500
    o.down('OperationTimeoutError: no answer')
    clock.now += 5
    assert o.gone_for() == 5 and not o.exceeded(30)
    o.up()
    assert o.since is None


def test_a_retry_sleep_ends_when_the_connection_is_back():
    o = outage.Outage()
    assert o.wait_up(0) is True
    o.down()
    assert o.wait_up(0.01) is False
    threading.Timer(0.05, o.listener, [states.KazooState.CONNECTED]).start()
    assert o.wait_up(30) is True


def test_connection_errors_have_words():
    assert outage.error_text(kz_exc.SessionExpiredError()) == \
        'SessionExpiredError: the session expired'
    assert outage.error_text(kz_exc.ConnectionClosedError()) == \
        'ConnectionClosedError: the client was closed'
    assert outage.error_text(kz_exc.ConnectionLoss('not connected')) == \
        'ConnectionLoss: not connected'
    assert outage.error_text(kz_exc.NoAuthError()) == 'NoAuthError'
    assert outage.error_text('as given') == 'as given'


# -- the orphan rule ----------------------------------------------------------

NOW = 10000.0


def settled_view():
    """db and app settled for the current operation, agents alive."""
    view = views.a_view()
    view['hosts'][1]['alive'] = True
    view['components'] = [
        views.comp('db', 'ha', 'a', 'COMPLETE', started=100.0,
                   finished=110.0),
        views.comp('app', 'hb', 'b', 'COMPLETE', started=120.0,
                   finished=130.0)]
    return view


def resources(**states_):
    out = [{'name': 'agent_a', 'type': 'OS::SoftOrch::Agent',
            'status': 'CREATE_COMPLETE', 'updated': 50.0},
           {'name': 'server_a', 'type': 'OS::Nova::Server',
            'status': 'CREATE_COMPLETE', 'updated': 60.0}]
    for name in ('db', 'app'):
        out.append({'name': name, 'type': status.COMPONENT_TYPE,
                    'status': states_.get(name, 'CREATE_IN_PROGRESS'),
                    'updated': 90.0})
    return out


def verdict(view=None, res=None, services=None, stack='CREATE_IN_PROGRESS',
            now=NOW, changed=40.0):
    return status.orphaned('web', stack, changed,
                           resources() if res is None else res, services,
                           settled_view() if view is None else view, now=now,
                           quiet=60)


def test_settled_components_left_in_progress_are_an_orphan():
    v = verdict(services=[{'engine_id': 'e1', 'status': 'up'}])
    assert v['command'] == 'openstack stack update --existing web'
    assert v['reason'].startswith("Heat's CREATE has had no heat-engine "
                                  "working on it for 2h")
    assert v['engines_up'] == ['e1']
    down = verdict(services=[{'engine_id': 'e1', 'status': 'down'}])
    assert 'no heat-engine is up' in down['reason']


def test_no_verdict_while_anything_may_still_move():
    # Heat is not in the middle of an operation.
    assert verdict(stack='CREATE_COMPLETE') is None
    assert verdict(stack='UPDATE_FAILED') is None
    # Something changed within the quiet window: the stack's operation
    # began, a component finished, a resource's status changed.
    assert verdict(changed=NOW - 10) is None
    recent = settled_view()
    recent['components'][0]['status']['finished'] = NOW - 5
    assert verdict(view=recent) is None
    res = resources()
    res[0]['updated'] = NOW - 30
    assert verdict(res=res) is None
    # An agent still has work: running, waiting, or not taken up yet.
    for state, kw in (('RUNNING', {}), ('WAITING', {}),
                      ('COMPLETE', {'status_epoch': 'e1'})):
        busy = settled_view()
        busy['components'][1] = views.comp('app', 'hb', 'b', state, **kw)
        assert verdict(view=busy) is None, state
    # A resource that is not softorch's may be a live engine's long
    # action; a component not settled may be one an engine waits on.
    res = resources()
    res[1]['status'] = 'CREATE_IN_PROGRESS'
    assert verdict(res=res) is None
    unsettled = settled_view()
    unsettled['components'][1] = views.comp('app', 'hb', 'b', 'RUNNING')
    unsettled['hosts'][1]['alive'] = False
    assert verdict(view=unsettled) is None


def test_work_no_agent_will_do_does_not_keep_it_from_being_an_orphan():
    # app waits on an agent that is gone, and its Heat resource is not in
    # progress: nothing will happen without Heat.
    view = settled_view()
    view['components'][1] = views.comp('app', 'hb', 'b', 'PENDING',
                                       status_epoch='e1')
    view['hosts'][1]['alive'] = False
    v = verdict(view=view, res=resources(app='INIT_COMPLETE'))
    assert v and v['command'].endswith(' web')
    # Agents' own resources take no time: one left in progress is no
    # live engine's.
    res = resources()
    res[0]['status'] = 'CREATE_IN_PROGRESS'
    assert verdict(res=res)


def test_heat_times():
    assert status.epoch_seconds('1970-01-01T00:01:40Z') == 100.0
    assert status.epoch_seconds('1970-01-01T00:01:40') == 100.0
    assert status.epoch_seconds(None) is None


def test_the_engine_logs_an_outage_and_its_end(caplog):
    """One listener logs, then tells the Outage: kazoo keeps listeners in
    a set, and a log that ran after the Outage had heard said nothing."""
    from heat_softorch.engine import client_plugin
    clock = Clock()
    o = outage.Outage(clock)
    listen = client_plugin._listener(o, 300)
    with caplog.at_level('INFO'):
        listen(states.KazooState.SUSPENDED)
        clock.now += 4.2
        listen(states.KazooState.CONNECTED)
    assert 'lost the connection to ZooKeeper' in caplog.text
    assert 'wait for it up to 300 s' in caplog.text
    assert 'is back after 4.2 s' in caplog.text
    assert o.gone_for() == 0
