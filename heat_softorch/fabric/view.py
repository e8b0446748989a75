"""The operator's read-only view of one stack's zNodes, as plain data.

``softorch status``, ``graph --stack``, ``plan`` and ``timeline`` all read a
stack through :func:`read`: the manifest, every host (its agent resource,
server, whether an agent holds its liveness lock, what the agent last
recorded at start, since when the engine has seen it gone) and every
component (a summary of its spec, its status record, the state of its
publication), with the waiting edges between them. Nothing is written.

Reads go out asynchronously, one level of the tree at a time, so a stack of
a thousand components costs three round trips, not four thousand. With a
``watch`` callback every node read is also watched (one-shot ZooKeeper
watches, re-armed by the next read), which is how ``status --watch``
refreshes without polling.

Hidden inputs: a spec's ``values`` hold the real values (the agent needs
them); here they are replaced by ``***`` unless ``full_specs`` is asked
for, which only ``plan`` does, to compare definitions without showing them.
"""

import time

from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import records

MASK = '***'


class ViewError(Exception):
    """What the operator is told; the message is a sentence."""


class StackNotFound(ViewError):
    pass


def _kz():
    from kazoo import exceptions
    return exceptions


def _collect(calls):
    """{key: result or None (no node)} of ``{key: async result}``."""
    kz_exc = _kz()
    out = {}
    for key, res in calls.items():
        try:
            out[key] = res.get()
        except kz_exc.NoNodeError:
            out[key] = None
        except kz_exc.NoAuthError:
            raise ViewError(
                'ZooKeeper refused to show %s: the engine credential was '
                'not accepted (check engine_password in [softorch] or '
                '--engine-password)' % (key[-1] if isinstance(key, tuple)
                                        else key))
    return out


def _record(data, path, kind=None):
    if data is None:
        return None
    raw = data[0] if isinstance(data, tuple) else data
    try:
        return records.decode(raw, path, kind)
    except records.RecordError as exc:
        return {'unreadable': str(exc)}


def stacks(client, root):
    """[(stack id, manifest or None)] of every stack under ``root``."""
    kz_exc = _kz()
    base = zpaths.StackPaths(root, 'x').stacks
    try:
        children = client.get_children(base)
    except kz_exc.NoNodeError:
        return []
    except kz_exc.NoAuthError:
        raise ViewError('ZooKeeper refused to list %s: the engine '
                        'credential was not accepted' % base)
    calls = {c: client.get_async('%s/%s' % (base, c)) for c in children}
    got = _collect(calls)
    return sorted((zpaths.unsegment(c), _record(got[c], c, 'manifest'))
                  for c in children)


def _spec_summary(spec, full):
    if spec is None or 'unreadable' in spec:
        return spec
    if full:
        return dict(spec)
    hidden = {i['name'] for i in spec.get('inputs') or () if i.get('hidden')}
    values = {k: (MASK if k in hidden else v)
              for k, v in (spec.get('values') or {}).items()}
    keep = ('name', 'host', 'server', 'stack_name', 'generation', 'epoch',
            'digest', 'action', 'armed', 'registered', 'timeout', 'wiring',
            'wires', 'inputs', 'outputs', 'options')
    out = {k: spec.get(k) for k in keep if k in spec}
    out['values'] = values
    out['configs'] = sorted((spec.get('configs') or {}))
    return out


