"""doc/benchmarks.md and its plots, from results.json."""

import json
import os

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def _fmt(v, digits=1):
    if v is None:
        return 'n/a'
    if isinstance(v, bool):
        return 'yes' if v else 'no'
    if isinstance(v, float):
        return ('%.' + str(digits) + 'f') % v
    return str(v)


def _ecdf(ax, values, label, **kw):
    xs = sorted(values)
    if not xs:
        return
    ys = [(i + 1) / float(len(xs)) for i in range(len(xs))]
    ax.step(xs, ys, where='post', label='%s (n=%d)' % (label, len(xs)),
            **kw)


def plot_handoff(results, path):
    s = results['samples']
    fig, ax = plt.subplots(figsize=(8, 4.5))
    _ecdf(ax, s.get('zk_roundtrip_ms', []), 'ZooKeeper write -> watch -> '
          'read', color='black')
    _ecdf(ax, s.get('edge_handoff_ms', []), 'handoff, script exit -> next '
          'script start (no Heat)', color='tab:blue')
    _ecdf(ax, s.get('edge_handoff_agent_ms', []), 'handoff, agents\' status '
          'finished -> started (no Heat)', color='tab:cyan', linestyle='--')
    _ecdf(ax, s.get('heat_chain_edge_handoff_ms', []), 'handoff inside the '
          'Heat 30-chain (script stamps)', color='tab:orange')
    _ecdf(ax, s.get('edge_softorch_cloud_ms', []), 'softorch chain on the '
          'Keystone cloud', color='tab:green')
    _ecdf(ax, s.get('edge_native_1s_ms', []), 'Heat\'s deployments, '
          'polling 1 s', color='tab:red')
    _ecdf(ax, s.get('edge_native_ms', []), 'Heat\'s deployments, warm, '
          'polling 30 s', color='darkred')
    zk = results.get('zk_roundtrip_ms_p50')
    if zk:
        ax.axvline(3 * zk, color='grey', linestyle=':',
                   label='3 x ZooKeeper round trip median')
    ax.axvline(10, color='red', linestyle=':', label='10 ms')
    ax.set_xscale('log')
    ax.set_xlabel('ms (log scale)')
    ax.set_ylabel('fraction of edges')
    ax.set_title('Per-edge handoff: ZooKeeper, softorch, Heat\'s own '
                 'deployments')
    ax.legend(fontsize=7, loc='lower right')
    ax.grid(True, which='both', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_chain(results, path):
    f = results['figures']
    labels = ['softorch\n(ZooKeeper wiring)', 'Heat-wired\n(OS::Heat::Value)']
    phase = [f['chain30_softorch_s']['median'],
             f['chain30_heatwired_s']['median']]
    p95 = [f['chain30_softorch_s']['p95'], f['chain30_heatwired_s']['p95']]
    create = [f['chain30_softorch_create_s']['median'],
              f['chain30_heatwired_create_s']['median']]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], phase, width=0.4,
           label='component phase (first script start -> last exit)',
           color=['tab:blue', 'tab:orange'], edgecolor='black')
    ax.bar([x + 0.2 for x in xs], create, width=0.4,
           label='whole stack create', color='lightgrey', edgecolor='black')
    for x, v, q in zip(xs, phase, p95):
        ax.annotate('%.2f s\np95 %.2f' % (v, q), (x - 0.2, v), ha='center',
                    va='bottom', fontsize=8)
    for x, v in zip(xs, create):
        ax.annotate('%.1f s' % v, (x + 0.2, v), ha='center', va='bottom',
                    fontsize=8)
    ax.set_yscale('log')
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels)
    ax.set_ylabel('seconds (log scale)')
    ax.set_title('30-deep chain on two agents (all-in-one Heat); Heat\'s own '
                 'deployments: bench-peer.png')
    ax.legend(fontsize=8, loc='upper left')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_peer(results, path):
    """softorch against Heat's own deployments on the same cloud."""
    f = results['figures']
    if 'chain30_native_s' not in f:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    colors = ['tab:green', 'tab:red', 'darkred']
    labels = ['softorch', 'Heat\'s,\npolling 1 s', 'Heat\'s, warm,\n'
              'polling 30 s']
    panels = (
        ('30-deep chain: component phase', [
            f['chain30_softorch_cloud_s'], f['chain30_native_1s_s'],
            f['chain30_native_s']]),
        ('three-tier example: software phase', [
            f['three_tier_softorch_s'], f['three_tier_native_1s_s'],
            f['three_tier_native_s']]))
    for ax, (title, figs) in zip(axes, panels):
        vals = [x['median'] for x in figs]
        bars = ax.bar(range(3), vals, color=colors, edgecolor='black')
        for b, x in zip(bars, figs):
            if x.get('computed'):
                b.set_hatch('//')
                b.set_facecolor('white')
        base = vals[0]
        for i, v in enumerate(vals):
            ax.annotate(('%.2f s' if v < 1 else '%.1f s') % v + (
                '' if i == 0 else '\n%.0fx softorch' % (v / base)),
                (i, v), ha='center', va='bottom', fontsize=8)
        ax.set_yscale('log')
        ax.set_ylim(min(vals) / 2, max(vals) * 5)
        ax.minorticks_off()
        ax.set_xticks(range(3))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_ylabel('seconds (log scale)')
        ax.set_title(title, fontsize=10)
    fig.suptitle('softorch against Heat\'s own software deployments, same '
                 'Keystone-backed Heat (hatched: extrapolated)', fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_scale(results, path):
    d = results['details']
    sizes = [s for s in (10, 50, 100, 1000)
             if 'error' not in d.get('scale%d' % s, {'error': None})]
    if not sizes:
        return False
    so = [d['scale%d' % s]['softorch_create_s'] for s in sizes]
    none = [d['scale%d' % s]['heat_baseline_s'] for s in sizes]
    added = [d['scale%d' % s]['added_s'] for s in sizes]
    phase = [d['scale%d' % s]['component_phase_s'] for s in sizes]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(sizes, so, 'o-', label='softorch stack create', color='tab:blue')
    ax.plot(sizes, none, 's-', label='OS::Heat::None stack, same shape',
            color='grey')
    ax.plot(sizes, added, 'D-', label='added by softorch (difference)',
            color='tab:red')
    ax.plot(sizes, phase, 'x--', label='softorch component phase',
            color='tab:green')
    for s, a in zip(sizes, added):
        ax.annotate('%+.1f s' % a, (s, a), textcoords='offset points',
                    xytext=(4, -12), fontsize=8, color='tab:red')
    ax.axhline(0, color='black', linewidth=0.5)
    ax.set_xscale('log')
    ax.set_xlabel('components (depth %s for every size)' % ', '.join(
        sorted({str(d['scale%d' % s]['depth']) for s in sizes})))
    ax.set_ylabel('seconds')
    ax.set_title('Scale: what softorch adds over Heat\'s own cost')
    ax.legend(fontsize=8)
    ax.grid(True, which='both', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_lag(results, path):
    s = results['samples'].get('complete_lag_ms', [])
    if not s:
        return False
    fig, ax = plt.subplots(figsize=(8, 2.8))
    ax.plot(sorted(s), [0] * len(s), '|', markersize=30, color='tab:purple')
    ax.axvline(200, color='red', linestyle=':', label='200 ms target')
    ax.set_yticks([])
    ax.set_xlabel('ms: last script exit -> stack COMPLETE (engine log)')
    ax.set_title('Completion lag, each 3-chain stack (n=%d)' % len(s))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


# From py-spy profiles of the all-in-one engine (30-chain, 1,000
# components) and per-component timelines (spec registered, script start
# and exit); what each finding changed is in the code named.
PROFILE_FINDINGS = (
    'Registration was quadratic and gated the chain. Each component\'s Heat '
    'action built its own spec and its upstreams\' (a Heat Properties '
    'resolution each); Heat starts the 29 downstream components of the '
    '30-chain together, so they built 435 specs between them on two cores, '
    'and a downstream spec was often registered only after its upstream '
    'had exited (edges of 0.5 to 3 s). Now each engine process builds each '
    'spec once per stack epoch (`engine/registrations.py`: the '
    'registrations of one epoch take turns), and a component also '
    'registers the downstream components Heat can already resolve '
    '(`Analysis.ahead_of`): the chain\'s specs are all in ZooKeeper before '
    'its second component can run. The chain\'s component phase was 3.6 s.',
    'The engine\'s database pool: oslo.db\'s default `max_pool_size = 5` '
    'against 64 executor threads made most DB sessions open a connection, '
    'and PyMySQL builds an SSL context for each '
    '(`SSLContext.load_default_certs`: 18% of the engine\'s samples in the '
    'chain). The benchmark\'s Heat sets `[database] max_pool_size = 64`; '
    'it is Heat\'s cost, in both stacks, and any heat-engine with a large '
    'thread pool wants the same setting.',
    'Heat\'s pacing: `converge_stack` sleeps 1 s after triggering each leaf '
    'of the graph; the templates have one leaf (see section 4).',
    'The benchmark itself: each GET of a stack loads all its resources in '
    'the engine, and polling every 0.25 s took a fifth of the engine\'s '
    'CPU at 1,200 resources; the poll interval now grows with the stack '
    '(times come from the engine log either way).',
    'At 1,000 components the engine is one Python process at 100% of a '
    'core in Heat\'s convergence machinery: loading the stack and the '
    'resource for every check (`load_resource`, about a third of the '
    'samples) and propagating completions through sync points '
    '(`propagate_check_resource` -> `update_sync_point`, retried on '
    'conflicting updates); softorch\'s own frames are about 5%.',
    'What softorch adds at scale is mostly Heat\'s cost of the dependency '
    'scheme softorch gives its components: created as `OS::Heat::None` '
    'stacks with no softorch resource at all (`make bench-shapes`, the '
    'table in section 6), softorch\'s scheme before 2026-11-27 '
    '("softorch-all") cost Heat 2.5x the Heat-wired one at 1,000 '
    'components (872 s against 353 s) and about what the softorch stack '
    'itself takes at 100. Two terms: (1) edges: a component depended in '
    'Heat on its own and every upstream\'s agent and server, 11 per '
    'component at depth 10, each a sync-point update (a SELECT and an '
    'UPDATE of a row that grows with every predecessor\'s data); (2) '
    'leaves: nothing depends on a component, so every one reports to the '
    'stack\'s completion sync point, one row all of them rewrite, retried '
    'on conflict with a jitter that grows with the number still missing '
    '(py-spy: 54 of 61 worker threads in `check_stack_complete` at the end '
    'of a 100-leaf stack). The "own" scheme, with fewer edges than '
    'Heat-wired, still pays (2). Now a convergence create leaves out the '
    'upstreams\' agents, which their servers depend on anyway '
    '(`Analysis.create_dependencies`; the engine reads their hosts from '
    'ZooKeeper): 6,700 edges instead of 11,200 at 1,000 components; at '
    '100, Heat alone took 26.2 s for it against 33.9 s for the old scheme '
    '(five runs each, same engine). Other operations keep every edge: '
    'there an agent may have had two identities.',
    'Registrations took turns: three py-spy dumps of the engine during '
    'the 1,000-component stack showed 40 to 51 of its 64 executor threads '
    'waiting for the stack\'s registration turn (`engine/'
    'registrations.py`), whose holder waited for ZooKeeper: a registration '
    'made three round trips per wire, one after another, through a kazoo '
    'connection whose thread waits for the GIL of a saturated process. A '
    'registration now makes a fixed number of round trips (specs, ACLs, '
    'readers\' entries each asked for together). Afterwards 4 to 9 '
    'threads waited for the turn, and 45 to 50 were in Heat\'s '
    '`update_sync_point` (servers\' completions propagating to the '
    'components that depend on them, retried on conflict, and the '
    'parsing of their data): the component phase stayed near one '
    'component a second, paced by Heat\'s sync points, not by the turn.',
    'Tried and reverted (branch `lend-waiting-threads`): the upstreams\' '
    'servers are in a component\'s Heat dependencies only because its '
    'action holds an engine thread while it waits; letting a waiting '
    'action lend its thread to the RPC executor (one more worker while it '
    'blocks) removes them safely (a functional test of 12 components '
    'waiting for a late VM on a pool of 8 hangs without the loan and '
    'passes with it). In a full run it made the 1,000-component stack '
    'start its first component 50 s sooner, but every waiting component '
    'then held its own thread: over 1,000 engine threads, engine peak RSS '
    '2.0 GB against 1.3 GB, a ZooKeeper read per thread per check slice '
    'through the one kazoo connection of a process whose kazoo thread '
    'waits for the GIL, and the component phase stayed at about one '
    'component a second, bound by registrations that take turns per '
    'stack while their holder waits for ZooKeeper round trips (its ACL '
    'grants, one wire at a time; now asked for together, see above). '
    'What would help next: checks that read the status their watch '
    'already delivered.',
    'Handoff: the agent no longer reads its own status between an '
    'upstream\'s publication and the run, and starts the script in its '
    'reconciler thread; a ZooKeeper change wakes only the engine threads '
    'waiting on that node (it woke all of them, up to 64). What remains on '
    'the path is ZooKeeper\'s write -> watch -> read, a fork/exec of the '
    'script and bash\'s own start.',
    'Inside Heat, handoffs are 2-3x slower than without it: the two agents '
    'share the two cores with the engine, which marks components complete '
    'while the chain runs ahead of it.',
)


def _row(name, fig, unit_digits=2):
    return '| %s | %s | %s | %d | %s |' % (
        name, _fmt(fig.get('median'), unit_digits),
        _fmt(fig.get('p95'), unit_digits), fig.get('n', 0), fig['unit'])


SHAPES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'heat_shapes.json')


def _shapes_section(w):
    """Heat's own cost of the dependency schemes, from `make
    bench-shapes` (a run of its own, with its own date)."""
    if not os.path.exists(SHAPES):
        return
    with open(SHAPES) as f:
        sh = json.load(f)
    w('### Heat\'s own cost of the dependency scheme')
    w('')
    w('From `make bench-shapes` (`benchmarks/heat_shapes.py`, '
      '[heat_shapes.json](../benchmarks/heat_shapes.json), with the date, '
      'commit and runs of each row; median of the runs): the layered shape '
      'as '
      '`OS::Heat::None` stacks only, no softorch resource, agent or '
      'ZooKeeper work, with these dependency schemes for the components: '
      '**wired** (its agent\'s server and its upstream components: the '
      'None stack above), **own** (its own agent and server only), '
      '**softorch** (what softorch gives it in a create: its own agent, '
      'its own and every upstream\'s server), **softorch-all** (what '
      'softorch gives it in other operations, and gave it in a create '
      'before 2026-11-27: the upstreams\' agents too) and '
      '**softorch-reads** (softorch-all without the upstreams\' servers: '
      'what softorch would need if a waiting action did not hold an '
      'engine thread). A leaf is a resource nothing depends on: Heat\'s '
      'stack-complete sync point waits for each.')
    w('')
    w('| components | scheme | resources | Heat edges | leaves | create | '
      'runs | date |')
    w('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for r in sh['stacks']:
        w('| %d | %s | %d | %d | %d | %.1f s | %d | %s |' % (
            r['components'], r['scheme'], r['resources'], r['edges'],
            r['leaves'], r['create_s'], r['runs'], r['date'][:10]))
    w('')


def _requests(run, service, key='requests'):
    r = run[key][service]
    parts = ', '.join('%s %d' % (k, n) for k, n in sorted(
        r.items(), key=lambda kv: -kv[1]) if k != 'total')
    return '%d (%s)' % (r['total'], parts) if parts else str(r['total'])


def _peer_section(w, results, plot):
    f = results['figures']
    d = results['details']
    tt = d['three_tier']
    ctx = results['context']
    w('## 7. Against Heat\'s own software deployments')
    w('')
    w('Both paths on one Heat: %s. The native path is Heat\'s '
      '`OS::Heat::SoftwareConfig` and `OS::Heat::SoftwareDeployment` on '
      'LocalServers with `user_data_format: SOFTWARE_CONFIG` (a stack '
      'user per server and per deployment, transport POLL_SERVER_HEAT, '
      'signals HEAT_SIGNAL), each an os-collect-config process with '
      'heat-agents\' hooks (`.venv-native-agent`), polling every 30 s '
      '(an image\'s default) or every 1 s (the server\'s '
      '`os-collect-config` metadata). softorch\'s stacks are its own '
      'components on LocalServers with agents. The all-in-one Heat of '
      'sections 1-5 has no Keystone, which the native path needs; '
      'softorch\'s own figures here are measured again on this cloud '
      '(`benchmarks/peer_bench.py`).' % ctx.get('cloud', {}).get(
          'how', 'make up\'s cloud'))
    w('')
    so_e, n1_e, n30_e = (f['edge_softorch_cloud_ms'], f['edge_native_1s_ms'],
                         f['edge_native_ms'])
    so_c, n1_c, n30_c = (f['chain30_softorch_cloud_s'],
                         f['chain30_native_1s_s'], f['chain30_native_s'])
    so_t, n1_t, n30_t = (f['three_tier_softorch_s'],
                         f['three_tier_native_1s_s'],
                         f['three_tier_native_s'])

    def x(a, b):
        return '%.0fx' % (a / b) if a and b else 'n/a'
    w('| measure | softorch | Heat\'s, polling 1 s | Heat\'s, warm, '
      'polling 30 s | 1 s / softorch | 30 s / softorch |')
    w('| --- | --- | --- | --- | --- | --- |')
    w('| per edge, script exit -> next script start, median '
      '(`edge_*_ms_p50`) | %.0f ms | %.2f s | %.1f s | %s | %s |' % (
          so_e['median'], n1_e['median'] / 1e3, n30_e['median'] / 1e3,
          x(n1_e['median'], so_e['median']),
          x(n30_e['median'], so_e['median'])))
    w('| 30-deep chain, component phase (`chain30_native_s`, '
      '`chain30_native_1s_s`) | %.2f s | %.1f s | %.0f s%s | %s | %s |' % (
          so_c['median'], n1_c['median'], n30_c['median'],
          ' (extrapolated)' if n30_c.get('computed') else '',
          x(n1_c['median'], so_c['median']),
          x(n30_c['median'], so_c['median'])))
    meas = results.get('chain30_native_measured_s')
    if meas and n30_c.get('computed'):
        w('| 30-deep chain at 30 s measured in full (`make bench-scale`) '
          '| | | %.0f s | | %s |' % (meas, x(meas, so_c['median'])))
    w('| three-tier example, software phase (`three_tier_*_s`) | %.1f s | '
      '%.1f s | %.1f s | %s | %s |' % (
          so_t['median'], n1_t['median'], n30_t['median'],
          x(n1_t['median'], so_t['median']),
          x(n30_t['median'], so_t['median'])))
    w('| three-tier example, whole create (POST -> COMPLETE) | %.1f s | '
      '%.1f s | %.1f s (%d s of it the warm-up hold) | | |' % (
          f['three_tier_softorch_create_s']['median'],
          f['three_tier_native_1s_create_s']['median'],
          f['three_tier_native_create_s']['median'],
          tt['native_30s'].get('warmup_s') or 0))
    so_run = tt['softorch'][0]
    for key, when in (('requests', 'software phase'),
                      ('requests_create', 'whole create')):
        for service, label in (('keystone', 'Keystone'),
                               ('heat', 'Heat API')):
            w('| three-tier: %s requests, %s%s | %s | %s | %s | | |' % (
                label, when, ' (`three_tier_*_%s_requests`)' % service
                if key == 'requests' else '',
                _requests(so_run, service, key),
                _requests(tt['native_1s'], service, key),
                _requests(tt['native_30s'], service, key)))
    idle = tt['native_1s'].get('idle')
    if idle:
        ks = idle['requests']['keystone']['total']
        ht = idle['requests']['heat']['total']
        per = 60.0 / idle['seconds'] / 4
        w('| at rest, per server and minute (measured at 1 s over %.0f s, '
          '4 servers; 30 s: the same per poll) | 0 | %.0f Keystone + %.0f '
          'Heat | %.1f Keystone + %.1f Heat | | |' % (
              idle['seconds'], ks * per, ht * per, ks * per / 30,
              ht * per / 30))
    w('')
    w('- Runs: softorch\'s chain %d times, its three-tier %d times '
      '(medians; the request counts are the first run\'s); each native '
      'stack once. The native 1 s chain and the native 30 s chain ran '
      'side by side (each on servers of its own): the 30 s one is idle '
      'but for a poll a server every 30 s.' % (
          so_c['n'], len(tt['softorch'])))
    w('- Warm agents: os-collect-config sleeps 1 s after its first poll and '
      'doubles the sleep up to `polling_interval`, never going back '
      '(`os_collect_config/collect.py`); 31 s after it starts it polls '
      'every 30 s for good. The 30 s stacks hold their first deployment '
      'back %d s after their servers exist (an `OS::Heat::TestResource`): '
      'it appears to agents in that steady state, about mid-way between '
      'two polls; at 1 s there is no ramp.' % (
          tt['native_30s'].get('warmup_s') or 0))
    w('- Per edge at 30 s the two servers\' polls lock to the runs (a '
      'server sleeps a full interval after each run), so each edge costs '
      'about one interval plus the run and its signal, whatever the '
      'chain\'s length: %s' % n30_c['method'] + '.')
    w('- Software phase: from the engine\'s "creating ... db" log line '
      '(the first tier\'s resource starts, its server up) to "Stack '
      'CREATE COMPLETE"; whole create from the POST. Both templates are '
      'the example\'s (`three-tier-flat.yaml`, `three-tier-native.yaml`, the '
      'same scripts), with one root every resource of their own without '
      'a dependency depends on (see section 4) and, at 30 s, the warm-up '
      'hold.')
    w('- Requests: lines of Keystone\'s and Heat\'s API gunicorn access '
      'logs (whole seconds, both ends included) over the software phase '
      'and over the whole create (at 30 s the whole create includes the '
      'warm-up hold\'s polls), nothing else running; the benchmark\'s own '
      'client makes the same few in both (a login, the POST) and then '
      'follows the engine\'s log. Kinds: *login* POST /v3/auth/tokens, *token '
      'check* GET /v3/auth/tokens (keystonemiddleware validating a new '
      'token), *discovery* GET /v3, *identity read/write* the stack '
      'users, projects, roles and trusts Heat makes; *metadata poll* and '
      '*signal* the agents\' Heat API calls. Each os-collect-config poll '
      'is a password login, a discovery, a token check and a metadata '
      'GET: a native server costs Keystone three requests per polling '
      'interval for as long as it lives; a softorch agent never calls '
      'Keystone or Heat (ZooKeeper carries its work).')
    w('')
    w('![softorch against Heat\'s own deployments](%s)' % plot)
    w('')


def write(results, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    plots = {
        'handoff': 'bench-handoff.png', 'chain': 'bench-chain30.png',
        'scale': 'bench-scale.png', 'lag': 'bench-lag.png',
        'peer': 'bench-peer.png'}
    plot_handoff(results, os.path.join(out_dir, plots['handoff']))
    plot_chain(results, os.path.join(out_dir, plots['chain']))
    has_peer = plot_peer(results, os.path.join(out_dir, plots['peer']))
    has_scale = plot_scale(results, os.path.join(out_dir, plots['scale']))
    has_lag = plot_lag(results, os.path.join(out_dir, plots['lag']))
    ctx = results['context']
    m = ctx['machine']
    v = ctx['versions']
    f = results['figures']
    d = results['details']
    out = []
    w = out.append
    w('# Benchmarks')
    w('')
    w('Generated by `make bench` (`benchmarks/run.py`) on %s%s; the numbers '
      'are in [benchmarks/results.json](../benchmarks/results.json). '
      'Nothing here is asserted by a test.' % (
          ctx['date'], ' (BENCH_QUICK smoke run: small N, not the figures '
          'to quote)' if ctx.get('quick') else ''))
    w('')
    src = results.get('scale_source')
    if src:
        w('The 1,000-component figures (%s)%s come from the last run '
          'with the 1,000-component stacks, %s (git %s, %.0f s), kept in '
          '[%s](../%s), which `make bench-scale` writes; everything else '
          'from this run.' % (
              ', '.join('`%s`' % k for k in src['keys'][:2]) + ', ...',
              ' and the native 30-deep chain at 30 s measured in full'
              if results.get('chain30_native_measured_s') else '',
              src['date'], src['commit'], src.get('wall_s') or 0,
              src['file'], src['file']))
        w('')
    w('## Machine and software')
    w('')
    w('| | |')
    w('| --- | --- |')
    w('| CPU | %s, %s cores |' % (m.get('cpu_model'), m.get('cores')))
    w('| RAM | %s GB |' % m.get('ram_gb'))
    w('| kernel | %s |' % m.get('kernel'))
    w('| load average at start / end | %s / %s |' % (
        ' '.join('%.2f' % x for x in m.get('loadavg_start', ())),
        ' '.join('%.2f' % x for x in m.get('loadavg_end', ()))))
    w('| openstack-heat | %s |' % v.get('openstack-heat'))
    w('| kazoo (engine venv / agent venv) | %s / %s |' % (
        v.get('kazoo'), v.get('kazoo_agent_venv')))
    w('| ZooKeeper | %s |' % v.get('zookeeper'))
    w('| Python | %s |' % v.get('python'))
    w('| heat-softorch | %s (git %s%s) |' % (
        v.get('heat-softorch'), ctx.get('git', {}).get('commit'),
        ', uncommitted changes' if ctx.get('git', {}).get('dirty') else ''))
    cv = ctx.get('cloud', {}).get('versions', {})
    if cv:
        w('| Keystone / os-collect-config / heat-agents / ansible-core | '
          '%s / %s / %s / %s |' % (
              cv.get('keystone'), cv.get('os-collect-config'),
              cv.get('heat-agents'), cv.get('ansible-core')))
    w('| wall time of the run | %.0f s |' % ctx['wall_s'])
    w('')
    h = ctx['heat']
    w('Heat: %s; convergence engine, `executor_thread_pool_size = %s`, '
      '`[softorch] check_slice = %s`, `max_resources_per_stack = %s`. '
      'The all-in-one keeps every engine thread in one process, so the '
      'engine\'s peak RSS is one number, and its log is the one '
      'millisecond clock for COMPLETE; the real services (`make up`: '
      'heat-engine workers over RabbitMQ) add an RPC hop per resource and '
      'spread the same work over worker processes. Agents are real '
      '`softorch agent` processes from `.venv-agent` (LocalServers). '
      'ZooKeeper, MariaDB and Heat are private to `.run/bench` and run on '
      'the same 2-core machine as the agents and the scripts; other work '
      'on the machine (see the load average) shows up as noise.' % (
          h['how'], h['executor_thread_pool_size'], h['check_slice'],
          h['max_resources_per_stack']))
    w('')
    w('## Targets')
    w('')
    w('| target (issue 5) | met | figures |')
    w('| --- | --- | --- |')
    t = results['targets']
    zk, ho = results['zk_roundtrip_ms_p50'], results['edge_handoff_ms_p50']
    w('| handoff within 3x the ZooKeeper round trip | %s | %.2f ms vs 3 x '
      '%.2f ms = %.2f ms (ratio %.1f) |' % (
          _fmt(t['handoff within 3x ZooKeeper round trip']), ho, zk, 3 * zk,
          ho / zk))
    w('| handoff under 10 ms median on loopback | %s | %.2f ms (p95 %.2f) '
      '|' % (_fmt(t['handoff under 10 ms median']), ho,
             results['edge_handoff_ms_p95']))
    w('| completion lag under 200 ms | %s | median %.0f ms (p95 %.0f) |' % (
        _fmt(t['completion lag under 200 ms']),
        results['complete_lag_ms_p50'], results['complete_lag_ms_p95']))
    w('| 30-chain component phase >= 20x shorter than Heat-wired | %s | '
      '%.2f s vs %.2f s: %.1fx |' % (
          _fmt(t['chain30 component phase >= 20x shorter than Heat-wired']),
          results['chain30_softorch_s'], results['chain30_heatwired_s'],
          results['chain30_ratio']))
    g = t.get('added cost grows with depth, not size')
    if g:
        w('| what softorch adds grows with depth, not size | %s | added s '
          'by size (same depth): %s |' % (
              _fmt(g['met']), ', '.join('%s: %+.1f' % (k, a) for k, a in
                                        sorted(g['added_s_by_size'].items(),
                                               key=lambda kv: int(kv[0])))))
    w('')
    w('## 1, 2. Per-edge handoff against ZooKeeper\'s round trip')
    w('')
    w('| measure | median | p95 | N | unit |')
    w('| --- | --- | --- | --- | --- |')
    w(_row('ZooKeeper write -> watch -> read (`zk_roundtrip_ms`)',
           f['zk_roundtrip_ms'], 3))
    w(_row('ZooKeeper write alone', f['zk_write_ms'], 3))
    w(_row('handoff, scripts\' own stamps, no Heat (`edge_handoff_ms`)',
           f['edge_handoff_ms']))
    w(_row('handoff, agents\' status records, no Heat',
           f['edge_handoff_agent_ms']))
    w(_row('handoff inside the Heat 30-chain, scripts\' stamps',
           f['heat_chain_edge_handoff_ms']))
    w(_row('handoff inside the Heat 30-chain, agents\' status records',
           f['heat_chain_edge_handoff_agent_ms']))
    w('')
    w('- ZooKeeper: %s.' % f['zk_roundtrip_ms']['method'])
    w('- Handoff: %s.' % f['edge_handoff_ms']['method'])
    w('- Inside Heat: %s.' % f['heat_chain_edge_handoff_ms']['method'])
    w('')
    w('![handoff](%s)' % plots['handoff'])
    w('')
    w('## 3. Completion lag')
    w('')
    w('| measure | median | p95 | N | unit |')
    w('| --- | --- | --- | --- | --- |')
    w(_row('last script exit -> stack COMPLETE (`complete_lag_ms`)',
           f['complete_lag_ms'], 0))
    w(_row('3-chain stack create, POST -> COMPLETE', f['chain3_create_s']))
    w(_row('30-chain (softorch) last exit -> COMPLETE',
           f['chain30_softorch_complete_lag_ms'], 0))
    w('')
    w('Method: %s.' % f['complete_lag_ms']['method'])
    w('')
    if has_lag:
        w('![completion lag](%s)' % plots['lag'])
        w('')
    w('## 4. The 30-deep chain: softorch wiring against Heat-level wiring')
    w('')
    w('| | component phase median | p95 | N | whole stack create median '
      '| per-edge median |')
    w('| --- | --- | --- | --- | --- | --- |')
    for key, label in (('softorch', 'softorch (`chain30_softorch_s`)'),
                       ('heatwired', 'Heat-wired (`chain30_heatwired_s`)')):
        w('| %s | %.2f s | %.2f s | %d | %.1f s | %.0f ms |' % (
            label, f['chain30_%s_s' % key]['median'],
            f['chain30_%s_s' % key]['p95'], f['chain30_%s_s' % key]['n'],
            f['chain30_%s_create_s' % key]['median'],
            f['chain30_%s_edge_ms' % key]['median']))
    w('')
    w('Ratio Heat-wired / softorch component phase: **%.1fx**.' %
      results['chain30_ratio'])
    w('')
    w('- Heat-wired: every edge `c_{i-1}` -> `c_i` goes through an '
      '`OS::Heat::Value` whose value is `{get_attr: [c_{i-1}, n]}` and '
      '`c_i`\'s `prev` is that value: Heat starts `c_i` only once '
      '`c_{i-1}` is CREATE_COMPLETE, as a SoftwareDeployment chain would, '
      'minus its polling.')
    w('- Both templates have one leaf, an `OS::Heat::None` root both '
      'agents depend on: Heat\'s `converge_stack` sleeps 1 s after '
      'triggering each leaf, which with the agents as leaves starts the '
      'second VM a second after the first (the scale templates have the '
      'same root: 100 agents as leaves would cost 100 s of that sleep).')
    w('- Heat\'s own software deployments add the in-VM agent\'s '
      'polling to every Heat-wired edge: section 7 measures them.')
    w('')
    w('![chain](%s)' % plots['chain'])
    w('')
    if f.get('group_scale_out_s'):
        w('## 5. Groups: scaling out by one member')
        w('')
        w('| measure | median | p95 | n |')
        w('| --- | --- | --- | --- |')
        for key, label in (
                ('member_alone', 'create of one member\'s stack alone'),
                ('scale_out', 'scale-out 2 -> 3, update PATCH -> COMPLETE'),
                ('scale_out_lb', 'scale-out 2 -> 3, PATCH -> lb ran with 3'),
                ('scale_in', 'scale-in 3 -> 2, update PATCH -> COMPLETE'),
                ('scale_in_lb', 'scale-in 3 -> 2, PATCH -> lb ran with 2'),
                ('create', 'create of db, lb and 2 members'),
                ('none_scale_out', 'the same scale-out as OS::Heat::None '
                 '(Heat alone)')):
            x = f.get('group_%s_s' % key) or {}
            w('| %s | %s s | %s s | %s |' % (
                label, _fmt(x.get('median')), _fmt(x.get('p95')),
                x.get('n', 0)))
        w('')
        grown = (f.get('group_scale_out_s') or {}).get('median')
        heat = (f.get('group_none_scale_out_s') or {}).get('median')
        w('A ResourceGroup of member stacks (agent, server, one component '
          'reading the parent\'s db through `../db`) between a db and a '
          'load balancer reading every member (`app_tier/app`). Adding a '
          'member is a stack update: Heat updates the parent, the group '
          'and every member stack, creates the new one, and lb re-runs '
          'once with the new list. The scale-out takes %s times the '
          'member\'s own stack; the same scale-out of the shape made of '
          'OS::Heat::None (Heat updating the nested stacks, no software) '
          'takes %s s: softorch adds %s s to Heat\'s own cost%s.' % (
              _fmt(results.get('group_scale_out_over_member_alone')),
              _fmt(heat), _fmt(grown - heat if grown and heat else None),
              ' (nothing measurable: Heat\'s traversals vary more)'
              if grown and heat and grown <= heat else ''))
        w('')
    w('## 6. Scale')
    w('')
    sizes = [s for s in (10, 50, 100, 1000) if 'scale%d' % s in d]
    w('| components | agents | width | depth | edges | softorch create | '
      'None stack create | added | component phase | engine peak RSS '
      '(softorch / None) | agent peak RSS | zNodes (peak / at COMPLETE) |')
    w('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- '
      '| --- |')
    for s in sizes:
        x = d['scale%d' % s]
        if 'error' in x and 'heat_baseline_s' not in x:
            w('| %d | %d | %d | %d | %d | failed: %s | | | | | | |' % (
                s, x['agents'], x['width'], x['depth'], x['edges'],
                x['error']))
            continue
        if 'error' in x:
            # Still in progress at the budget: what it had done by then.
            w('| %d | %d | %d | %d | %d | not complete: %s; %d of %d '
              'components had run | %.1f s | n/a | %s | %.0f / %.0f MB | '
              '%.0f MB | %s / %s (at the budget) |' % (
                  s, x['agents'], x['width'], x['depth'], x['edges'],
                  x['error'], x['components_run'], s, x['heat_baseline_s'],
                  _fmt(x['component_phase_s']), x['engine_peak_rss_mb'],
                  x['engine_peak_rss_mb_none'], x['agent_peak_rss_mb'],
                  x['znodes_peak'], x['znodes_at_timeout']))
            continue
        w('| %d | %d | %d | %d | %d | %.1f s | %.1f s | %+.1f s | %.1f s | '
          '%.0f / %.0f MB | %.0f MB | %s / %s |' % (
              s, x['agents'], x['width'], x['depth'], x['edges'],
              x['softorch_create_s'], x['heat_baseline_s'], x['added_s'],
              x['component_phase_s'], x['engine_peak_rss_mb'],
              x['engine_peak_rss_mb_none'], x['agent_peak_rss_mb'],
              x['znodes_peak'], x['znodes_at_complete']))
    w('')
    if src and 'scale1000' in d:
        w('The 1,000 row is from %s (%s, git %s); the other rows from '
          'this run.' % (src['file'], src['date'], src['commit']))
        w('')
    w('One run per size (the issue asks for one at 1,000). Shape: 10 '
      'layers of n/10 components; component j of layer l reads components '
      'j and j+1 (mod width) of layer l-1 and runs on agent (j + l) mod '
      'agents, so every edge crosses agents. The None stack has the same '
      'agents, servers and components as `OS::Heat::None`, each component '
      '`depends_on` its server and its upstreams. Create times are POST -> '
      '"Stack CREATE COMPLETE" log line. Engine peak RSS is the all-in-one '
      'process\'s VmHWM, reset (`clear_refs` 5) before each stack; agent '
      'peak RSS the largest VmHWM among the stack\'s agent processes; '
      'zNodes the peak of ZooKeeper\'s `zk_znode_count` above its value '
      'before the create (sampled every 0.2 s), and an exact count of the '
      'stack\'s subtree once COMPLETE.')
    w('')
    if has_scale:
        w('![scale](%s)' % plots['scale'])
        w('')
    _shapes_section(w)
    if has_peer:
        _peer_section(w, results, plots['peer'])
    w('## What the profiles showed')
    w('')
    for para in PROFILE_FINDINGS:
        w('- ' + para)
    w('')
    w('## Phases of this run')
    w('')
    w('| phase | seconds |')
    w('| --- | --- |')
    for k, sec in ctx.get('phases_s', {}).items():
        w('| %s | %.1f |' % (k, sec))
    w('')
    notes = results.get('notes')
    if notes:
        w('## Notes')
        w('')
        for n_ in notes:
            w('- ' + n_)
        w('')
    with open(os.path.join(out_dir, 'benchmarks.md'), 'w') as fh:
        fh.write('\n'.join(out))
