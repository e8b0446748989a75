"""heat-softorch's benchmark suite: ``make bench`` (or, with the venvs in
place, ``.venv/bin/python benchmarks/run.py``).

Two halves, one after the other, each on services of its own that are
stopped at the end (on failure too):

1. softorch alone, on a private ZooKeeper, MariaDB and Heat all-in-one
   (noauth, convergence): ZooKeeper's round trip, the agent handoff,
   completion lag, the 30-deep chain against Heat-level wiring, stacks of
   10 and 100 components beside OS::Heat::None stacks of the same shape;
2. softorch against Heat's own software deployments on one Keystone-backed
   cloud (`make up`'s, tools/localheat.sh): benchmarks/peer_bench.py.

It writes ``benchmarks/results.json`` and ``doc/benchmarks.md`` with its
plots ``doc/bench-*.png``. Not a test: nothing here asserts a time.

``make bench-scale`` (``run.py --scale``) runs the same with the
1,000-component stacks as well and the native 30-deep chain at 30 s in
full (about an hour on 2 cores), and writes
``benchmarks/results-scale.json``; ``make bench`` copies the figures only
that run has into its results (saying so) and the report.

Environment:
  BENCH_QUICK=1      a smoke run of every measure at small N (about 6
                     minutes); writes under .run/bench/quick/ instead.
  BENCH_RUN_DIR      run directory (.run/bench)
  BENCH_TIMEOUT      seconds the whole run may take before it is stopped
                     (default 1500; 5400 with --scale)
  BENCH_SCALE_BUDGET seconds a softorch scale stack may take (1800); one
                     still in progress is reported with what it had done
  SOFTORCH_AGENT_VENV  the agent-only venv (.venv-agent)
  NATIVE_AGENT_VENV  os-collect-config and heat-agents' hooks
                     (.venv-native-agent)

``benchmarks/run.py --report-only [results.json]`` rewrites the document
and plots from stored results.
"""

import datetime
import importlib.metadata
import json
import os
import platform
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from benchmarks import services as svc  # noqa: E402

QUICK = os.environ.get('BENCH_QUICK', '') not in ('', '0')
# Seconds a softorch scale stack may take; one still in progress then is
# reported with what it had done. Long enough for the 1,000-component stack
# to complete on a 2-core machine (about 20 minutes there: Heat's cost of
# the edges softorch declares, see doc/benchmarks.md), so that every figure
# is measured; the suite then takes about half an hour there.
SCALE_BUDGET_S = int(os.environ.get('BENCH_SCALE_BUDGET', '1800'))

FULL = {
    'zk_roundtrips': 1000,
    'fabric_chains': 10, 'fabric_chain_length': 40,
    'lag_runs': 10,
    'chain_depth': 30, 'chain_softorch_runs': 5, 'chain_heatwired_runs': 2,
    'group_runs': 3,
    'scale_sizes': [10, 100],
    # The cloud half (peer_bench): the 30-deep chain softorch's way 3
    # times and Heat's way at 1 s in full; at 30 s (warm agents) an
    # 8-deep chain (7 edges, about 5 minutes) extrapolated to 30: the
    # 30-deep one takes 16 minutes, `make bench-scale` runs it.
    'cloud_chain_depth': 30, 'cloud_softorch_runs': 3,
    'native30_depth': 8, 'native_warmup_s': 45,
}
SCALE = dict(FULL, scale_sizes=[10, 100, 1000], native30_depth=30)
SMOKE = {
    'zk_roundtrips': 100,
    'fabric_chains': 2, 'fabric_chain_length': 10,
    'lag_runs': 2,
    'chain_depth': 30, 'chain_softorch_runs': 1, 'chain_heatwired_runs': 1,
    'group_runs': 1,
    'scale_sizes': [10, 50],
    'cloud_chain_depth': 5, 'cloud_softorch_runs': 1,
    'native30_depth': 3, 'native_warmup_s': 45,
}
# Figures only `make bench-scale` measures, which `make bench` takes from
# its last results.
SCALE_ONLY = ('scale1000_',)
SCALE_RESULTS = os.path.join(REPO, 'benchmarks', 'results-scale.json')


