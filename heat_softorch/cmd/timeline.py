"""``softorch timeline STACK [-o FILE.png]``: when each component waited and
ran in the stack's last create or update.

One row per component, grouped by host: a light bar while it waited for
its upstreams (waiting since -> started), a solid one while it ran
(started -> finished, or now while it still runs), a diamond for a
component that was confirmed unchanged without running. The critical path
(from the component that finished last, back through the upstream that
released each one, i.e. finished last among its upstreams) is outlined.
A text summary goes to standard output; the chart (matplotlib) to ``-o``.
"""

import os
import sys
import time


def add_parser(subparsers):
    from heat_softorch.cmd import access
    p = subparsers.add_parser(
        'timeline', help='a Gantt chart of the last create or update',
        description=__doc__.split('\n\n')[1])
    p.add_argument('stack', help='stack name or id')
    p.add_argument('-o', '--output', metavar='FILE.png',
                   help='write the chart here (png, svg or pdf by extension)')
    access.add_zookeeper_args(p)
    p.set_defaults(func=main)


# -- plain data (pure) --------------------------------------------------------

def bars(view, now=None):
    """One dict per component that took part in the stack's last
    operation: name, host label, state, and the waiting and running
    intervals in seconds since the epoch. A group's members (stacks of
    their own) are rows too, ``<group>/<member>/<component>``, when they
    ran during it."""
    from heat_softorch.fabric import view as view_mod
    now = time.time() if now is None else now
    epoch = (view.get('manifest') or {}).get('epoch')
    out = []
    for name, comp in sorted(view_mod.current_components(view).items()):
        st = comp.get('status') or {}
        if not comp['current'] or (epoch and st.get('epoch') != epoch):
            continue
        out.append(_bar(name, comp['host'], host_label(comp), st, now))
    if out:
        since = min(t for r in out for t in (
            (r['waiting'] or (None,))[0], r['start'], r['end']) if t)
        for name, m in _members(view):
            row = _bar(name, m.get('host'), '%s (%s)' % (
                m.get('server') or '?', m.get('host')), m['status'], now)
            if any(t and t >= since for t in (
                    row['start'], row['end'], (row['waiting'] or (None,))[0])):
                out.append(row)
    return out


def _members(view):
    for group in view.get('groups') or ():
        for m in group['members']:
            yield '%s/%s/%s' % (group['group'], m.get('member'),
                                group['component']), m


def _bar(name, host, label, st, now):
    state = st.get('state')
    started, finished = st.get('started'), st.get('finished')
    since = st.get('waiting_since')
    end = finished if finished else (now if state == 'RUNNING' else None)
    running = (started, end) if started and end else None
    wait_end = started or finished or (now if state == 'WAITING' else None)
    waiting = (since, wait_end) if since and wait_end and \
        wait_end >= since else None
    return {
        'component': name, 'host': host, 'label': label, 'state': state,
        'action': st.get('action'), 'confirmed': bool(st.get('confirmed')),
        'waiting': waiting, 'running': running,
        'end': end if end else (wait_end if waiting else None),
        'start': started,
    }


def host_label(comp):
    if comp.get('server') and comp.get('agent'):
        return '%s (%s)' % (comp['server'], comp['agent'])
    return comp.get('server') or comp.get('agent') or comp['host']


def upstreams(view):
    """{row name: its upstreams' row names}: a group read stands for every
    member, and a member reads what its export readers say."""
    comps = (view.get('manifest') or {}).get('components') or {}
    members = {}
    for name, m in _members(view):
        members.setdefault('%s/%s' % (name.split('/')[0],
                                      name.split('/')[-1]), []).append(
            (name, m))
    out = {}
    for n, c in comps.items():
        ups = set()
        for _, u, _ in c.get('upstream') or ():
            ups.update([x for x, _ in members.get(u, ())] or [u])
        out[n] = sorted(ups)
    for rows in members.values():
        for name, m in rows:
            out[name] = sorted(
                e['component'] for e in view.get('exports') or ()
                if any(r['stack'] == m.get('stack') and
                       r['host'] == m.get('host') for r in e['readers']))
    return out


