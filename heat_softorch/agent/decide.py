"""What the agent does next for one of its components: a pure function.

``decide(spec, upstreams, local, status, session, groups)`` looks at the
spec the engine registered (None once the component is removed), the
publications of the components it reads (``[(wire, publication or
None)]``; a wire to another stack's component carries that stack and the
epoch of it to wait for), the members of the groups it reads (``[(group
wire, [(member record, publication or None)])]``), this
component's record on the VM (see localstate), its status in ZooKeeper and
the identity of this agent process, and returns a :class:`Decision`. The
daemon gathers those, never asks about a component it is running itself,
and carries the decision out. The rules, first match wins:

1. **Removed.** The spec is gone: forget the component, with any result
   not yet published (nothing is left to publish it to).
2. **A result on disk not yet in ZooKeeper** is published (PUBLISH),
   whatever epoch it belongs to and whatever the spec says now: it is what
   happened on the VM, and what follows builds on it. A newer epoch that
   needs the same run_key then confirms it; a changed spec runs UPDATE, not
   CREATE again; a DELETE finds something to delete. A result ZooKeeper
   already shows (the agent stopped between publishing it and forgetting
   it) is only dropped (DROP_RESULT).
3. **Interrupted.** A run that started and whose result was never recorded
   (a RUNNING status, or the run noted in local state, with no result to
   cover it) is reported FAILED and marked dirty, never re-run on its own:
   it may have half-changed the VM, and a stack update runs it again.
4. **Forward actions** (DEPLOY, RESUME) settle once every upstream has
   published for this epoch: an upstream FAILED or ABANDONED fails it with
   that root cause (UPSTREAM_FAILED); an upstream not yet published for the
   epoch makes it WAIT. Then run_key, the digest of its definition and
   input values, decides: settled in this epoch with this run_key: NOTHING;
   DEPLOY with the run_key of the last success and no failed or interrupted
   attempt since: CONFIRM without running; otherwise RUN UPDATE, or CREATE
   if it never succeeded. RESUME always runs.
   A group read (``from: <group>/<component>``) is a list (or map) of
   every member's output, ordered by member name, LEAVING members left
   out. Until the component first settles in an epoch it also waits for
   the members of that Heat operation: at least ``expect`` of them (the
   group's size as Heat resolved it), each having read this operation's
   publications of the parent (below). Once settled it follows
   membership: a member that joins or leaves without any Heat operation
   here (a scaling policy's signal) re-runs it in the same epoch, while
   one that joins or leaves in a newer operation of this stack waits for
   that operation to update this component. The members a settled run
   used are recorded (``members``, also in ``last_ok``): a leaving
   member's DELETE config waits until its consumers no longer use it.
   A wire to the parent stack (``from: ../db``) reads db's latest
   publication, or the next one when the engine found db registered in
   the parent's operation and not yet published; the epochs of what it
   read are recorded (``remote``, in the publication too). The parent's
   db waits for its readers to settle on its new publication, and a
   group's consumer, in its first settle of an operation, for members
   that read the parent's publications of that operation: a member
   never waits for a Heat action of its parent.
5. **Reverse actions** (DELETE, SUSPEND) go against the DAG: settled in the
   epoch: NOTHING; until the engine arms them (everything downstream done):
   WAIT; never deployed: NEVER_RAN (complete, nothing to undo); otherwise
   RUN with the inputs of the last successful run.

A WAIT whose status already says the same is NOTHING: a status is written
only when what it says changes.
"""

import dataclasses
import hashlib
import json
import typing

from heat_softorch.fabric import family
from heat_softorch.fabric import records

FORWARD = (records.DEPLOY, records.RESUME)

RUN = 'RUN'
CONFIRM = 'CONFIRM'
PUBLISH = 'PUBLISH'
DROP_RESULT = 'DROP_RESULT'
INTERRUPTED = 'INTERRUPTED'
UPSTREAM_FAILED = 'UPSTREAM_FAILED'
WAIT = 'WAIT'
NEVER_RAN = 'NEVER_RAN'
FORGET = 'FORGET'
NOTHING = 'NOTHING'

