"""Heat's own cost of a dependency scheme: ``make bench-shapes``.

The scale benchmark's softorch stack costs Heat more than the
OS::Heat::None stack of the same shape. This separates Heat's part from
softorch's: the layered shape is created as OS::Heat::None stacks only (no
softorch resource, no agent, no ZooKeeper work), once per Heat dependency
scheme of its components (templates.layered_none):

- wired:    its agent's server and its upstream components (the scale
            benchmark's baseline, and a Heat-wired deployment's graph);
- own:      its own agent and server only (fewer edges than wired, but
            every component is a leaf of Heat's graph);
- softorch: the dependencies softorch gives it in a create (its own
            agent, its own and every upstream's server, and what they
            read);
- softorch-all: what softorch gives it in other operations, and gave it
            in a create too before 2026-11-27: the upstreams' agents as
            well;
- softorch-reads: softorch-all without the upstreams' servers (what
            softorch would need if a waiting action did not hold an engine
            thread).

Each scheme's stack is created BENCH_SHAPES_RUNS times (2) at each size in
BENCH_SHAPES_SIZES (100), for the schemes in BENCH_SHAPES_SCHEMES (all);
the figures go to benchmarks/heat_shapes.json (replacing the rows
measured, keeping the others, each row with its date and commit), which
doc/benchmarks.md shows when it is rendered. Not a test: nothing here
asserts a time.
"""

import datetime
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks import heat_bench  # noqa: E402
from benchmarks import run  # noqa: E402
from benchmarks import services as svc  # noqa: E402
from benchmarks import shapes  # noqa: E402
from benchmarks import stats  # noqa: E402
from benchmarks import templates as tmpl  # noqa: E402

SCHEMES = ('wired', 'own', 'softorch', 'softorch-all', 'softorch-reads')
OUT = os.path.join(REPO, 'benchmarks', 'heat_shapes.json')


def measure(hb, sizes, schemes, runs, stamp):
    found = []
    for n in sizes:
        softorch = tmpl.layered(n)
        heat_deps = {'softorch': shapes.heat_dependencies(softorch)}
        heat_deps['softorch-all'] = heat_deps['softorch-reads'] = \
            shapes.heat_dependencies(softorch, create=False)
        for scheme in schemes:
            template = tmpl.layered_none(n, scheme=scheme,
                                         heat_deps=heat_deps.get(scheme))
            edges, leaves = tmpl.heat_graph_size(template)
            times = []
            for i in range(runs):
                r = hb.create('%s%d-%d' % (scheme, n, i), template,
                              softorch=False, timeout=1800)
                times.append(r['create_s'])
                svc.log('%s %d: %.1f s', scheme, n, r['create_s'])
            found.append(dict(
                stamp, components=n, scheme=scheme, runs=runs,
                resources=len(template['resources']), edges=edges,
                leaves=leaves, create_s=round(stats.p50(times), 2),
                create_s_all=[round(t, 2) for t in times]))
    return found


def main():
    sizes = [int(x) for x in os.environ.get(
        'BENCH_SHAPES_SIZES', '100').split(',')]
    schemes = os.environ.get('BENCH_SHAPES_SCHEMES', ','.join(
        SCHEMES)).split(',')
    unknown = sorted(set(schemes) - set(SCHEMES))
    if unknown:
        sys.exit('heat_shapes: BENCH_SHAPES_SCHEMES names unknown scheme(s) '
                 '%s; the schemes are %s' % (', '.join(unknown),
                                             ', '.join(SCHEMES)))
    runs = int(os.environ.get('BENCH_SHAPES_RUNS', '2'))
    run_dir = os.path.join(REPO, '.run', 'bench-shapes')
    agent_venv = os.environ.get('SOFTORCH_AGENT_VENV') or os.path.join(
        REPO, '.venv-agent')
    t0 = time.monotonic()
    commit, dirty = run.git_commit()
    stamp = {'date': datetime.datetime.now(datetime.timezone.utc)
             .isoformat(timespec='seconds'), 'commit': commit,
             'dirty': dirty}
    services = svc.Services(run_dir, agent_venv)
    try:
        services.start()
        hb = heat_bench.HeatBench(services, os.path.join(run_dir, 'runs'))
        try:
            # One stack first, so that no scheme pays the engine's warm-up.
            hb.create('warmup', tmpl.layered_none(10), softorch=False,
                      timeout=300)
            found = measure(hb, sizes, schemes, runs, stamp)
        finally:
            hb.close()
    finally:
        services.stop()
    measured = {(r['components'], r['scheme']) for r in found}
    kept = []
    if os.path.exists(OUT):
        with open(OUT) as f:
            kept = [r for r in json.load(f)['stacks']
                    if (r['components'], r['scheme']) not in measured]
    out = {'machine': run.machine(), 'stacks': sorted(
        kept + found, key=lambda r: (r['components'],
                                     SCHEMES.index(r['scheme'])))}
    with open(OUT, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    for row in found:
        print('%(components)5d components  %(scheme)-14s  %(edges)6d edges '
              '%(leaves)5d leaves  %(create_s)7.1f s' % row)
    svc.log('wrote %s in %.0f s', OUT, time.monotonic() - t0)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except svc.BenchError as exc:
        sys.exit('heat_shapes: %s' % exc)