def critical_path(rows, ups):
    """The chain that decided when the operation ended: from the component
    that ended last, back through the upstream that ended last among each
    one's upstreams (the one it waited for). Upstream first."""
    ends = {r['component']: r['end'] for r in rows if r['end'] is not None}
    if not ends:
        return []
    node = max(sorted(ends), key=lambda n: ends[n])
    path = [node]
    seen = {node}
    while True:
        cands = [u for u in ups.get(node, ()) if u in ends and u not in seen]
        if not cands:
            break
        node = max(sorted(cands), key=lambda n: ends[n])
        path.append(node)
        seen.add(node)
    return list(reversed(path))


def _host_order(by_host):
    """Hosts by when their first component started (or ended)."""
    def first(label):
        return min((r['start'] or r['end'] or float('inf'))
                   for r in by_host[label])
    return sorted(by_host, key=lambda label: (first(label), label))


def _d(seconds):
    from heat_softorch.cmd import status
    return status.duration(seconds)


def summary_lines(stack, view, rows, path):
    manifest = view.get('manifest') or {}
    if not rows:
        return ['stack %s: no component has a record of the last operation'
                % stack.label]
    t0 = min(t for r in rows for t in (
        (r['waiting'] or (None,))[0], r['start'], r['end']) if t)
    t1 = max(r['end'] for r in rows if r['end'])
    lines = ['stack %s: last operation %s, %d components, %s from the '
             'first component taking it up to the last finish' % (
                 stack.label, manifest.get('action') or '?', len(rows),
                 _d(t1 - t0))]
    by_host = {}
    for r in rows:
        by_host.setdefault(r['label'], []).append(r)
    width = max(len(r['component']) for r in rows)
    for label in _host_order(by_host):
        lines.append('  %s' % label)
        for r in sorted(by_host[label], key=lambda r: (
                r['start'] or r['end'] or 0, r['component'])):
            waited = r['waiting'][1] - r['waiting'][0] if r['waiting'] \
                else 0.0
            if r['confirmed']:
                ran = 'unchanged, not run'
            elif r['running']:
                ran = 'ran %s' % _d(r['running'][1] - r['running'][0])
            else:
                ran = 'did not run'
            mark = ' *' if r['component'] in path else ''
            lines.append('    %-*s  start +%-7s waited %-7s %-18s %s%s' % (
                width, r['component'],
                _d((r['start'] or r['end'] or t0) - t0), _d(waited), ran,
                ('%s %s' % (r['state'], (r['action'] or '').lower())).strip(),
                mark))
    if path:
        by_name = {r['component']: r for r in rows}
        steps = []
        prev = None
        for name in path:
            r = by_name[name]
            text = name
            if r['running']:
                text += ' (ran %s' % _d(r['running'][1] - r['running'][0])
                if prev is not None and prev['end'] and r['start']:
                    text += ', started %s after %s finished' % (
                        _d(r['start'] - prev['end']), prev['component'])
                text += ')'
            elif r['confirmed']:
                text += ' (unchanged)'
            steps.append(text)
            prev = r
        lines.append('critical path (*): ' + ' \u2192 '.join(steps))
    return lines


# -- the chart ----------------------------------------------------------------