# What tells one result from another: a result matching these is in ZooKeeper.
RESULT_FIELDS = ('epoch', 'request', 'state', 'run_key', 'finished')


@dataclasses.dataclass(frozen=True)
class Decision(object):
    kind: str
    action: typing.Optional[str] = None   # RUN, CONFIRM, NEVER_RAN
    inputs: typing.Optional[dict] = None  # RUN
    run_key: typing.Optional[str] = None  # RUN, CONFIRM
    reason: typing.Optional[str] = None   # INTERRUPTED, UPSTREAM_FAILED, ...
    root_cause: typing.Optional[dict] = None  # UPSTREAM_FAILED
    waiting_on: typing.Optional[list] = None  # WAIT
    waiting_for: typing.Optional[str] = None  # WAIT: upstream, downstream
    # RUN, CONFIRM: what it read across stacks, recorded in its status
    # (and publication): {'members': {group/component: [member hosts]},
    # 'remote': {stack/component: publication epoch}}; None for neither.
    used: typing.Optional[dict] = None
    since: typing.Optional[float] = None  # WAIT: waiting since, if already
    run: typing.Optional[dict] = None     # INTERRUPTED: the run's record
    kill: typing.Optional[int] = None     # INTERRUPTED: its process group
    result: typing.Optional[dict] = None  # PUBLISH: {status, publication}