class Phases(object):
    """Wall time of each phase, printed as it ends."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.times = {}

    def run(self, name, func, *args):
        svc.log('== %s', name)
        t = time.monotonic()
        try:
            return func(*args)
        finally:
            self.times[name] = round(time.monotonic() - t, 1)
            svc.log('== %s: %.1f s (total %.1f s)', name, self.times[name],
                    time.monotonic() - self.t0)


def _version(dist, python=None):
    if python is None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None
    r = subprocess.run([python, '-c', 'import importlib.metadata as m; '
                        'print(m.version(%r))' % dist],
                       capture_output=True, text=True)
    return r.stdout.strip() or None


def machine():
    info = {'cores': os.cpu_count(), 'kernel': platform.release(),
            'python': platform.python_version()}
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    info['cpu_model'] = line.split(':', 1)[1].strip()
                    break
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemTotal:'):
                    info['ram_gb'] = round(int(line.split()[1]) / 1048576.0,
                                           1)
    except OSError:
        pass
    info['loadavg_start'] = os.getloadavg()
    return info


def zk_version(services):
    try:
        for line in services.four('srvr').splitlines():
            if line.startswith('Zookeeper version:'):
                return line.split(':', 1)[1].strip().split(',')[0]
    except OSError:
        return None


def git_commit():
    r = subprocess.run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'],
                       capture_output=True, text=True)
    dirty = subprocess.run(['git', '-C', REPO, 'status', '--porcelain',
                            '--untracked-files=no'],
                           capture_output=True, text=True).stdout.strip()
    return (r.stdout.strip() or None, bool(dirty))


def measure(services, cfg, run_dir, phases):
    from benchmarks import fabric_bench
    from benchmarks import heat_bench
    from benchmarks import shapes
    from benchmarks import stats
    from benchmarks import templates as tmpl

    fig, samples, details = {}, {}, {}

    # 1. ZooKeeper's round trip.
    trips, writes = phases.run('zk round trip', fabric_bench.zk_roundtrip,
                               services, cfg['zk_roundtrips'])
    fig['zk_roundtrip_ms'] = stats.figure(
        trips, 'ms', 'kazoo client A set() -> client B DataWatch called '
        'with the new data (B re-read it); after 50 warm-up writes')
    fig['zk_write_ms'] = stats.figure(writes, 'ms', 'client A set() round '
                                      'trip alone')
    samples['zk_roundtrip_ms'] = trips

    # 2a. Handoff without Heat.
    script, agent, runs, agent_rss = phases.run(
        'fabric chain handoff', fabric_bench.fabric_handoff, services,
        os.path.join(run_dir, 'fabric'), cfg['fabric_chains'],
        cfg['fabric_chain_length'])
    fig['edge_handoff_ms'] = stats.figure(
        script, 'ms', 'upstream script\'s last line -> downstream script\'s '
        'first line ($EPOCHREALTIME), the two on different agents; %d '
        'chains of %d, specs registered by a Registry, two real agent '
        'processes, no Heat' % (cfg['fabric_chains'],
                                cfg['fabric_chain_length']))
    fig['edge_handoff_agent_ms'] = stats.figure(
        agent, 'ms', 'the same edges from the agents\' status records: '
        'upstream finished -> downstream started')
    samples['edge_handoff_ms'] = script
    samples['edge_handoff_agent_ms'] = agent
    details['fabric_chains'] = runs

    hb = heat_bench.HeatBench(services, os.path.join(run_dir, 'heat-runs'))
    try:
        # Warm-up: the engine's first stack pays for imports and caches.
        phases.run('heat warm-up', heat_bench.complete_lag, hb, 1)

        # 3. Completion lag.
        lags, creates, lag_details = phases.run(
            'completion lag', heat_bench.complete_lag, hb, cfg['lag_runs'])
        fig['complete_lag_ms'] = stats.figure(
            lags, 'ms', 'last component\'s script exit ($EPOCHREALTIME) -> '
            'the engine\'s "Stack CREATE COMPLETE" log line (ms '
            'timestamps; logged by Stack.state_set just before the state '
            'is persisted), 3-component chains on two agents')
        fig['chain3_create_s'] = stats.figure(creates, 's', 'stack create '
                                              'POST -> COMPLETE log line')
        samples['complete_lag_ms'] = lags
        details['complete_lag'] = lag_details

        # 4. The 30-deep chain, two ways.
        n = cfg['chain_depth']
        so = phases.run('chain%d softorch' % n, heat_bench.chain30, hb, n,
                        cfg['chain_softorch_runs'], False)
        hw = phases.run('chain%d heat-wired' % n, heat_bench.chain30, hb, n,
                        cfg['chain_heatwired_runs'], True)
        for key, runs_ in (('softorch', so), ('heatwired', hw)):
            fig['chain30_%s_s' % key] = stats.figure(
                [r['phase_s'] for r in runs_], 's', 'component phase: first '
                'script start -> last script exit')
            fig['chain30_%s_create_s' % key] = stats.figure(
                [r['create_s'] for r in runs_], 's', 'whole stack create: '
                'POST -> COMPLETE log line')
            fig['chain30_%s_edge_ms' % key] = stats.figure(
                sum((r['handoffs_ms'] for r in runs_), []), 'ms',
                'per-edge script exit -> next script start inside the Heat '
                'chain')
            fig['chain30_%s_complete_lag_ms' % key] = stats.figure(
                [r['complete_lag_ms'] for r in runs_], 'ms',
                'last script exit -> COMPLETE log line')
            samples['chain30_%s_edge_ms' % key] = sum(
                (r['handoffs_ms'] for r in runs_), [])
            details['chain30_%s' % key] = [
                {k: (round(v, 3) if isinstance(v, float) else v)
                 for k, v in r.items() if not isinstance(v, list)}
                for r in runs_]
        edges_in_heat = sum((r['handoffs_not_gated_ms'] for r in so), [])
        fig['heat_chain_edge_handoff_ms'] = stats.figure(
            edges_in_heat, 'ms', 'softorch edges inside the Heat %d-chain '
            'whose downstream spec was registered before the upstream '
            'exited (the others waited for Heat to reach the downstream '
            'resource: %d of %d)' % (n, sum(r['registration_gated_edges']
                                            for r in so),
                                     (n - 1) * len(so)))
        fig['heat_chain_edge_handoff_agent_ms'] = stats.figure(
            sum((r['agent_handoffs_ms'] for r in so), []), 'ms',
            'the same chain, agents\' status records')
        samples['heat_chain_edge_handoff_ms'] = edges_in_heat
        # 5. Groups: a scale-out of one member against that member alone.
        rows = phases.run('groups', heat_bench.group_scaling, hb,
                          cfg['group_runs'])
        for key, what in (
                ('create', 'create of db, lb and a group of 2 members: '
                 'POST -> COMPLETE log line'),
                ('scale_out', 'stack update count 2 -> 3: PATCH -> UPDATE '
                 'COMPLETE log line'),
                ('scale_out_lb', 'the same update: PATCH -> the end of lb\'s '
                 'run with the three members (its script\'s own stamp)'),
                ('scale_in', 'stack update count 3 -> 2: PATCH -> UPDATE '
                 'COMPLETE log line (lb re-runs first, then the leaving '
                 'member\'s DELETE config)'),
                ('scale_in_lb', 'the same update: PATCH -> the end of lb\'s '
                 'run without the leaving member'),
                ('member_alone', 'create of the member template as a stack '
                 'of its own (agent, server, component): POST -> COMPLETE '
                 'log line'),
                ('none_scale_out', 'the scale-out 2 -> 3 of the same shape '
                 'made of OS::Heat::None (Heat\'s own cost): PATCH -> UPDATE '
                 'COMPLETE log line')):
            fig['group_%s_s' % key] = stats.figure(
                [r[key + '_s'] for r in rows if r[key + '_s'] is not None],
                's', what)
        details['groups'] = [{k: round(v, 3) if isinstance(v, float) else v
                              for k, v in r.items()} for r in rows]

        # 6. Scale.
        for size in cfg['scale_sizes']:
            so_t, none_t = tmpl.layered(size), tmpl.layered_none(size)
            shape = shapes.shape(so_t)
            try:
                res = phases.run('scale %d' % size, heat_bench.scale, hb,
                                 size, so_t, none_t, SCALE_BUDGET_S)
            except svc.BenchError as exc:
                # Reported in the results, not lost with the others.
                svc.log('scale %d failed: %s', size, exc)
                res = {'error': str(exc)}
            res.update(shape)
            details['scale%d' % size] = res
    finally:
        hb.close()
    return fig, samples, details


def flat(fig, details, cfg):
    """The issue's keys at the top level (medians), p95 beside each."""
    out = {}
    for key in ('zk_roundtrip_ms', 'edge_handoff_ms', 'complete_lag_ms'):
        out[key + '_p50'] = fig[key]['median']
        out[key + '_p95'] = fig[key]['p95']
    for key in ('chain30_softorch_s', 'chain30_heatwired_s',
                'chain30_softorch_create_s', 'chain30_heatwired_create_s'):
        out[key] = fig[key]['median']
        out[key + '_p95'] = fig[key]['p95']
    out['chain30_ratio'] = round(fig['chain30_heatwired_s']['median'] /
                                 fig['chain30_softorch_s']['median'], 1)
    out['edge_handoff_over_zk_roundtrip'] = round(
        fig['edge_handoff_ms']['median'] / fig['zk_roundtrip_ms']['median'],
        2)
    for key in ('scale_out', 'scale_out_lb', 'scale_in', 'member_alone',
                'none_scale_out'):
        out['group_%s_s' % key] = (fig.get('group_%s_s' % key) or {}).get(
            'median')
    if out['group_scale_out_s'] and out['group_member_alone_s']:
        out['group_scale_out_over_member_alone'] = round(
            out['group_scale_out_s'] / out['group_member_alone_s'], 2)
    for size in (10, 100, 1000):
        d = details.get('scale%d' % size)
        p = 'scale%d_' % size
        keys = ('added_s', 'heat_baseline_s', 'softorch_create_s', 'width',
                'depth', 'engine_peak_rss_mb', 'agent_peak_rss_mb',
                'znodes_peak')
        for k in keys:
            v = None if d is None else d.get(k)
            out[p + k] = round(v, 2) if isinstance(v, float) else v
    return out