def draw(stack, view, rows, path, output):
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import patches
    from matplotlib import pyplot as plt
    from heat_softorch.cmd import graph
    t0 = min(t for r in rows for t in (
        (r['waiting'] or (None,))[0], r['start'], r['end']) if t)
    by_host = {}
    for r in rows:
        by_host.setdefault(r['label'], []).append(r)
    order = []
    for label in _host_order(by_host):
        order.append(('host', label))
        for r in sorted(by_host[label], key=lambda r: (
                r['start'] or r['end'] or 0, r['component'])):
            order.append(('row', r))
    height = 1.2 + 0.38 * len(order)
    fig, ax = plt.subplots(figsize=(11, max(2.5, height)))
    labels, ticks = [], []
    critical = set(path)
    for i, (kind, item) in enumerate(order):
        y = len(order) - i
        if kind == 'host':
            ax.axhline(y, color='#adb5bd', lw=0.8)
            ax.text(0, y, '  ' + item, va='center', ha='left',
                    fontsize=9, fontweight='bold', color='#495057',
                    transform=ax.get_yaxis_transform(),
                    bbox=dict(facecolor='white', edgecolor='none', pad=1))
            continue
        r = item
        ticks.append(y)
        labels.append(r['component'])
        fill, border = graph.STATE_COLOURS.get(r['state'] or 'PENDING',
                                               ('#ffffff', '#495057'))
        hot = r['component'] in critical
        if r['waiting']:
            a, b = r['waiting']
            ax.barh(y, max(b - a, 0.001), left=a - t0, height=0.5,
                    color='#e7f5ff', edgecolor='#74c0fc', hatch='///',
                    lw=0.8)
        if r['running']:
            a, b = r['running']
            ax.barh(y, max(b - a, 0.001), left=a - t0, height=0.6,
                    color=fill, edgecolor='#c92a2a' if hot else border,
                    lw=2.5 if hot else 1)
            ax.annotate(' ' + _d(b - a), (b - t0, y), xytext=(4, 0),
                        textcoords='offset points', va='center',
                        fontsize=8, color='#495057')
        elif r['end']:
            ax.plot([r['end'] - t0], [y], marker='D', ms=7,
                    color=fill, mec='#c92a2a' if hot else border,
                    mew=2 if hot else 1)
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels)
    ax.set_ylim(0.4, len(order) + 0.6)
    ax.set_xlim(0, (max(r['end'] for r in rows if r['end']) - t0) * 1.08
                + 0.05)
    ax.set_xlabel('seconds since the first component took the operation '
                  'up')
    ax.grid(axis='x', color='#e9ecef')
    manifest = view.get('manifest') or {}
    ax.set_title('stack %s: %s' % (stack.label, manifest.get('action') or
                                   'last operation'), fontsize=11)
    legend = [patches.Patch(facecolor='#e7f5ff', edgecolor='#74c0fc',
                            hatch='///', label='waiting for upstreams'),
              patches.Patch(facecolor=graph.STATE_COLOURS['COMPLETE'][0],
                            edgecolor=graph.STATE_COLOURS['COMPLETE'][1],
                            label='running (colour: state)'),
              patches.Patch(facecolor='white', edgecolor='#c92a2a', lw=2.5,
                            label='critical path')]
    if any(r['confirmed'] for r in rows):
        from matplotlib import lines as mlines
        legend.append(mlines.Line2D(
            [], [], ls='', marker='D', ms=7, mfc=graph.STATE_COLOURS[
                'COMPLETE'][0], mec=graph.STATE_COLOURS['COMPLETE'][1],
            label='unchanged: confirmed without running'))
    ax.legend(handles=legend, loc='upper center', fontsize=8,
              ncol=len(legend),
              bbox_to_anchor=(0.5, -0.12 - 0.6 / height), frameon=False)
    fig.tight_layout()
    ext = os.path.splitext(output)[1].lstrip('.').lower() or 'png'
    fig.savefig(output, format=ext, dpi=110, bbox_inches='tight')
    plt.close(fig)


# -- the command --------------------------------------------------------------

def _main(args):
    from heat_softorch.cmd import access
    if args.output:
        ext = os.path.splitext(args.output)[1].lstrip('.').lower()
        if ext not in ('png', 'svg', 'pdf'):
            raise access.OperatorError('-o %s: give a .png, .svg or .pdf '
                                       'file name' % args.output)
    client, _, stack, data = access.stack_view(args, args.stack)
    access.close(client)
    rows = bars(data)
    path = critical_path(rows, upstreams(data))
    for line in summary_lines(stack, data, rows, path):
        print(line)
    if args.output:
        if not rows:
            raise access.OperatorError('nothing to draw in %s' % args.output)
        try:
            draw(stack, data, rows, path, args.output)
        except OSError as exc:
            raise access.OperatorError('cannot write %s: %s' % (
                args.output, exc.strerror or exc))
        print('chart: %s' % args.output, file=sys.stderr)
    return 0


def main(args):
    from heat_softorch.cmd import access
    return access.run(_main, args)
