"""``softorch plan STACK -t NEW_TEMPLATE``: what an update would re-run, and
why, before it runs. Nothing is written anywhere.

The agents decide at run time from digests: a component re-runs when its
definition (configs, inputs, values, outputs, options, timeout, wiring)
differs from its last successful run, or when an input wired from another
component arrives with a different value. This compares the specs stored
in ZooKeeper with the new template's components, built offline exactly as
the engine builds them, and uses the new DAG for what lies downstream:

- certain: a new component (CREATE), a removed one (DELETE), one moved to
  another agent (replaced: CREATE there, DELETE on the old one), one whose
  definition changed, one whose last attempt failed or never completed;
- uncertain: a component downstream of one that re-runs ("re-runs if
  left's outputs change"), or whose definition reads values only Heat can
  resolve during the update ("input ip comes from server.first_address");
- unchanged: the rest, which the update confirms without running.

A group whose size changes (a ResourceGroup's count, an AutoScalingGroup's
desired_capacity) re-runs every component reading it once, with the new
list; its new members run CREATE (in stacks of their own), the others do
not re-run, and leaving members run their DELETE configs after.
"""

import json
import sys
import uuid

CERTAIN, UNCERTAIN, UNCHANGED = 'certain', 'uncertain', 'unchanged'
UNKNOWN_PARAM = 'softorch-plan-hidden-parameter-%s' % uuid.uuid4().hex


def add_parser(subparsers):
    from heat_softorch.cmd import access
    from heat_softorch.cmd import validate
    p = subparsers.add_parser(
        'plan', help='what a stack update would re-run, without running it',
        description=__doc__.split('\n\n')[0])
    p.add_argument('stack', help='stack name or id')
    p.add_argument('-t', '--template', required=True,
                   help='the new HOT template')
    validate.add_template_args(p)
    p.add_argument('--existing', action='store_true',
                   help='start from the stack\'s current parameters, as '
                   '"openstack stack update --existing" does (needs Heat)')
    p.add_argument('--format', choices=('text', 'json'), default='text')
    access.add_zookeeper_args(p)
    p.set_defaults(func=main)


# -- comparing definitions (pure) ---------------------------------------------

def _short(value, limit=40):
    text = json.dumps(value, sort_keys=True) if not isinstance(
        value, str) else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _wire_text(w):
    if not w.get('input'):
        return 'after %s' % w['component']
    return '%s \u2190 %s.%s' % (w['input'], w['component'], w['output'])


def definition_changes(old, new, unknown=(), hidden=()):
    """(changes, undecided): sentences for the definition fields that
    differ, and for those that cannot be compared offline. ``unknown``
    names fields ('configs', 'values.ip', ...) that are not resolved;
    values of ``hidden`` inputs are never shown."""
    from heat_softorch.fabric import registry
    unknown = set(unknown)
    changes, undecided = [], []
    for field in registry.DEFINITION_FIELDS:
        a, b = old.get(field), new.get(field)
        if field == 'values':
            a, b = a or {}, b or {}
            for key in sorted(set(a) | set(b)):
                if 'values.%s' % key in unknown or 'values' in unknown:
                    continue
                if a.get(key) == b.get(key):
                    continue
                if key in hidden:
                    changes.append('input %s changed (hidden)' % key)
                elif key not in a:
                    changes.append('input %s now set to %s' % (
                        key, _short(b[key])))
                elif key not in b:
                    changes.append('input %s no longer set (was %s)' % (
                        key, _short(a[key])))
                else:
                    changes.append('input %s: %s \u2192 %s' % (
                        key, _short(a[key]), _short(b[key])))
            continue
        if field in unknown:
            continue
        if a == b:
            continue
        if field == 'configs':
            a, b = a or {}, b or {}
            for action in sorted(set(a) | set(b)):
                if a.get(action) == b.get(action):
                    continue
                if action not in a:
                    changes.append('new %s config' % action)
                elif action not in b:
                    changes.append('%s config removed' % action)
                else:
                    what = [k for k in ('tool', 'config', 'options')
                            if a[action].get(k) != b[action].get(k)]
                    changes.append('%s config changed (%s)' % (
                        action, ', '.join(what)))
        elif field == 'wiring':
            ta = {_wire_text(w) for w in a or ()}
            tb = {_wire_text(w) for w in b or ()}
            diff = ['+' + t for t in sorted(tb - ta)] + \
                ['-' + t for t in sorted(ta - tb)]
            changes.append('wiring changed: %s' % ', '.join(diff)
                           if diff else 'wiring reordered')
        elif field in ('timeout',):
            changes.append('timeout %s \u2192 %s' % (a, b))
        else:
            changes.append('%s changed' % field)
    for field in sorted(unknown):
        undecided.append(field)
    return changes, undecided


