"""What a stack update will re-run, for plans and previews.

The agents decide at run time from digests of spec and input values; this
is the prediction from the graphs alone, so downstream components are
reported as *may* re-run: an upstream that re-runs may publish the same
values, and then they will not.
"""

DEFINITION_CHANGED = 'definition changed'
NEW_COMPONENT = 'new component'
WIRING_CHANGED = 'inputs wired differently'
MOVED = 'moved to agent %s: replaced'
INPUT_MAY_CHANGE = 'input from %s may change'


def affected(old, new, changed):
    """{component of ``new``: why it will or may re-run}.

    ``changed`` names the components whose own definition changed. Beyond
    the reasons in the brief, a component whose incoming edges differ (a
    link added, removed or remapped: links are resources of their own, so
    its definition may be unchanged) is reported as re-wired. Everything
    downstream of a component that re-runs may re-run; its reason names
    the nearest such upstream, ties by name. Components left out of the
    result do not re-run.
    """
    old_components = old.model.components
    reasons = {}
    for name in sorted(new.model.components):
        comp = new.model.components[name]
        before = old_components.get(name)
        if before is None:
            reasons[name] = NEW_COMPONENT
        elif before.agent != comp.agent:
            reasons[name] = MOVED % comp.agent
        elif name in changed:
            reasons[name] = DEFINITION_CHANGED
        elif sorted(old.wires_into(name), key=_key) != sorted(
                new.wires_into(name), key=_key):
            reasons[name] = WIRING_CHANGED
    for name, source in _nearest_sources(new.dag, reasons).items():
        reasons.setdefault(name, INPUT_MAY_CHANGE % source)
    return reasons


def _key(triple):
    return tuple('' if part is None else part for part in triple)


def _nearest_sources(graph, sources):
    """{node downstream of a source: nearest source, ties by name}.

    A breadth-first search from all sources at once; a node reached by
    several sources at the same distance takes the first by name.
    """
    label = {s: s for s in sources}
    frontier = sorted(sources)
    while frontier:
        reached = {}
        for node in frontier:
            for succ in graph.successors(node):
                if succ not in label:
                    best = reached.get(succ)
                    if best is None or label[node] < best:
                        reached[succ] = label[node]
        label.update(reached)
        frontier = sorted(reached)
    return {n: s for n, s in label.items() if n not in sources}