def run_key(spec, inputs):
    text = json.dumps([spec['digest'], inputs], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def settled(spec, status, key=None):
    """Whether this spec has been dealt with in its epoch (with these
    inputs, when given: an upstream may re-publish within an epoch)."""
    return (status.get('epoch') == spec['epoch'] and
            status.get('request') == spec['action'] and
            status.get('digest') == spec['digest'] and
            status.get('state') in records.DONE_STATES and
            (key is None or status.get('run_key') == key))


def decide(spec, upstreams, local, status, session, groups=()):
    if spec is None:
        return Decision(FORGET)
    result = local.get('result')
    if result:
        if _shows(status, result['status']):
            return Decision(DROP_RESULT)
        return Decision(PUBLISH, result=result)
    interrupted = _interrupted(local, status)
    if interrupted:
        return _report(interrupted, local, session)
    if spec['action'] in FORWARD:
        return _forward(spec, upstreams, status, groups)
    if settled(spec, status):
        return Decision(NOTHING)
    return _reverse(spec, local, status)


def _shows(status, recorded):
    return all(status.get(k) == recorded.get(k) for k in RESULT_FIELDS)


def _interrupted(local, status):
    """The record of a run that started and never recorded its result."""
    if status.get('state') == records.RUNNING:
        return dict(status, **(local.get('running') or {}))
    run = local.get('running')
    if not run:
        return None
    if status.get('epoch') == run['epoch'] and status.get(
            'run_key') == run['run_key'] and status.get(
                'state') in records.DONE_STATES:
        return None  # it finished; an older agent's local record lagged
    return dict(status, **run)


def _report(run, local, session):
    action = run.get('action', 'it')
    started = records.iso(run.get('started'))
    if run.get('session') == session:
        # This process ran it and could not record how it ended.
        what = 'the result of %s (started %s) was lost' % (action, started)
        kill = None
    else:
        what = 'the agent stopped while %s was running (started %s)' % (
            action, started)
        kill = local.get('pgid')
    return Decision(INTERRUPTED, run=run, kill=kill, reason=(
        'interrupted: %s; not re-run on its own: a stack update retries it'
        % what))


def _forward(spec, upstreams, status, groups=()):
    epoch = spec['epoch']
    waiting, failed, values, remote = [], None, {}, {}
    for wire, pub in upstreams:
        if 'stack' in wire:
            # Another stack's component: its latest publication, or one
            # finished after ``after`` (the engine found it registered in
            # its stack's operation, and not yet published in it).
            stale = not pub or pub.get('state') not in \
                records.DONE_STATES or pub.get('request') not in FORWARD \
                or (wire.get('after') is not None and (
                    pub.get('finished') or 0) <= wire['after'])
        else:
            stale = not pub or pub.get('epoch') != epoch
        if stale:
            waiting.append(wire)
        elif pub.get('state') in (records.FAILED, records.ABANDONED):
            failed = failed or (wire, pub)
        elif pub.get('state') != records.COMPLETE:
            waiting.append(wire)
        else:
            if 'stack' in wire:
                remote['%s/%s' % (wire['stack'], wire['component'])] = \
                    pub.get('epoch')
            if wire.get('input'):
                values[wire['input']] = (pub.get('values') or {}).get(
                    wire['output'])
    members = {}
    following = status.get('settled_in') == epoch
    for gwire, found in groups:
        read = GroupRead(spec, gwire, found, following)
        if read.failed:
            failed = failed or read.failed
        elif read.waiting:
            waiting.append(read.waiting)
        else:
            members[read.key] = read.hosts
            if gwire.get('input'):
                values[gwire['input']] = read.value
    if failed:
        wire, pub = failed
        root = pub.get('root_cause') or {'host': wire['host'],
                                         'component': wire['component']}
        if settled(spec, status) and status.get('root_cause') == root:
            return Decision(NOTHING)
        return Decision(UPSTREAM_FAILED, root_cause=root,
                        reason='not run: upstream %s failed'
                        % wire['component'])
    if waiting:
        return _wait(spec, status, waiting, 'upstream')
    inputs = dict(spec.get('values') or {}, **values)
    key = run_key(spec, inputs)
    used = {}
    if groups:
        used['members'] = members
    if spec.get('remote'):
        used['remote'] = remote
    if settled(spec, status, key) and all(
            status.get(k) == v for k, v in used.items()):
        return Decision(NOTHING)
    used = used or None
    if spec['action'] != records.DEPLOY:
        return Decision(RUN, action='RESUME', inputs=inputs, run_key=key,
                        used=used)
    last = status.get('last_ok') or {}
    # A failed or interrupted attempt since the last success may have left
    # the VM half-changed: run again, even to go back.
    if last.get('run_key') == key and not status.get('dirty'):
        return Decision(CONFIRM, action=last.get('action'), run_key=key,
                        used=used)
    return Decision(RUN, action='UPDATE' if last else 'CREATE',
                    inputs=inputs, run_key=key, used=used)


def _newer_operation(spec, found):
    """Names of members that joined or left in a Heat operation of the
    parent stack newer than this component's registration: that
    operation will update this component too, which then settles once,
    on all of it. Joins and leaves with the parent at rest (a scaling
    policy's signal) are not: they are followed at once."""
    since = spec.get('registered') or 0
    newer = []
    for rec, _ in found:
        if not rec:
            continue
        joined = rec.get('parent_busy') and rec.get('parent_epoch') != \
            spec['epoch'] and (rec.get('registered') or 0) > since
        left = rec.get('state') == records.LEAVING and rec.get(
            'left_in') and rec.get('left_in') != spec['epoch'] and (
                rec.get('leaving') or 0) > since
        if joined or left:
            newer.append(str(rec.get('member')))
    return sorted(newer)


class GroupRead(object):
    """What a group wire reads from the members found: ``failed`` ((wire,
    publication) of a failed member), or ``waiting`` (a waiting_on
    entry), or ``value`` with ``hosts``, the members it is made of.

    ``following``: the component has settled in this epoch already, so
    it follows membership and waits for no Heat operation's members.
    """

    def __init__(self, spec, gwire, found, following):
        self.key = '%s/%s' % (gwire['group'], gwire['component'])
        self.failed = self.waiting = self.value = None
        self.hosts = []
        active = sorted(((rec, pub) for rec, pub in found
                         if rec and rec.get('state') != records.LEAVING),
                        key=lambda m: family.member_order(m[0]))
        not_ready = []
        for rec, pub in active:
            if pub and pub.get('state') in (records.FAILED,
                                            records.ABANDONED) and \
                    pub.get('epoch') == rec.get('epoch'):
                wire = {'host': rec.get('host'),
                        'component': '%s (member %s of %s)' % (
                            rec.get('component'), rec.get('member'),
                            gwire['group'])}
                self.failed = (wire, dict(pub, root_cause=pub.get(
                    'root_cause') or {'host': rec.get('host'),
                                      'component': rec.get('component'),
                                      'stack': rec.get('stack')}))
                return
            if not pub or pub.get('epoch') != rec.get('epoch') or \
                    pub.get('state') != records.COMPLETE or \
                    pub.get('request') not in FORWARD:
                not_ready.append(rec)
            elif not following and spec['action'] == records.DEPLOY and \
                    any(e != spec['epoch'] for e in (
                        pub.get('remote') or {}).values()):
                # It ran on what its parent published before this
                # operation; it follows the parent's new publication.
                not_ready.append(rec)
        gate = ''
        if following and spec['action'] == records.DEPLOY:
            newer = _newer_operation(spec, found)
            if newer:
                gate = ('members %s changed in a newer operation of the '
                        'parent stack; waiting for it to update this '
                        'component' % ', '.join(newer))
        elif spec['action'] == records.DEPLOY:
            # The group's size as Heat resolved it for this operation:
            # members still to join. Members still to leave are not
            # waited for: each leaving member holds an engine thread
            # until its consumers let it go, and the consumers follow
            # each one as it leaves.
            expect = gwire.get('expect') or 0
            if len(active) < expect:
                gate = '%d of %d members' % (len(active), expect)
        if not_ready or gate:
            self.waiting = {
                'component': self.key, 'output': gwire.get('output'),
                'host': None, 'server': None, 'group': gwire['group'],
                'members': gate or '%d of %d members ready' % (
                    len(active) - len(not_ready), len(active)),
                'not_ready': sorted(str(r.get('member')) for r in not_ready)}
            return
        self.hosts = [rec.get('host') for rec, _ in active]
        out = gwire.get('output')
        pairs = [(str(rec.get('member')),
                  (pub.get('values') or {}).get(out) if out else None)
                 for rec, pub in active]
        if gwire.get('collect') == 'map':
            self.value = dict(pairs)
        else:
            self.value = [v for _, v in pairs]


def _reverse(spec, local, status):
    if not spec.get('armed'):
        return _wait(spec, status, [], 'downstream')
    kind = spec['action']
    last = status.get('last_ok')
    if not last:
        return Decision(NEVER_RAN, action=kind,
                        reason='never deployed: nothing to %s' % kind.lower())
    inputs = local.get('inputs')
    if inputs is None:
        inputs = dict(spec.get('values') or {})
    return Decision(RUN, action=kind, inputs=inputs, run_key=last['run_key'])


def _waiting_entry(w):
    if 'group' in w:
        return dict(w)  # GroupRead made it
    entry = {'component': w['component'], 'output': w.get('output'),
             'host': w['host'], 'server': w.get('server')}
    if 'stack' in w:
        entry['component'] = '../' + w['component']
    return entry


def _wait(spec, status, wires, on):
    waiting_on = [_waiting_entry(w) for w in wires]
    waiting = (status.get('state') == records.WAITING and
               status.get('epoch') == spec['epoch'])
    if waiting and status.get('request') == spec['action'] and \
            status.get('waiting_on') == waiting_on:
        return Decision(NOTHING)
    return Decision(WAIT, waiting_on=waiting_on, waiting_for=on,
                    since=status.get('waiting_since') if waiting else None)