def classify(stored, new, new_dag_preds, order):
    """The plan, one entry per component, in ``order`` then removed ones.

    ``stored``: {name: {'spec', 'status', 'agent'}} from ZooKeeper (the
    current copy of each component). ``new``: {name: {'spec', 'unknown':
    {field: [refs]}, 'agent', 'hidden'}} from the template.
    ``new_dag_preds``: {name: [direct upstreams in the new DAG]}.
    """
    from heat_softorch.fabric import registry
    plan = {}
    for name in order:
        n = new[name]
        s = stored.get(name)
        entry = {'component': name, 'agent': n['agent'], 'verdict': None,
                 'action': None, 'reasons': [], 'sources': []}
        plan[name] = entry
        if s is None:
            entry.update(verdict=CERTAIN, action='CREATE',
                         reasons=['new component'])
            continue
        if s['agent'] and n['agent'] != s['agent']:
            entry.update(verdict=CERTAIN, action='REPLACE', reasons=[
                'moved from agent %s to %s: replaced (CREATE on the new '
                'agent, DELETE on the old)' % (s['agent'], n['agent'])])
            continue
        spec, status = s['spec'] or {}, s['status'] or {}
        last = status.get('last_ok') or {}
        changes, undecided = definition_changes(
            spec, n['spec'], n['unknown'], n['hidden'])
        reasons = []
        if changes:
            reasons.append('definition changed: ' + '; '.join(changes))
        if not last:
            reasons.append('it has never completed')
        elif status.get('dirty') or status.get('state') == 'FAILED':
            reasons.append('its last attempt failed')
        elif not undecided and last.get('digest') and last['digest'] != \
                registry.definition_digest(n['spec']) and not changes:
            reasons.append('its stored definition has not completed yet')
        if reasons:
            entry.update(verdict=CERTAIN, reasons=reasons,
                         action='UPDATE' if last else 'CREATE')
            continue
        if undecided:
            refs = []
            for field in undecided:
                for ref in n['unknown'][field]:
                    label = field.split('.', 1)[1] if '.' in field else None
                    refs.append('input %s comes from %s' % (label, ref)
                                if label else '%s uses %s' % (field, ref))
            entry.update(verdict=UNCERTAIN, action='UPDATE', reasons=[
                'may re-run: ' + '; '.join(refs) + ' (Heat resolves it '
                'during the update)'])
        else:
            entry.update(verdict=UNCHANGED)
    # Downstream, in DAG order: a component that reads from one that
    # (may) re-run re-runs if that upstream's outputs change.
    for name in order:
        entry = plan[name]
        sources = [u for u in new_dag_preds.get(name, ())
                   if plan.get(u, {}).get('verdict') in (CERTAIN,
                                                         UNCERTAIN)]
        entry['sources'] = sorted(sources)
        if entry['verdict'] == UNCHANGED and sources:
            entry.update(verdict=UNCERTAIN, action='UPDATE', reasons=[
                're-runs if %s outputs change' % (
                    ' or '.join("%s's" % u for u in sorted(sources)))])
        elif entry['verdict'] == UNCERTAIN and sources and not any(
                r.startswith('re-runs if') for r in entry['reasons']):
            entry['reasons'].append('re-runs if %s outputs change' % (
                ' or '.join("%s's" % u for u in sorted(sources))))
    for name in sorted(set(stored) - set(new)):
        s = stored[name]
        has_delete = 'DELETE' in ((s['spec'] or {}).get('configs') or {})
        ran = bool((s['status'] or {}).get('last_ok'))
        plan[name] = {
            'component': name, 'agent': s['agent'], 'verdict': CERTAIN,
            'action': 'DELETE', 'sources': [],
            'reasons': ['removed from the template: ' + (
                'its DELETE config runs, then its zNodes go'
                if has_delete and ran else 'its zNodes go (no DELETE config '
                'to run)' if ran else 'never completed: nothing to run')]}
    return [plan[n] for n in list(order) + sorted(set(stored) - set(new))]


