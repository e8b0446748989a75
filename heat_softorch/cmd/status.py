"""``softorch status STACK [--watch]``: every component and agent, live.

One row per component: where it runs, its state and generation, how long
(running for, took, waiting for), and why: for a waiting component exactly
which upstream output it waits on (``waiting on db.db_url @ db_server``),
for a failed one its exit code and the last lines of its stderr. Then the
agents and whether each is alive, and the stack's groups: each member (a
stack of its own) with its membership (joined, leaving), where its
component runs, its state and who reads it. ``--watch`` keeps the table
on screen and redraws it when ZooKeeper reports a change (watches, not
polling; the clock columns tick once a second; Heat's stack status in the
header is asked again after each change, and every few seconds while an
operation is in progress); Ctrl-C ends it. ``--format json`` is for scripts.

When Heat's operation on the stack is orphaned (IN_PROGRESS, but no
heat-engine is working on it any more: see orphaned()) it says so, and
prints the command that converges it.
"""

import datetime
import json
import sys
import threading
import time

STDERR_LINES = 3
HEAT_REFRESH = 3.0
# Seconds with nothing changing, in Heat or among the components, before an
# operation in progress with every component settled is called orphaned.
ORPHAN_AFTER = 60.0
SETTLED = ('COMPLETE', 'FAILED', 'ABANDONED')
COMPONENT_TYPE = 'OS::SoftOrch::SoftwareComponent'
# Resources whose own Heat action takes no time: one still in progress
# after the quiet window has no engine on it either.
QUICK_TYPES = ('OS::SoftOrch::Agent', 'OS::SoftOrch::ComponentLink')
UPDATE_EXISTING = 'openstack stack update --existing %s'


def add_parser(subparsers):
    from heat_softorch.cmd import access
    p = subparsers.add_parser(
        'status', help='the state of every component and agent of a stack',
        description=__doc__.split('\n\n')[1])
    p.add_argument('stack', help='stack name or id')
    p.add_argument('--watch', action='store_true',
                   help='keep showing it, redrawn on every change')
    p.add_argument('--format', choices=('table', 'json'), default='table')
    p.add_argument('--orphan-after', type=float, default=ORPHAN_AFTER,
                   metavar='SECONDS',
                   help='call an operation in progress orphaned once nothing '
                   'has changed for this long (default %d)' % ORPHAN_AFTER)
    access.add_zookeeper_args(p)
    p.set_defaults(func=main)


# -- plain rows (pure) --------------------------------------------------------

