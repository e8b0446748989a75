"""What the agent decides for a component reading across stacks: a group's
members (from: app_tier/app) and its parent's component (from: ../db);
and when a consumer has let a leaving member go (fabric.family.released).
"""

from heat_softorch.agent import decide as d
from heat_softorch.fabric import family
from heat_softorch.fabric import records

ME = 'this-process'
GROUP = {'input': 'backends', 'group': 'app_tier', 'component': 'app',
         'output': 'url', 'collect': 'list', 'members': '/m', 'expect': 2}
DB = {'input': 'db_url', 'component': 'db', 'output': 'db_url',
      'stack': 'parent', 'export': '/x', 'after': None, 'host': 'dbh'}


def lb(epoch='e2', expect=2, collect='list', registered=100.0):
    return {'name': 'lb', 'host': 'lbh', 'epoch': epoch, 'digest': 'd',
            'action': records.DEPLOY, 'generation': 1, 'values': {},
            'wires': [], 'registered': registered,
            'groups': [dict(GROUP, expect=expect, collect=collect)]}


def member(name, host, epoch='m1', state=records.JOINED, **fields):
    return dict({'member': name, 'host': host, 'component': 'app',
                 'stack': 's-' + name, 'epoch': epoch, 'state': state,
                 'parent_epoch': 'e2', 'joined': 1.0, 'registered': 50.0},
                **fields)


def out(name, epoch='m1', state=records.COMPLETE, remote='e2',
        request=records.DEPLOY):
    return {'state': state, 'epoch': epoch, 'request': request,
            'values': {'url': 'http://app-%s' % name},
            'remote': {'parent/db': remote}}


def decide(spec, found, status=None):
    return d.decide(spec, [], {}, status or {}, ME,
                    [(spec['groups'][0], found)])


def test_a_list_ordered_by_member_name_numbers_as_numbers():
    found = [(member('10', 'h10'), out('10')), (member('2', 'h2'), out('2')),
             (member('1', 'h1'), out('1'))]
    got = decide(lb(expect=3), found)
    assert got.kind == d.RUN and got.action == 'CREATE'
    assert got.inputs['backends'] == ['http://app-1', 'http://app-2',
                                      'http://app-10']
    assert got.used == {'members': {'app_tier/app': ['h1', 'h2', 'h10']}}
    got = decide(lb(expect=3, collect='map'), found)
    assert got.inputs['backends'] == {'1': 'http://app-1',
                                      '2': 'http://app-2',
                                      '10': 'http://app-10'}


def test_the_first_settle_waits_for_the_group_size_and_fresh_members():
    one = [(member('0', 'h0'), out('0'))]
    got = decide(lb(expect=2), one)
    assert got.kind == d.WAIT
    assert got.waiting_on[0]['members'] == '1 of 2 members'
    # A member that read the parent's publication of an earlier operation
    # is not ready: it follows the new one.
    two = one + [(member('1', 'h1'), out('1', remote='e1'))]
    got = decide(lb(expect=2), two)
    assert got.kind == d.WAIT and got.waiting_on[0]['not_ready'] == ['1']
    # One whose publication is of its previous registration neither.
    two = one + [(member('1', 'h1', epoch='m2'), out('1'))]
    assert decide(lb(expect=2), two).kind == d.WAIT
    # Leaving members are left out.
    two = one + [(member('1', 'h1', state=records.LEAVING), out('1'))]
    assert decide(lb(expect=2), two).kind == d.WAIT
    three = one + [(member('1', 'h1'), out('1')),
                   (member('2', 'h2', state=records.LEAVING), out('2'))]
    assert decide(lb(expect=2), three).inputs['backends'] == [
        'http://app-0', 'http://app-1']


def settled(spec, hosts):
    return {'epoch': spec['epoch'], 'request': records.DEPLOY,
            'digest': 'd', 'state': records.COMPLETE, 'settled_in':
            spec['epoch'], 'run_key': 'old', 'members': {
                'app_tier/app': hosts},
            'last_ok': {'run_key': 'old', 'members': {
                'app_tier/app': hosts}}}


