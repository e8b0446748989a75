"""What a SoftwareComponent does about links that cross stacks.

A member template's ``from: ../db`` and a parent's ``from: app_tier/app``
join components of different stacks of one root (fabric/family.py keeps
the nodes: a parent's exports, a group's roster). Their resources take
part at three moments:

- registration: a spec reading another stack is entered there as a
  reader (so its host may read what it is wired to) and a member joins
  its group's roster;
- completion: a component other stacks read completes once each reader
  has settled on this operation's publication;
- delete: a leaving member waits until every consumer that stays has
  reconfigured without it, then the nodes it had in other stacks go.

Failure behaviour: everything here runs inside the resource's ``_zk``,
so a ZooKeeper fault re-runs it with a new session; what it writes goes
through fabric/family.py, whose every method is idempotent, so a part
made again is not made twice. A stack with neither groups nor a parent
pays nothing: ``plan`` returns None and nothing else is called.
"""

import functools

from heat_softorch.engine import family
from heat_softorch.engine import specs
from heat_softorch.fabric import family as fabric_family
from heat_softorch.fabric import progress
from heat_softorch.fabric import records
from heat_softorch.graph import model as graph_model
from heat_softorch.graph import stacks as graph_stacks


class Crossing(object):
    """The cross-stack side of one SoftwareComponent resource."""

    def __init__(self, resource):
        self.resource = resource
        self._members = {}

    @property
    def stack(self):
        return self.resource.stack

    @property
    def name(self):
        return self.resource.name

    # -- validation ---------------------------------------------------------

    def parent_problems(self, result):
        """``from: ../<component>`` checked against the parent this stack
        really has, once per stack definition; nothing when the parent
        cannot be known yet (a member template Heat validates while its
        parent is not stored: the parent's own checks cover it)."""
        if not any(link.source_ref.kind == graph_model.PARENT
                   for link in result.model.links.values()):
            return []
        cached = getattr(self.stack.defn, '_softorch_parent_problems', None)
        if cached is not None:
            return cached
        if not self.stack.owner_id and not self.stack.parent_resource_name:
            found = list(graph_stacks.parent_links(result.model, None))
        else:
            fam = family.of(self.stack)
            parent = fam and family.parent_analysis(self.stack, fam)
            found = [] if not parent else list(graph_stacks.parent_links(
                result.model, parent.model,
                parent_label="the parent stack '%s'" % fam.parent_name))
        setattr(self.stack.defn, '_softorch_parent_problems', found)
        return found

    # -- registration -------------------------------------------------------

    def plan(self, stack_defn, result, fabric):
        """specs.Across for a stack with groups or a parent; None for the
        rest."""
        if not result.model.groups and not self.stack.owner_id:
            return None
        across = specs.Across(fabric.paths, expect={
            g: family.group_size(stack_defn, result, g,
                                 self.resource.context)
            for g in result.consumers})
        fam = family.of(self.stack)
        if fam is not None:
            state = family.state(self.resource.context, fam.parent_id)
            across.parent_state = state
            across.parent_paths = fabric.of(fam.parent_id).paths
            across.parent_epoch = state.epoch if state and \
                state.in_progress else None
            across.member = {'group': fam.group, 'name': fam.member,
                             'stack': fam.parent_id,
                             'stack_name': fam.parent_name}
        return across

    def wire(self, fabric, built, across):
        """Before the specs exist: enter each one reading another stack
        (as a reader of the parent's export, as a consumer of a group),
        so that its host may read what it is wired to when its agent
        first looks. A wire to the parent waits for the upstream's next
        publication only when the upstream is registered in the parent's
        operation already and has yet to publish in it: waiting for its
        registration would be waiting for its Heat action."""
        for spec in built:
            if not spec.get('remote') and not spec.get('groups'):
                continue
            host_id = fabric.registry.host_acl_id(spec['host'])
            me = (fabric.paths.stack_id, spec['host'], spec['name'])
            for wire in spec.get('remote', ()):
                up = fabric.of(wire['stack'])
                up_host = up.exports.subscribe(
                    wire['component'], me, host_id,
                    locate=functools.partial(self._locate, up,
                                             wire['component']))
                if up_host is None:
                    across.deferred.add((spec['name'], wire['component']))
                if across.parent_epoch and up_host:
                    wire['after'] = _pending_publication(
                        up, up_host, wire['component'], across.parent_epoch)
            for wire in spec.get('groups', ()):
                fabric.roster.consume(wire['group'], wire['component'],
                                      me[1:], host_id)

    def _locate(self, up, name):
        """The host of component ``name`` of the parent stack, when it is
        registered there already (its registration did not know that a
        member reads it)."""
        fam = family.of(self.stack)
        parent = fam and family.parent_analysis(self.stack, fam)
        comp = parent and parent.model.components.get(name)
        if not comp or not comp.agent:
            return None
        host = up.registry.agent_hosts().get(comp.agent)
        if host and up.client.exists(up.paths.spec(host, name)):
            return host
        return None

    def publish(self, fabric, result, built, across, epoch, known):
        """After the specs exist: say where the components other stacks
        read publish, and (in a member stack) join the group. Whether
        this component is read from other stacks."""
        if result.model.groups:
            if known.exports is None:
                known.exports = fabric.exports.names()
            for spec in built:
                if spec['name'] in result.exported or \
                        spec['name'] in known.exports:
                    fabric.exports.publish(spec['name'], spec['host'])
        member = across.member
        if member:
            state = across.parent_state
            roster = fabric.of(member['stack']).roster
            for spec in built:
                roster.join({
                    'group': member['group'], 'component': spec['name'],
                    'member': member['name'],
                    'stack': fabric.paths.stack_id,
                    'stack_name': self.stack.name, 'host': spec['host'],
                    'server': spec.get('server'), 'epoch': epoch,
                    'parent_epoch': state.epoch if state else None,
                    'parent_busy': bool(state and state.in_progress),
                    'registered': records.now()})
        return bool(result.model.groups) and (
            self.name in result.exported or
            self.name in (known.exports or ()))

    # -- completion ---------------------------------------------------------

    def readers_settled(self, fabric, epoch, watch):
        """A component other stacks read (``from: ../<this>``) completes
        once each reader has settled on this epoch's publication: a member
        reads the latest one without waiting for this Heat action, so the
        parent's operation ends only after its members followed. True; None
        while one has not; an Outcome when one failed with it. Agent work
        only: every reader is registered already."""
        del watch[:]
        key = '%s/%s' % (fabric.paths.stack_id, self.name)
        pending = False
        for stack, h, n in fabric.exports.readers(self.name):
            if not stack:
                continue
            other = fabric.of(stack)
            status = other.progress.read_status(h, n)
            if not status or status.get('request') != records.DEPLOY:
                continue
            got = (status.get('remote') or {}).get(key)
            state = status.get('state')
            if got == epoch and state == records.COMPLETE:
                continue
            if got == epoch and state == records.FAILED:
                return progress.Outcome(progress.FAILED, (
                    'a component reading it from another stack failed: '
                    '%s' % other.progress.describe(status)), None)
            if state in (records.FAILED, records.ABANDONED):
                continue  # its own failure: its own resource says so
            if family.doomed(self.resource.context, stack) or \
                    other.progress.host_lost(h):
                continue
            watch.append(other.paths.status(h, n))
            pending = True
        return None if pending else True

    # -- delete ---------------------------------------------------------------

    def member_of(self, fabric, key):
        """The ``member`` part of a component's spec (its group in the
        parent stack), cached for the action: it never changes."""
        if key not in self._members:
            spec, _ = fabric.of(key[0]).registry._read_spec(key[1], key[2])
            self._members[key] = (spec or {}).get('member')
        return self._members[key]

    def readers(self, fabric, key):
        """(stack, host, name) of what reads ``key`` from other stacks:
        the members that read it through its export and, for a group
        member, the group's consumers."""
        found = [r for r in fabric.of(key[0]).exports.readers(key[2])
                 if r[0]]
        member = self.member_of(fabric, key)
        if member:
            found += [(member['stack'], h, n) for h, n in fabric.of(
                member['stack']).roster.consumers(member['group'], key[2])]
        return found

    def survives(self, fabric, key, live, stacks):
        """Whether ``key`` outlives this operation: a component of this
        stack in ``live``, one of another stack unless that stack is
        going (``stacks`` caches the answer per stack)."""
        if key[0] == fabric.paths.stack_id:
            return key[2] in live
        if key[0] not in stacks:
            stacks[key[0]] = not family.doomed(self.resource.context,
                                               key[0])
        return stacks[key[0]]

    def leave(self, fabric, key):
        """Mark a doomed group member LEAVING; its record, or None."""
        member = self.member_of(fabric, key)
        if not member:
            return None
        state = family.state(self.resource.context, member['stack'])
        return fabric.of(member['stack']).roster.leave(
            member['group'], key[2], key[1],
            left_in=state.epoch if state and state.in_progress else None)

    def released(self, fabric, key, live, watch):
        """Whether a doomed group member may run its DELETE config: every
        consumer that stays has reconfigured without it (a load balancer
        stops sending it traffic before the application stops), then they
        lose read on its outputs. None while one has not; an Outcome when
        one failed to. ``watch`` collects the nodes to wait on."""
        member = self.member_of(fabric, key)
        if not member:
            return True
        parent = fabric.of(member['stack'])
        rec, _ = parent.roster.read(member['group'], key[2], key[1])
        if rec is not None and rec.get('state') != records.LEAVING:
            rec = self.leave(fabric, key)
        if rec is None:
            return True  # not a member any more
        group_key = '%s/%s' % (member['group'], key[2])
        stacks = {}
        for h, n in parent.roster.consumers(member['group'], key[2]):
            if not self.survives(fabric, (member['stack'], h, n), live,
                                 stacks):
                continue  # doomed too: its DELETE goes first
            watch.append(parent.paths.status(h, n))
            status = parent.progress.read_status(h, n)
            verdict = fabric_family.released(status, group_key, key[1])
            if verdict is True:
                continue
            if verdict is fabric_family.FAILED:
                return progress.Outcome(progress.FAILED, (
                    'not run: consumer %s failed to reconfigure without '
                    'member %s of %s: %s' % (n, member['name'],
                                             member['group'],
                                             parent.progress.describe(
                                                 status))), None)
            if parent.progress.host_lost(h):
                continue  # nothing left there to reconfigure
            return None
        parent.roster.revoke(rec)
        return True

    def forget(self, fabric, host):
        """Before its nodes go: what this component had across stacks
        goes too (its reader entries and grants, its member record, its
        export)."""
        spec, _ = fabric.registry._read_spec(host, self.name)
        spec = spec or {}
        me = (fabric.paths.stack_id, host, self.name)
        try:
            host_id = fabric.registry.host_acl_id(host)
        except records.RecordError:
            host_id = None  # its host is gone: so is its credential
        if host_id:
            for wire in spec.get('remote', ()):
                fabric.of(wire['stack']).exports.unsubscribe(
                    wire['component'], me, host_id)
            for wire in spec.get('groups', ()):
                fabric.roster.unconsume(wire['group'], wire['component'],
                                        me[1:], host_id)
        member = spec.get('member')
        if member:
            fabric.of(member['stack']).roster.remove({
                'group': member['group'], 'component': self.name,
                'host': host, 'stack': fabric.paths.stack_id})
        fabric.exports.remove(self.name)


def _pending_publication(up, host, name, epoch):
    """When the parent's component is registered in the parent's
    operation and has not published in it yet: the finishing time of the
    publication it has now (0 for none), after which a reader waits; None
    when there is nothing to wait for."""
    spec, _ = up.registry._read_spec(host, name)
    if (spec or {}).get('epoch') != epoch:
        return None  # not registered in it yet: read the latest
    try:
        raw, _ = up.client.get(up.paths.outputs(host, name))
        pub = records.decode(raw, up.paths.outputs(host, name)) or {}
    except Exception:  # noqa: gone: nothing to wait for
        return None
    if pub.get('epoch') == epoch:
        return None
    return pub.get('finished') or 0