def duration(seconds):
    """'4ms', '3.2s', '12s', '3m05s', '2h07m'."""
    if seconds is None:
        return ''
    seconds = max(0.0, seconds)
    if seconds < 1:
        return '%dms' % round(seconds * 1000)
    if seconds < 10:
        return '%.1fs' % seconds
    if seconds < 60:
        return '%ds' % seconds
    if seconds < 3600:
        return '%dm%02ds' % divmod(int(seconds), 60)
    hours, rest = divmod(int(seconds), 3600)
    return '%dh%02dm' % (hours, rest // 60)


def where(entry):
    """'db_server' or the host id when the server is not known."""
    return entry.get('server') or entry.get('host') or '?'


def waiting_text(waiting_on):
    parts = []
    for w in waiting_on or ():
        what = w.get('component', '?')
        if w.get('output'):
            what += '.' + w['output']
        parts.append('%s @ %s' % (what, where(w)))
    return 'waiting on ' + ', '.join(parts) if parts else 'waiting'


def failure_text(status, by_name=None):
    """'exit 3 (CREATE)' and the last stderr lines, or the reason."""
    root = status.get('root_cause') or {}
    if root and root.get('component') != status.get('component'):
        text = 'not run: upstream %s failed' % root.get('component')
        up = (by_name or {}).get(root.get('component'))
        if up:
            upst = up.get('status') or {}
            if upst.get('exit_code') is not None:
                text += ' (exit %s on %s)' % (upst['exit_code'], where(up))
        return [text]
    lines = []
    if status.get('exit_code') is not None:
        lines.append('exit %s%s' % (status['exit_code'], (
            ' (%s)' % status['action']) if status.get('action') else ''))
    if status.get('reason') and status.get('reason') not in lines:
        lines.append(status['reason'])
    err = [ln for ln in (status.get('stderr') or '').splitlines()
           if ln.strip()]
    lines.extend(err[-STDERR_LINES:])
    return lines or ['failed']


def component_rows(view, now=None):
    """One plain dict per component, in DAG order when the manifest has
    one, else by name."""
    from heat_softorch.fabric import records
    from heat_softorch.fabric import view as view_mod
    now = time.time() if now is None else now
    alive = {h['host']: h['alive'] for h in view['hosts']}
    by_name = view_mod.current_components(view)
    rows = []
    for comp in view['components']:
        st = comp['status'] or {}
        spec = comp['spec'] or {}
        state = view_mod.effective_state(comp)
        action = st.get('action') if comp['current'] else None
        started, finished = st.get('started'), st.get('finished')
        since = st.get('waiting_since')
        timing, detail = '', []
        if state == records.RUNNING:
            timing = 'running for %s' % duration(now - (started or now))
        elif state == records.WAITING:
            timing = 'waiting for %s' % duration(now - (since or now))
            if st.get('waiting_for') == 'downstream':
                detail = ['waiting for downstream components\' %s configs'
                          % (spec.get('action') or '').lower()]
            else:
                detail = [waiting_text(st.get('waiting_on'))]
        elif state == records.COMPLETE:
            if st.get('confirmed'):
                timing = 'unchanged'
                detail = ['inputs and definition unchanged: not re-run']
            elif started and finished:
                timing = 'took %s' % duration(finished - started)
            if st.get('reason') and not st.get('confirmed'):
                detail = [st['reason']]
        elif state == records.FAILED:
            if started and finished:
                timing = 'failed after %s' % duration(finished - started)
            elif finished:
                timing = 'not run'
            detail = failure_text(st, by_name)
        elif state == records.ABANDONED:
            timing = 'abandoned'
            detail = [st.get('reason') or 'its host was lost']
        elif state == records.PENDING:
            reg = spec.get('registered')
            timing = 'pending for %s' % duration(now - reg) if reg else ''
            if not alive.get(comp['host']):
                detail = ['its agent is not running']
            elif st.get('state') and not comp['current']:
                detail = ['agent has not taken up this operation yet '
                          '(last: %s)' % st['state']]
            else:
                detail = ['agent has not taken it up yet']
        if comp['replaced']:
            detail = ['replaced: old copy on agent %s' % comp['agent']] + \
                detail
        rows.append({
            'component': comp['name'], 'host': comp['host'],
            'server': comp['server'], 'agent': comp['agent'],
            'state': state, 'action': action,
            'request': spec.get('action'),
            'generation': spec.get('generation'),
            'epoch': spec.get('epoch'), 'timing': timing, 'detail': detail,
            'waiting_since': since, 'started': started,
            'finished': finished, 'exit_code': st.get('exit_code'),
            'confirmed': bool(st.get('confirmed')),
            'waiting_on': st.get('waiting_on') if state == records.WAITING
            else [], 'replaced': comp['replaced'],
        })
    order = _order(view)
    rows.sort(key=lambda r: (order.get(r['component'], len(order)),
                             r['component'], r['replaced']))
    return rows


def _order(view):
    """{component: position} upstream first, from the manifest."""
    comps = (view.get('manifest') or {}).get('components') or {}
    depth = {}

    def level(name, seen=()):
        if name in depth:
            return depth[name]
        if name in seen or name not in comps:
            return 0
        ups = [u for _, u, _ in comps[name].get('upstream') or ()]
        depth[name] = 1 + max([level(u, seen + (name,)) for u in ups] or
                              [-1])
        return depth[name]
    names = sorted(comps, key=lambda n: (level(n), n))
    return {n: i for i, n in enumerate(names)}


def agent_rows(view, now=None):
    now = time.time() if now is None else now
    rows = []
    for h in view['hosts']:
        seen = h.get('seen') or {}
        if h['alive']:
            state = 'alive'
            since = seen.get('started')
            timing = 'up for %s' % duration(now - since) if since else ''
        elif not seen:
            state = 'not started'
            timing = 'host created %s ago' % duration(
                now - h['created']) if h.get('created') else ''
        else:
            state = 'DOWN'
            gone = h.get('dead_since')
            timing = 'gone for %s' % duration(now - gone) if gone else \
                'gone'
        rows.append({'agent': h['agent'], 'host': h['host'],
                     'server': h['server'], 'state': state,
                     'alive': h['alive'], 'timing': timing,
                     'pid': seen.get('pid'), 'hostname': seen.get('hostname'),
                     'components': h['components']})
    rows.sort(key=lambda r: (r['agent'] or '', r['host']))
    return rows


def group_rows(view, now=None):
    """One plain dict per member of each group of the stack, as its roster
    lists it: membership (JOINED, LEAVING), where it runs and the state of
    its component in the member's own stack."""
    now = time.time() if now is None else now
    rows = []
    for group in view.get('groups') or ():
        consumers = sorted({c['component'] for c in group['consumers']
                            if c.get('component')})
        for m in group['members']:
            st = m.get('status') or {}
            state = st.get('state') or 'PENDING'
            if st.get('epoch') != m.get('epoch') and state != 'PENDING':
                state = 'PENDING'
            detail = []
            if state == 'FAILED':
                detail = failure_text(st)
            elif state == 'WAITING':
                detail = [waiting_text(st.get('waiting_on'))]
            elif state == 'COMPLETE' and st.get('started') and \
                    st.get('finished') and not st.get('confirmed'):
                detail = ['took %s' % duration(st['finished'] -
                                               st['started'])]
            elif state == 'COMPLETE' and st.get('confirmed'):
                detail = ['unchanged']
            rows.append({
                'group': group['group'], 'component': group['component'],
                'member': m.get('member'), 'host': m.get('host'),
                'server': m.get('server'), 'stack': m.get('stack'),
                'membership': m.get('state'), 'state': state,
                'action': st.get('action'), 'detail': detail,
                'joined': m.get('joined'), 'consumers': consumers,
                'last_run': (st.get('last_ok') or {}).get('finished'),
                'for': duration(now - m['joined']) if m.get('joined')
                else ''})
    return rows


def summary(rows):
    counts = {}
    for r in rows:
        counts[r['state']] = counts.get(r['state'], 0) + 1
    return ', '.join('%d %s' % (n, s.lower()) for s, n in sorted(
        counts.items()))


def epoch_seconds(text):
    """Heat's ISO 8601 times (UTC, 'Z' or no zone) as epoch seconds."""
    if not text:
        return None
    when = datetime.datetime.fromisoformat(str(text).replace('Z', '+00:00'))
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp()


def orphaned(stack_name, stack_status, stack_changed, resources, services,
             view, now=None, quiet=ORPHAN_AFTER):
    """Whether Heat's operation on the stack has no engine working on it:
    None, or {'reason', 'command', 'engines_up'}.

    Heat's API does not say which engine holds a resource (the engine_id
    lock of a convergence resource is not exposed), and an engine's service
    record reads 'up' for up to two report intervals after it died, so the
    rule infers the holder's absence from what a live engine would have
    done by now. Orphaned when all of:

    - Heat says the stack is ``<ACTION>_IN_PROGRESS``;
    - no component is busy in ZooKeeper: each has settled for its current
      definition (COMPLETE, FAILED or ABANDONED) or its agent is not
      running (nothing will run it unless Heat acts);
    - every resource Heat shows in progress is either a component that
      has settled (an engine holding it sees that within a couple of
      seconds and marks the resource done) or a resource of softorch's
      whose action takes no time (Agent, ComponentLink); any other kind
      in progress (a server being built) may be a live engine's long
      action, so no verdict;
    - nothing has changed for ``quiet`` seconds: no resource's status, no
      component's start or finish, and not the stack's operation itself.

    ``resources``: [{'name', 'type', 'status', 'updated'}] with
    ``updated`` in epoch seconds; ``services``: [{'engine_id', 'status'}]
    from ``openstack orchestration service list``, or None when not
    readable (it only adds to the sentence). Clocks: Heat's, the agents'
    and this host's are compared, so ``quiet`` must exceed their skew.
    """
    now = time.time() if now is None else now
    if not (stack_status or '').endswith('_IN_PROGRESS'):
        return None
    alive = {h['host']: h['alive'] for h in view.get('hosts') or ()}
    settled = {}
    changes = [stack_changed or 0.0]
    for comp in view.get('components') or ():
        st = comp.get('status') or {}
        changes += [st.get('started') or 0.0, st.get('finished') or 0.0]
        if comp.get('spec') is None:
            continue
        done = bool(comp.get('current')) and st.get('state') in SETTLED
        if not done and alive.get(comp['host']):
            return None  # an agent still has work to do
        if not comp.get('replaced'):
            settled[comp['name']] = done
    for res in resources:
        changes.append(res.get('updated') or 0.0)
        if not (res.get('status') or '').endswith('_IN_PROGRESS'):
            continue
        if res.get('type') == COMPONENT_TYPE:
            if not settled.get(res['name']):
                return None  # an engine may still be waiting for it
        elif res.get('type') not in QUICK_TYPES:
            return None  # may be a live engine's long action
    idle = now - max(changes)
    if idle < quiet:
        return None
    action = stack_status[:-len('_IN_PROGRESS')]
    up = None if services is None else [
        s.get('engine_id') for s in services if s.get('status') == 'up']
    reason = ('Heat\'s %s has had no heat-engine working on it for %s: '
              'every component has settled and nothing has changed since'
              % (action, duration(idle)))
    if up == []:
        reason += '; no heat-engine is up (openstack orchestration service '\
            'list): start one first'
    return {'reason': reason, 'command': UPDATE_EXISTING % stack_name,
            'engines_up': up, 'idle': idle}


def heat_orphan(stack, view, quiet=ORPHAN_AFTER, now=None):
    """orphaned() for a Stack whose Heat is known, asking Heat for the
    resources and engines it needs; None when Heat cannot say."""
    if stack.heat is None or not (stack.status or '').endswith(
            '_IN_PROGRESS'):
        return None
    try:
        resources = [{'name': r.resource_name, 'type': r.resource_type,
                      'status': r.resource_status,
                      'updated': epoch_seconds(getattr(r, 'updated_time',
                                                       None))}
                     for r in stack.heat.resources.list(stack.id)]
    except Exception:  # noqa: no verdict without the resources
        return None
    try:
        services = [{'engine_id': getattr(s, 'engine_id', None),
                     'status': getattr(s, 'status', None)}
                    for s in stack.heat.services.list()]
    except Exception:  # noqa: an admin-only call by default
        services = None
    hs = stack.heat_stack
    changed = epoch_seconds(getattr(hs, 'updated_time', None) or
                            getattr(hs, 'creation_time', None))
    return orphaned(stack.name or stack.id, stack.status, changed, resources,
                    services, view, now=now, quiet=quiet)


def as_json(stack, view, now=None, orphan=None):
    manifest = view.get('manifest') or {}
    return {
        'stack': {'id': stack.id, 'name': stack.name,
                  'status': stack.status, 'status_reason':
                  stack.status_reason, 'epoch': manifest.get('epoch'),
                  'action': manifest.get('action'), 'orphaned': orphan},
        'components': component_rows(view, now),
        'agents': agent_rows(view, now),
        'groups': group_rows(view, now),
        'exports': view.get('exports') or [],
        'waiting': view['waiting'],
        'read_at': view['read_at'],
    }


# -- rich rendering -----------------------------------------------------------

STYLES = {'COMPLETE': 'green', 'RUNNING': 'bold yellow', 'WAITING': 'cyan',
          'PENDING': 'dim', 'FAILED': 'bold red', 'ABANDONED': 'red',
          'REMOVED': 'dim'}


def renderable(stack, view, now=None, watching=False, orphan=None):
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text
    now = time.time() if now is None else now
    rows = component_rows(view, now)
    manifest = view.get('manifest') or {}
    head = Text()
    head.append('stack %s' % stack.label, style='bold')
    if stack.status:
        head.append('  %s' % stack.status, style='bold red' if 'FAILED' in
                    stack.status else 'bold')
    if manifest.get('action'):
        head.append('  (last operation: %s)' % manifest['action'])
    if orphan:
        head.append('\norphaned: %s.' % orphan['reason'], style='bold red')
        head.append('\nConverge it with: %s' % orphan['command'],
                    style='bold')
    head.append('\n%s' % (summary(rows) or 'no components registered'))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col, kw in (('component', {'style': 'bold'}), ('host', {}),
                    ('state', {}), ('gen', {'justify': 'right'}),
                    ('time', {}), ('detail', {'overflow': 'fold'})):
        table.add_column(col, **kw)
    for r in rows:
        host = r['server'] or r['host']
        if r['server'] and r['agent']:
            host = '%s (%s)' % (r['server'], r['agent'])
        state = Text(r['state'], style=STYLES.get(r['state'], ''))
        if r['action'] and r['state'] not in ('PENDING', 'WAITING'):
            state.append(' ' + r['action'].lower(), style='dim')
        table.add_row(r['component'], host, state,
                      '' if r['generation'] is None else
                      str(r['generation']), r['timing'],
                      '\n'.join(r['detail']))
    agents = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for col in ('agent', 'server', 'host', 'state', 'since', 'components'):
        agents.add_column(col)
    for a in agent_rows(view, now):
        agents.add_row(a['agent'] or '?', a['server'] or '', a['host'],
                       Text(a['state'], style='green' if a['alive'] else
                            'bold red'), a['timing'],
                       ', '.join(a['components']))
    parts = [head, table, Text('agents', style='bold'), agents]
    members = group_rows(view, now)
    if members:
        groups = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for col in ('group', 'member', 'server (host)', 'membership',
                    'state', 'read by', 'detail'):
            groups.add_column(col)
        for m in members:
            state = Text(m['state'], style=STYLES.get(m['state'], ''))
            if m['action'] and m['state'] not in ('PENDING', 'WAITING'):
                state.append(' ' + m['action'].lower(), style='dim')
            groups.add_row('%s/%s' % (m['group'], m['component']),
                           str(m['member']), '%s (%s)' % (
                               m['server'] or '?', m['host']),
                           (m['membership'] or '').lower(), state,
                           ', '.join(m['consumers']),
                           '\n'.join(m['detail']))
        parts += [Text('groups (members are stacks of their own)',
                       style='bold'), groups]
    if watching:
        parts.append(Text('watching ZooKeeper; Ctrl-C to stop (read %s)'
                          % time.strftime('%H:%M:%S', time.localtime(
                              view['read_at'])), style='dim'))
    return Group(*parts)


def _console():
    from rich.console import Console
    if sys.stdout.isatty():
        return Console()
    # Piped or captured: no wrapping of the sentences scripts grep for.
    return Console(width=200, no_color=True, highlight=False)


# -- the command --------------------------------------------------------------

def _watch(args, console):
    from rich.live import Live
    from heat_softorch.cmd import access
    from heat_softorch.fabric import view as view_mod
    changed = threading.Event()

    def on_change(event=None):
        changed.set()

    client, settings, stack, data = access.stack_view(args, args.stack,
                                                      watch=on_change)
    client.add_listener(lambda state: changed.set())
    root = settings['root_path']
    asked_heat = time.monotonic()
    orphan = [heat_orphan(stack, data, args.orphan_after)]

    def ask_heat():
        # Heat's own status, for the header: after a change in ZooKeeper,
        # and every few seconds while Heat reports an operation in
        # progress (its end is no change in ZooKeeper).
        if stack.heat is None:
            return
        try:
            stack.heat_stack = stack.heat.stacks.get(
                stack.id, resolve_outputs=False)
        except Exception:  # noqa: keep the last known status
            pass
        orphan[0] = heat_orphan(stack, data, args.orphan_after)

    try:
        with Live(renderable(stack, data, watching=True, orphan=orphan[0]),
                  console=console,
                  auto_refresh=False) as live:
            while True:
                if changed.wait(1.0):
                    time.sleep(0.05)  # one redraw for a burst of changes
                    changed.clear()
                    try:
                        data = view_mod.read(client, root, stack.id,
                                             watch=on_change)
                    except view_mod.StackNotFound:
                        live.update(renderable(stack, data), refresh=True)
                        console.print('stack %s: its zNodes are gone (the '
                                      'stack was deleted)' % stack.label)
                        return 0
                    except view_mod.ViewError as exc:
                        raise access.OperatorError(str(exc))
                    ask_heat()
                    asked_heat = time.monotonic()
                elif 'IN_PROGRESS' in (stack.status or '') and \
                        time.monotonic() - asked_heat > HEAT_REFRESH:
                    ask_heat()
                    asked_heat = time.monotonic()
                live.update(renderable(stack, data, watching=True,
                                       orphan=orphan[0]), refresh=True)
    except KeyboardInterrupt:
        return 0
    finally:
        access.close(client)


def _main(args):
    from heat_softorch.cmd import access
    if args.watch and args.format == 'json':
        raise access.OperatorError('--watch draws a table: use it without '
                                   '--format json')
    console = _console()
    if args.watch:
        return _watch(args, console)
    client, _, stack, data = access.stack_view(args, args.stack)
    access.close(client)
    orphan = heat_orphan(stack, data, args.orphan_after)
    if args.format == 'json':
        json.dump(as_json(stack, data, orphan=orphan), sys.stdout, indent=1,
                  sort_keys=True, default=str)
        sys.stdout.write('\n')
        return 0
    if sys.stdout.isatty():
        console.print(renderable(stack, data, orphan=orphan))
    else:
        with console.capture() as captured:
            console.print(renderable(stack, data, orphan=orphan))
        sys.stdout.write(''.join(line.rstrip() + '\n' for line in
                                 captured.get().splitlines()))
    return 0


def main(args):
    from heat_softorch.cmd import access
    return access.run(_main, args)