def text_lines(stack_label, template, entries, assumed=(), resized=()):
    certain = [e for e in entries if e['verdict'] == CERTAIN]
    uncertain = [e for e in entries if e['verdict'] == UNCERTAIN]
    unchanged = [e for e in entries if e['verdict'] == UNCHANGED]
    width = max([len(e['component']) for e in entries] + [9])
    lines = ['plan for stack %s with %s (nothing has been changed)'
             % (stack_label, template), '']

    def block(title, items):
        lines.append(title)
        for e in items:
            lines.append('  %-*s  %-7s  %s' % (
                width, e['component'], e['action'] or '',
                '; '.join(e['reasons'])))
        lines.append('')
    if certain:
        block('certain: these run', certain)
    if uncertain:
        block('uncertain: these run only if a value they read changes',
              uncertain)
    lines.append('unchanged (confirmed without running): %s' % (
        ', '.join(e['component'] for e in unchanged) or 'none'))
    lines.append('%d certain, %d uncertain, %d unchanged' % (
        len(certain), len(uncertain), len(unchanged)))
    for change in resized:
        if change['joining']:
            members = '%d new member%s of %s run%s CREATE; the %d there are ' \
                'not re-run' % (
                    change['joining'], 's' if change['joining'] > 1 else '',
                    change['group'], '' if change['joining'] > 1 else 's',
                    change['now'])
        else:
            members = '%d member%s of %s leave%s: %s first, then %s DELETE ' \
                'config%s' % (
                    change['leaving'], 's' if change['leaving'] > 1 else '',
                    change['group'], '' if change['leaving'] > 1 else 's',
                    ', '.join(change['consumers']) + ' re-run without them'
                    if change['consumers'] else 'nothing reads them',
                    'their' if change['leaving'] > 1 else 'its',
                    's' if change['leaving'] > 1 else '')
        lines.append('group %s: %d -> %d members: %s' % (
            change['group'], change['now'], change['then'], members))
    if assumed:
        lines.append('values read from the running stack, which change only '
                     'if Heat replaces their resource: %s'
                     % ', '.join(assumed))
    return lines


# -- the command --------------------------------------------------------------

def _parameters(args, stack):
    from heat_softorch.cmd import access
    from heat_softorch.cmd import validate
    try:
        given = validate.parameters(args.parameter)
    except ValueError as exc:
        raise access.OperatorError(str(exc))
    params = {}
    if args.existing:
        if stack.heat_stack is None:
            raise access.OperatorError(
                '--existing needs Heat for the stack\'s parameters: set the '
                'OS_* environment of the OpenStack client')
        for k, v in (stack.heat_stack.parameters or {}).items():
            if k.startswith('OS::'):
                continue
            params[k] = UNKNOWN_PARAM if v == '******' else v
    params.update(given)
    return params