def targets(flat_):
    t = {}
    zk, ho = flat_['zk_roundtrip_ms_p50'], flat_['edge_handoff_ms_p50']
    t['handoff within 3x ZooKeeper round trip'] = ho <= 3 * zk
    t['handoff under 10 ms median'] = ho < 10
    t['completion lag under 200 ms'] = flat_['complete_lag_ms_p50'] < 200
    t['chain30 component phase >= 20x shorter than Heat-wired'] = (
        flat_['chain30_ratio'] >= 20)
    added = [(flat_['scale%d_depth' % s], flat_['scale%d_added_s' % s], s)
             for s in (10, 100, 1000)
             if flat_.get('scale%d_added_s' % s) is not None]
    if len(added) >= 2:
        # Same depth for every size: if the added seconds grow with the
        # number of components rather than the depth, they grow here.
        (_, a_small, s_small), (_, a_big, s_big) = added[0], added[-1]
        per_comp_growth = (a_big - a_small) / float(s_big - s_small)
        t['added cost grows with depth, not size'] = {
            'met': abs(a_big) <= max(3 * abs(a_small), abs(a_small) + 5),
            'added_s_by_size': {s: a for _, a, s in added},
            'slope_s_per_component': round(per_comp_growth, 4)}
    return t


def merge_scale(results, scale_path=SCALE_RESULTS):
    """Put into ``results`` what only `make bench-scale` measures, from
    its last results, and say where it comes from: the scale1000_* keys
    and that stack's details, and the native 30-deep chain at 30 s as
    measured in full (this run extrapolates it)."""
    results.pop('scale_source', None)
    if not os.path.exists(scale_path):
        return results
    with open(scale_path) as f:
        sc = json.load(f)
    for k, v in sc.items():
        if k.startswith(SCALE_ONLY):
            results[k] = v
    if 'scale1000' in sc.get('details', {}):
        results['details']['scale1000'] = sc['details']['scale1000']
    fig = sc.get('figures', {}).get('chain30_native_s')
    if fig and not fig.get('computed'):
        results['chain30_native_measured_s'] = fig['median']
        results['figures']['chain30_native_measured'] = fig
    ctx = sc['context']
    results['scale_source'] = {
        'file': os.path.relpath(scale_path, REPO), 'date': ctx['date'],
        'commit': ctx.get('git', {}).get('commit'),
        'wall_s': ctx.get('wall_s'),
        'keys': sorted(k for k in sc if k.startswith(SCALE_ONLY))}
    results['targets'] = targets(results)
    return results