def read(client, root, stack_id, watch=None, full_specs=False):
    """Everything the operator's views show about one stack.

    Returns ``{'stack_id', 'path', 'manifest', 'hosts': [...],
    'components': [...], 'waiting': [...], 'read_at'}``; raises
    StackNotFound when the stack has no zNodes and ViewError when they
    cannot be read.
    """
    kz_exc = _kz()
    paths = zpaths.StackPaths(root, stack_id)
    w = {'watch': watch} if watch else {}
    try:
        raw = client.get(paths.stack, **w)
    except kz_exc.NoNodeError:
        raise StackNotFound('stack %s has no zNodes under %s: it has no '
                            'software components, or it was deleted'
                            % (stack_id, paths.stacks))
    except kz_exc.NoAuthError:
        raise ViewError('ZooKeeper refused to show %s: the engine '
                        'credential was not accepted (check engine_password '
                        'in [softorch] or --engine-password)' % paths.stack)
    manifest = _record(raw, paths.stack, 'manifest')
    try:
        host_segs = client.get_children(paths.hosts, **w)
    except kz_exc.NoNodeError:
        host_segs = []
    hosts = [zpaths.unsegment(s) for s in host_segs]

    level = {}
    for h in hosts:
        level[h, 'record'] = client.get_async(paths.host(h), **w)
        level[h, 'lock'] = client.get_children_async(paths.liveness(h), **w)
        level[h, 'seen'] = client.get_async(paths.seen(h), **w)
        level[h, 'components'] = client.get_children_async(
            paths.components(h), **w)
    got = _collect(level)

    level = {}
    for h in hosts:
        for seg in got[h, 'components'] or ():
            c = zpaths.unsegment(seg)
            level[h, c, 'spec'] = client.get_async(paths.spec(h, c), **w)
            level[h, c, 'status'] = client.get_async(paths.status(h, c), **w)
            level[h, c, 'outputs'] = client.get_async(paths.outputs(h, c),
                                                      **w)
            level[h, c, 'readers'] = client.get_children_async(
                paths.readers(h, c))
    comps = _collect(level)

    manifest_components = (manifest or {}).get('components') or {}
    host_rows, by_host = [], {}
    for h in hosts:
        rec = _record(got[h, 'record'], paths.host(h), 'host') or {}
        seen = _record(got[h, 'seen'], paths.seen(h), 'seen')
        lock = got[h, 'lock']
        row = {
            'host': h, 'agent': rec.get('agent'),
            'server': rec.get('server'), 'servers': rec.get('servers') or [],
            'created': rec.get('created'),
            'alive': bool(lock), 'lock': sorted(lock or []),
            'seen': seen, 'dead_since': rec.get('dead_since'),
            'registered': got[h, 'record'] is not None,
            'components': sorted(zpaths.unsegment(s)
                                 for s in got[h, 'components'] or ()),
        }
        host_rows.append(row)
        by_host[h] = row

    components = []
    for (h, c, part) in sorted(level):
        if part != 'spec':
            continue
        spec = _record(comps[h, c, 'spec'], paths.spec(h, c), 'spec')
        status = _record(comps[h, c, 'status'], paths.status(h, c),
                         'status') or {}
        pub = _record(comps[h, c, 'outputs'], paths.outputs(h, c),
                      'publication') or {}
        host = by_host.get(h, {})
        agent = host.get('agent')
        in_manifest = manifest_components.get(c)
        current = spec is not None and status.get('epoch') == (
            spec or {}).get('epoch')
        components.append({
            'name': c, 'host': h, 'agent': agent,
            'server': (spec or {}).get('server') or host.get('server'),
            # A replaced component lingers on its old agent until its
            # DELETE config ran: the manifest names the current one.
            'replaced': bool(in_manifest and agent and
                             in_manifest.get('agent') not in (None, agent)),
            'spec': _spec_summary(spec, full_specs),
            'status': status,
            'current': current,
            'publication': {k: pub.get(k) for k in (
                'state', 'epoch', 'generation', 'request', 'finished',
                'root_cause', 'values') if k in pub},
            'readers': sorted('%s@%s' % _reader(e)[::-1]
                              for e in comps[h, c, 'readers'] or ()),
        })
    components.sort(key=lambda r: (r['name'], r['replaced'], r['host']))

    waiting = []
    for comp in components:
        st = comp['status']
        if st.get('state') != records.WAITING or not comp['current']:
            continue
        for on in st.get('waiting_on') or ():
            waiting.append({'component': comp['name'], 'host': comp['host'],
                            'server': comp['server'], 'on': dict(on)})
    return {
        'stack_id': stack_id, 'path': paths.stack, 'manifest': manifest,
        'hosts': host_rows, 'components': components, 'waiting': waiting,
        'groups': read_groups(client, paths, w), 'exports':
        read_exports(client, paths, w), 'read_at': time.time(),
    }