def _main(args):
    from heat_softorch.cmd import access
    from heat_softorch.engine import offline
    from heat_softorch.engine import preprocessor
    from heat_softorch.engine import preview
    from heat_softorch.fabric import view as view_mod
    client, _, stack, data = access.stack_view(args, args.stack,
                                               full_specs=True)
    access.close(client)
    params = _parameters(args, stack)
    try:
        defn, analysis = offline.load(args.template, args.environment,
                                      params)
    except offline.TemplateError as exc:
        raise access.OperatorError(str(exc))
    if not analysis.ok:
        raise access.OperatorError('%s: the update would be refused: %s' % (
            args.template, preprocessor.problems_text(analysis)))
    try:
        built = preview.component_specs(defn, analysis, stack.name or '')
        live, moving = _live_values(stack, defn, built)
        if live:
            built = preview.component_specs(
                preview.with_live_data(defn, live), analysis,
                stack.name or '')
    except preview.PreviewError as exc:
        hint = ''
        if 'was not provided' in str(exc):
            hint = ' (give it with -P KEY=VALUE, or --existing for the ' \
                'stack\'s current parameters)'
        raise access.OperatorError('%s: %s%s' % (args.template, exc, hint))
    manifest = (data.get('manifest') or {}).get('components') or {}
    stored = {}
    for name, comp in view_mod.current_components(data).items():
        if comp['spec'] is None:
            continue
        stored[name] = {'spec': comp['spec'], 'status': comp['status'],
                        'agent': (manifest.get(name) or {}).get('agent') or
                        comp['agent']}
    new, assumed = {}, set()
    for name, (spec, refs) in built.items():
        unknown = {}
        for field, field_refs in refs.items():
            for ref in field_refs:
                if ref.resource in live:
                    assumed.add(str(ref))
                    continue
                unknown.setdefault(field, []).append(
                    '%s, and %s changes in this template' % (
                        ref, ref.resource) if ref.resource in moving
                    else str(ref))
        for field in list(spec.get('values') or {}):
            if UNKNOWN_PARAM in json.dumps(spec['values'][field]):
                unknown.setdefault('values.%s' % field, []).append(
                    'a hidden parameter (Heat does not show its value)')
        for field in ('configs', 'options'):
            if UNKNOWN_PARAM in json.dumps(spec.get(field)):
                unknown.setdefault(field, []).append(
                    'a hidden parameter (Heat does not show its value)')
        new[name] = {'spec': spec, 'unknown': unknown,
                     'agent': analysis.model.components[name].agent,
                     'hidden': {i['name'] for i in spec['inputs']
                                if i.get('hidden')}}
    preds = {n: sorted(analysis.dag.predecessors(n)) for n in new}
    entries = classify(stored, new, preds, analysis.topological_order())
    resized = group_changes(data.get('groups') or (),
                            _planned_sizes(defn, analysis), analysis)
    apply_group_changes(entries, resized)
    if args.format == 'json':
        json.dump({'stack': {'id': stack.id, 'name': stack.name},
                   'template': args.template, 'components': entries,
                   'groups': resized,
                   'assumed_unchanged': sorted(assumed)},
                  sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write('\n')
    else:
        lines = text_lines(stack.label, args.template, entries,
                           sorted(assumed), resized)
        print('\n'.join(lines))
    return 0


def _planned_sizes(defn, analysis):
    """{group: its size once updated, as Heat resolves it} for the groups
    whose size the template says exactly: a ResourceGroup's count, an
    AutoScalingGroup's desired_capacity (without one, an update keeps the
    size the group has)."""
    from heat_softorch import graph
    from heat_softorch.engine import family
    sizes = {}
    for name, info in analysis.model.groups.items():
        if info.kind == graph.model.AUTOSCALING_GROUP and \
                'desired_capacity' not in (defn.resource_definition(
                    name)._properties or {}):
            continue
        size = family.group_size(defn, analysis, name, None)
        if size is not None:
            sizes[name] = size
    return sizes


# -- groups (pure) ------------------------------------------------------------

def group_changes(live_groups, sizes, analysis):
    """The groups whose size the update changes: ``[{'group',
    'component', 'now', 'then', 'joining', 'leaving', 'consumers'}]``,
    from the members the stack's roster lists now (leaving ones left out)
    and the sizes the new template gives."""
    found = []
    for g in live_groups:
        then = sizes.get(g['group'])
        now = [m for m in g['members'] if m.get('state') != 'LEAVING']
        if then is None or then == len(now):
            continue
        consumers = sorted(c for c, _ in analysis.consumers.get(
            g['group'], {}).get(g['component'], ()))
        found.append({'group': g['group'], 'component': g['component'],
                      'now': len(now), 'then': then,
                      'joining': max(0, then - len(now)),
                      'leaving': max(0, len(now) - then),
                      'consumers': consumers})
    return found


def apply_group_changes(entries, resized):
    """Consumers of a group that changes size re-run once, with the new
    list (before the leaving members' DELETE configs run)."""
    by_name = {e['component']: e for e in entries}
    for change in resized:
        what = ('group %s: %d -> %d members; it re-runs once with the new '
                'list' % (change['group'], change['now'], change['then']))
        if change['leaving']:
            what += ', before the leaving members\' DELETE configs run'
        for consumer in change['consumers']:
            entry = by_name.get(consumer)
            if entry is None:
                continue
            reasons = [r for r in entry['reasons']
                       if not r.startswith('re-runs if')]
            entry.update(verdict=CERTAIN, reasons=reasons + [what],
                         action=entry['action'] if entry['verdict'] ==
                         CERTAIN and entry['action'] else 'UPDATE')


def _live_values(stack, defn, built):
    """({resource: (reference id, attributes)}, {resources whose snippet
    changes}) for the non-component resources the components read, from
    the running stack through Heat. A resource whose snippet differs from
    the stack's current template is left out: its values may change."""
    from heat_softorch.cmd import access
    from heat_softorch.engine import preview
    wanted = {}
    for _, refs in built.values():
        for field_refs in refs.values():
            for ref in field_refs:
                wanted.setdefault(ref.resource, set()).add(ref)
    if not wanted or stack.heat is None:
        return {}, set()
    try:
        old = stack.heat.stacks.template(stack.id) or {}
    except Exception as exc:  # noqa: connection errors of many kinds
        raise access.OperatorError('Heat did not give the template of stack '
                                   '%s: %s' % (stack.label, exc))
    old_resources = old.get('resources') or old.get('Resources') or {}
    live, moving = {}, set()
    for name, refs in sorted(wanted.items()):
        if preview.raw_resource(defn, name) != old_resources.get(name):
            moving.add(name)
            continue
        attrs = sorted({r[1] for r in refs if r[1] is not None})
        try:
            res = stack.heat.resources.get(stack.id, name,
                                           with_attr=attrs or None)
        except Exception:  # noqa: not in the stack (yet): unknown
            continue
        values = {}
        got = getattr(res, 'attributes', None) or {}
        for ref in refs:
            if ref[1] is None:
                continue
            value = got.get(ref[1])
            values[ref[1]] = value
            if ref[2]:
                for step in ref[2]:
                    try:
                        value = value[step]
                    except (KeyError, IndexError, TypeError):
                        value = None
                        break
                values[(ref[1],) + ref[2]] = value
        live[name] = (res.physical_resource_id or name, values)
    return live, moving


def main(args):
    from heat_softorch.cmd import access
    return access.run(_main, args)