def main(argv):
    if '--report-only' in argv:
        from benchmarks import report
        path = (argv[argv.index('--report-only') + 1]
                if len(argv) > argv.index('--report-only') + 1
                else os.path.join(REPO, 'benchmarks', 'results.json'))
        with open(path) as f:
            results = json.load(f)
        report.write(results, os.path.join(REPO, 'doc'))
        return 0

    scale = '--scale' in argv
    cfg = SMOKE if QUICK else SCALE if scale else FULL
    run_dir = os.path.abspath(os.environ.get('BENCH_RUN_DIR') or
                              os.path.join(REPO, '.run', 'bench'))
    main_json = os.path.join(REPO, 'benchmarks', 'results.json')
    out_json = (os.path.join(run_dir, 'quick', 'results.json') if QUICK
                else SCALE_RESULTS if scale else main_json)
    out_doc = (os.path.join(run_dir, 'quick') if QUICK
               else os.path.join(REPO, 'doc'))
    agent_venv = os.environ.get('SOFTORCH_AGENT_VENV') or os.path.join(
        REPO, '.venv-agent')
    native_venv = os.environ.get('NATIVE_AGENT_VENV') or os.path.join(
        REPO, '.venv-native-agent')
    budget = int(os.environ.get('BENCH_TIMEOUT', '5400' if scale
                                else '1500'))

    def on_signal(signum, frame):
        raise SystemExit('benchmark stopped by signal %d' % signum)

    def on_alarm(signum, frame):
        raise svc.BenchError('the whole run exceeded BENCH_TIMEOUT=%d s'
                             % budget)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(budget)

    started = time.time()
    t0 = time.monotonic()
    svc.log('heat-softorch benchmarks (%s run) in %s', 'quick' if QUICK
            else 'scale' if scale else 'full', run_dir)
    context = {'date': datetime.datetime.now(datetime.timezone.utc)
               .isoformat(timespec='seconds'), 'machine': machine(),
               'quick': QUICK, 'scale': scale, 'config': cfg}
    phases = Phases()
    services = svc.Services(run_dir, agent_venv)
    from benchmarks import peer_bench
    cloud = peer_bench.Cloud(os.path.join(run_dir, 'cloud'), {
        'engine': sys.prefix, 'agent': agent_venv, 'native': native_venv})
    try:
        try:
            t = time.monotonic()
            services.start()
            phases.times['setup'] = round(time.monotonic() - t, 1)
            context['versions'] = {
                'openstack-heat': _version('openstack-heat'),
                'kazoo': _version('kazoo'),
                'kazoo_agent_venv': _version('kazoo', os.path.join(
                    agent_venv, 'bin', 'python')),
                'heat-softorch': _version('heat-softorch'),
                'zookeeper': zk_version(services),
                'python': platform.python_version(),
            }
            commit, dirty = git_commit()
            context['git'] = {'commit': commit, 'dirty': dirty}
            heat_conf = services.heat.settings
            context['heat'] = {
                'how': 'all-in-one process (tools/heat_allinone.py via '
                       'benchmarks/heat_allinone.py): API, engine and '
                       'convergence worker, transport fake://, MariaDB',
                'convergence_engine': True,
                'executor_thread_pool_size': heat_conf['DEFAULT'][
                    'executor_thread_pool_size'],
                'check_slice': heat_conf['softorch']['check_slice'],
                'max_resources_per_stack': heat_conf['DEFAULT'][
                    'max_resources_per_stack'],
            }
            fig, samples, details = measure(services, cfg, run_dir, phases)
        finally:
            t = time.monotonic()
            clean = services.stop()
            svc.log('services stopped (%.1f s)%s', time.monotonic() - t,
                    '' if clean else ': see the messages above')
        # 2. The peer, on the Keystone cloud.
        try:
            phases.run('cloud up', cloud.start)
            context['cloud'] = {
                'how': '`make up`\'s cloud (tools/localheat.sh): Keystone '
                       'under gunicorn, Heat\'s API under gunicorn with '
                       'keystonemiddleware, heat-engine with 2 workers '
                       '(convergence) over RabbitMQ, trusts and a stack '
                       'user domain, MariaDB, ZooKeeper over TLS',
                'versions': cloud.versions()}
            pfig, psamples, pdetails = peer_bench.measure(
                cloud, dict(cfg, chain_depth=cfg['cloud_chain_depth']),
                os.path.join(run_dir, 'cloud-runs'), phases)
        finally:
            t = time.monotonic()
            try:
                cloud.stop()
            except svc.BenchError as exc:
                svc.log('stopping the cloud: %s', exc)
            svc.log('cloud stopped (%.1f s)', time.monotonic() - t)
    finally:
        signal.alarm(0)
    fig.update(pfig)
    samples.update(psamples)
    details.update(pdetails)
    results = dict(flat(fig, details, cfg))
    results.update(peer_bench.flat(pfig, pdetails))
    results['targets'] = targets(results)
    results['context'] = context
    results['context']['machine']['loadavg_end'] = os.getloadavg()
    results['context']['wall_s'] = round(time.monotonic() - t0, 1)
    results['context']['phases_s'] = phases.times
    results['context']['started'] = started
    results['figures'] = fig
    results['details'] = details
    results['samples'] = {k: [round(x, 3) for x in v]
                          for k, v in samples.items()}
    if not QUICK and not scale:
        merge_scale(results)
    _write(results, out_json)
    if scale and os.path.exists(main_json):
        # The report stays make bench's, with this run's scale figures.
        with open(main_json) as f:
            results = merge_scale(json.load(f))
        _write(results, main_json)
    from benchmarks import report
    report.write(results, out_doc)
    svc.log('wrote %s and %s/benchmarks.md in %.0f s', out_json, out_doc,
            time.monotonic() - t0)
    return 0


def _write(results, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(results, f, indent=1, sort_keys=False)
        f.write('\n')


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except svc.BenchError as exc:
        print('benchmark failed: %s' % exc, file=sys.stderr)
        sys.exit(1)
