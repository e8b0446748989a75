"""Where a stack sits among the stacks of its root, read from Heat.

A member template's ``from: ../db`` names a component of its *parent*:
the stack that holds the group the member belongs to. Heat builds a
ResourceGroup or AutoScalingGroup as a nested stack of its own whose
resources are the members, each a nested stack of the member template;
so a member's parent is its grandparent when its owner is a group's
inner stack, and its owner when it is a plain nested stack (type:
<template>), a group of one whose member bears the resource's name.

Everything here reads Heat's database (stack rows, raw templates): a
convergence worker has none of the parent in memory. Relationships of a
stored stack never change and are cached per process; states and epochs
are read afresh each time.
"""

import collections
import threading

from heat.engine import stack as stack_mod
from heat.engine import template as tmpl_mod
from oslo_log import log as logging

from heat_softorch import graph
from heat_softorch.engine import preprocessor
from heat_softorch.engine import waiting

LOG = logging.getLogger(__name__)

Family = collections.namedtuple(
    'Family', 'parent_id parent_name group member kind')
Family.__doc__ = """A member stack's place: ``parent_id``/``parent_name``
the stack holding its group, ``group`` the group resource's name there,
``member`` this stack's member name (the group's resource name for it),
``kind`` the group's kind (graph.model)."""

_lock = threading.Lock()
_FAMILIES = {}      # (stack id, owner id, resource name) -> Family or None
_KINDS = {}         # (stack id, template id, resource name) -> kind
_PARENTS = collections.OrderedDict()   # (id, template id) -> Analysis
_PARENTS_MAX = 16


def of(stack):
    """The Family of ``stack``, or None for a root stack and for a stack
    whose place cannot be known yet (a nested stack Heat validates before
    its parent is stored)."""
    owner, name = stack.owner_id, stack.parent_resource_name
    if not owner or not name:
        return None
    key = (stack.id, owner, name)
    with _lock:
        if stack.id and key in _FAMILIES:
            return _FAMILIES[key]
    found = _find(stack.context, owner, name)
    if stack.id:
        with _lock:
            _FAMILIES[key] = found
    return found


def _find(context, owner_id, name):
    owner = _row(context, owner_id)
    if owner is None:
        return None
    if owner.owner_id and owner.parent_resource_name:
        kind = _kind_of(context, owner.owner_id, owner.parent_resource_name)
        if kind in (graph.model.RESOURCE_GROUP,
                    graph.model.AUTOSCALING_GROUP):
            grand = _row(context, owner.owner_id)
            if grand is not None:
                return Family(grand.id, grand.name,
                              owner.parent_resource_name, name, kind)
    return Family(owner.id, owner.name, name, name, graph.model.NESTED)


def _kind_of(context, stack_id, name):
    """graph.model's group kind of resource ``name`` of a stored stack."""
    row = _row(context, stack_id)
    if row is None:
        return None
    key = (stack_id, row.raw_template_id, name)
    with _lock:
        if key in _KINDS:
            return _KINDS[key]
    tmpl = tmpl_mod.Template.load(context, row.raw_template_id)
    resources = tmpl.t.get('resources') or tmpl.t.get('Resources') or {}
    rtype = (resources.get(name) or {}).get('type') or \
        (resources.get(name) or {}).get('Type')
    try:
        cls = tmpl.env.get_class_to_instantiate(rtype, name)
    except Exception:  # noqa: not a type Heat knows: not a group
        cls = None
    kind = preprocessor.group_kind(cls)
    with _lock:
        _KINDS[key] = kind
    return kind


Row = collections.namedtuple(
    'Row', 'id name owner_id parent_resource_name raw_template_id '
    'prev_raw_template_id convergence current_traversal action status '
    'created_at updated_at deleted_at')


def _row(context, stack_id):
    """A stack's row as it is now, or None. Read in a transaction of its
    own: a worker may hold one open since before the parent's operation
    began, and under REPEATABLE READ would see the parent as it was."""
    from heat.db import api as db_api
    from heat.db import models
    with db_api.context_manager.reader.independent.using(context) as s:
        row = s.get(models.Stack, stack_id, populate_existing=True)
        if row is None:
            return None
        return Row(*(getattr(row, f) for f in Row._fields))


def epoch_of_row(row):
    """waiting.epoch_of() of a stack row."""
    if row.convergence and row.current_traversal:
        return row.current_traversal
    return waiting.legacy_epoch(row.action, row.updated_at or row.created_at)


State = collections.namedtuple('State', 'epoch in_progress action status')


def state(context, stack_id):
    """The State of a stored stack now, or None when it is gone."""
    row = _row(context, stack_id)
    if row is None or row.deleted_at:
        return None
    return State(epoch_of_row(row), row.status == 'IN_PROGRESS',
                 row.action, row.status)


def doomed(context, stack_id):
    """Whether a stack is going: gone already, or it or a stack above it
    is being deleted (a member stack is deleted when its group shrinks,
    every stack when the root is). Its components then take part in a
    DELETE that another stack's component drives."""
    seen = set()
    while stack_id and stack_id not in seen:
        seen.add(stack_id)
        row = _row(context, stack_id)
        if row is None or row.deleted_at:
            return True
        if row.action == 'DELETE' and row.status in ('IN_PROGRESS',
                                                     'COMPLETE'):
            return True
        stack_id = row.owner_id
    return False


def parent_analysis(stack, family):
    """The Analysis of the parent stack's current template, or None when
    it cannot be loaded."""
    context = stack.context
    row = _row(context, family.parent_id)
    if row is None:
        return None
    key = (family.parent_id, row.raw_template_id, row.prev_raw_template_id)
    with _lock:
        if key in _PARENTS:
            _PARENTS.move_to_end(key)
            return _PARENTS[key]
    try:
        parent = stack_mod.Stack.load(context, stack_id=family.parent_id,
                                      show_deleted=True)
        found = preprocessor.analysis(preprocessor.new_definition(
            parent, context))
    except Exception:  # noqa: checked again once it can be loaded
        LOG.warning('could not load the parent stack %s of %s',
                    family.parent_id, stack.name, exc_info=True)
        return None
    with _lock:
        _PARENTS[key] = found
        while len(_PARENTS) > _PARENTS_MAX:
            _PARENTS.popitem(last=False)
    return found


def group_size(stack_defn, analysis, group, context):
    """How many members ``group`` has at least once this operation is
    done, as Heat resolves it from the definition: a ResourceGroup's
    count, an AutoScalingGroup's desired_capacity (else min_size: an
    update then keeps the size it has, never less), 1 for a nested stack.
    None when it cannot be resolved."""
    info = analysis.model.groups.get(group)
    if info is None:
        return None
    if info.kind == graph.model.NESTED:
        return 1
    try:
        defn = stack_defn.resource_definition(group)
        cls = stack_defn.env.get_class_to_instantiate(defn.resource_type,
                                                      group)
        props = defn.properties(cls.properties_schema, context)
        if info.kind == graph.model.RESOURCE_GROUP:
            return int(props['count'])
        desired = props['desired_capacity']
        return int(props['min_size'] if desired is None else desired)
    except Exception:  # noqa: unresolvable: wait for whoever joins
        LOG.warning('cannot resolve the size of group %s', group,
                    exc_info=True)
        return None
