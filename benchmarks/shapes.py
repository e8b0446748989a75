"""The component DAG's width and depth, as `softorch validate` computes
them: Heat's own template parsing (heat_softorch.engine.offline) and
heat_softorch.graph's analysis."""

import json
import os
import tempfile

from benchmarks import templates as tmpl


def _analysis(template):
    from heat_softorch.engine import offline
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'stack.yaml')
        env = os.path.join(d, 'env.yaml')
        with open(path, 'w') as f:
            json.dump(template, f)
        with open(env, 'w') as f:
            json.dump(tmpl.LOCAL_ENV, f)
        _, result = offline.load(path, [env], {'stamps': d})
    if not result.ok:
        raise ValueError('benchmark template has problems: %s'
                         % result.problems)
    return result


def shape(template):
    result = _analysis(template)
    return {'components': len(result.model.components),
            'agents': len({c.agent for c in
                           result.model.components.values()}),
            'edges': result.dag.number_of_edges(),
            'width': result.width, 'depth': result.depth,
            'summary': result.summary()}


def heat_dependencies(template, create=True):
    """{component: the resources it depends on in Heat} under softorch:
    in a convergence create, or (``create=False``) in other operations."""
    result = _analysis(template)
    deps = result.create_dependencies if create else result.heat_dependencies
    return {c: sorted(deps(c)) for c in result.model.components}