def test_once_settled_it_follows_membership_without_waiting_for_heat():
    s = lb(expect=3)
    status = settled(s, ['h0', 'h1', 'h2'])
    # Below the size Heat gave: a scaling signal took a member away.
    found = [(member('0', 'h0'), out('0')), (member('1', 'h1'), out('1')),
             (member('2', 'h2', state=records.LEAVING), out('2'))]
    got = decide(s, found, status)
    assert got.kind == d.RUN and got.action == 'UPDATE'
    assert got.inputs['backends'] == ['http://app-0', 'http://app-1']
    # A member of a newer operation of the parent: that operation updates
    # this component, which then settles once.
    found[2] = (member('2', 'h2', parent_epoch='e3', parent_busy=True,
                       registered=150.0), out('2'))
    got = decide(s, found, status)
    assert got.kind == d.WAIT
    assert 'newer operation' in got.waiting_on[0]['members']
    # One that joined with the parent at rest (a signal) is followed.
    found[2] = (member('2', 'h2', parent_epoch='e2', parent_busy=False,
                       registered=150.0), out('2'))
    assert decide(s, found, status).kind != d.WAIT


def test_a_failed_member_fails_the_consumer_with_it_as_root_cause():
    found = [(member('0', 'h0'), out('0')),
             (member('1', 'h1'), dict(out('1'), state=records.FAILED,
                                      root_cause=None))]
    got = decide(lb(), found)
    assert got.kind == d.UPSTREAM_FAILED
    assert got.root_cause == {'host': 'h1', 'component': 'app',
                              'stack': 's-1'}
    assert got.reason == 'not run: upstream app (member 1 of app_tier) failed'


def parent_reader(after=None):
    return {'name': 'app', 'host': 'ah', 'epoch': 'm1', 'digest': 'd',
            'action': records.DEPLOY, 'generation': 1, 'values': {},
            'wires': [], 'remote': [dict(DB, after=after)]}


def db_pub(epoch='e2', finished=10.0, request=records.DEPLOY):
    return {'state': records.COMPLETE, 'epoch': epoch, 'finished':
            finished, 'request': request, 'values': {'db_url': 'db://x'}}


def test_a_wire_to_the_parent_reads_its_latest_publication():
    s = parent_reader()
    got = d.decide(s, [(DB, db_pub('any-epoch'))], {}, {}, ME)
    assert got.kind == d.RUN and got.inputs == {'db_url': 'db://x'}
    assert got.used == {'remote': {'parent/db': 'any-epoch'}}
    # Registered in the parent's operation, not yet published in it:
    # the next publication.
    s = parent_reader(after=10.0)
    wire = dict(DB, after=10.0)
    assert d.decide(s, [(wire, db_pub())], {}, {}, ME).kind == d.WAIT
    assert d.decide(s, [(wire, db_pub(finished=11.0))], {}, {},
                    ME).kind == d.RUN
    # Its DELETE config's publication is no value to run with.
    got = d.decide(parent_reader(), [(DB, db_pub(
        request=records.DELETE))], {}, {}, ME)
    assert got.kind == d.WAIT
    assert got.waiting_on[0]['component'] == '../db'
    # Settled on that publication: the parent re-publishing the same value
    # is confirmed, so that the parent sees its reader followed.
    status = {'epoch': 'm1', 'request': records.DEPLOY, 'digest': 'd',
              'state': records.COMPLETE, 'run_key': d.run_key(
                  s, {'db_url': 'db://x'}), 'remote': {'parent/db': 'e1'},
              'last_ok': {'run_key': d.run_key(s, {'db_url': 'db://x'})}}
    got = d.decide(parent_reader(), [(DB, db_pub('e2'))], {}, status, ME)
    assert got.kind == d.CONFIRM
    assert got.used == {'remote': {'parent/db': 'e2'}}


def test_a_consumer_releases_a_member_once_it_no_longer_uses_it():
    key = 'app_tier/app'

    def status(state, used, applied):
        return {'state': state, 'members': {key: used},
                'last_ok': {'members': {key: applied}}}
    assert family.released(None, key, 'h2') is True
    assert family.released(status(records.COMPLETE, ['h1'], ['h1']), key,
                           'h2') is True
    assert family.released(status(records.COMPLETE, ['h1', 'h2'],
                                  ['h1', 'h2']), key, 'h2') is False
    # Running without it: its old configuration still sends it traffic.
    assert family.released(status(records.RUNNING, ['h1'], ['h1', 'h2']),
                           key, 'h2') is False
    assert family.released(status(records.FAILED, ['h1'], ['h1', 'h2']),
                           key, 'h2') is family.FAILED
    # Waiting for a new member, its configuration without the old one.
    assert family.released(status(records.WAITING, [], ['h1']), key,
                           'h2') is True