def _children(client, path, w):
    kz_exc = _kz()
    try:
        return [zpaths.unsegment(c) for c in client.get_children(path, **w)]
    except kz_exc.NoNodeError:
        return []


def _entries(client, path):
    """Reader entries (name@host[@stack]) as their nodes are named."""
    kz_exc = _kz()
    try:
        return client.get_children(path)
    except kz_exc.NoNodeError:
        return []


def read_groups(client, paths, w=None):
    """The groups of a stack as its roster shows them: ``[{'group',
    'component', 'members': [member record with 'status' (its component's
    status record, read in the member's own stack)], 'consumers': [{host,
    component}]}]``, by group and component; members by name."""
    from heat_softorch.fabric import family
    w = w or {}
    found = []
    for group in sorted(_children(client, paths.groups, w)):
        base = '%s/%s' % (paths.groups, zpaths.segment(group))
        for comp in sorted(_children(client, base, w)):
            listing = paths.members(group, comp)
            hosts = _children(client, listing, w)
            calls = {h: client.get_async(paths.member(group, comp, h), **w)
                     for h in hosts}
            readers = {r: client.get_async('%s/%s' % (
                paths.group_readers(group, comp), r))
                for r in _entries(client, paths.group_readers(group, comp))}
            got = _collect(calls)
            records_ = {h: _record(got[h], listing, 'member') or {}
                        for h in hosts}
            status_calls = {}
            for h, rec in records_.items():
                if rec.get('stack') and rec.get('host'):
                    other = zpaths.StackPaths(paths.root, rec['stack'])
                    status_calls[h] = client.get_async(
                        other.status(rec['host'], rec.get('component')),
                        **w)
            statuses = _collect(status_calls)
            members = []
            for h, rec in records_.items():
                members.append(dict(rec, host=h, status=_record(
                    statuses.get(h), h, 'status') or {}))
            members.sort(key=family.member_order)
            consumers = []
            for entry in sorted(readers):
                rec = _record(_collect({entry: readers[entry]})[entry],
                              entry, 'reader') or {}
                consumers.append({'host': rec.get('host'),
                                  'component': rec.get('component')})
            found.append({'group': group, 'component': comp,
                          'members': members, 'consumers': consumers})
    return found


def read_exports(client, paths, w=None):
    """[{'component', 'host', 'readers': [{stack, host, component}]}] of
    this stack's components that other stacks read."""
    w = w or {}
    found = []
    for comp in sorted(_children(client, paths.exports, w)):
        got = _collect({'e': client.get_async(paths.export(comp))})
        rec = _record(got['e'], paths.export(comp), 'export') or {}
        readers = []
        for entry in _entries(client, paths.export_readers(comp)):
            raw = _collect({'r': client.get_async('%s/%s' % (
                paths.export_readers(comp), entry))})
            r = _record(raw['r'], entry, 'reader') or {}
            readers.append({k: r.get(k) for k in ('stack', 'host',
                                                  'component')})
        found.append({'component': comp, 'host': rec.get('host'),
                      'readers': sorted(readers, key=lambda r: (
                          r['stack'] or '', r['host'] or ''))})
    return found


def _reader(entry):
    name, _, host = entry.partition('@')
    return zpaths.unsegment(host), zpaths.unsegment(name)


def current_components(view):
    """{name: component} with, for a replaced component, the replacement."""
    out = {}
    for comp in view['components']:
        if comp['name'] not in out or not comp['replaced']:
            out[comp['name']] = comp
    return out


def effective_state(comp):
    """The state to show: PENDING while the agent has not taken up the
    spec's current epoch (the status still describes an earlier one)."""
    st = comp.get('status') or {}
    state = st.get('state') or records.PENDING
    if comp.get('spec') is None:
        return 'REMOVED'
    if not comp.get('current') and state != records.PENDING:
        return records.PENDING
    return state
