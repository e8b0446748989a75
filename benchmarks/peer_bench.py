"""softorch against the real peer, Heat's own software deployments, on the
same Heat: `make up`'s cloud (tools/localheat.sh: Keystone, Heat's API
under gunicorn with keystonemiddleware, heat-engine with two workers over
RabbitMQ, trusts and a stack user domain), since the native path needs
Keystone and the all-in-one noauth Heat of the other measures has none.
Both paths run there, on LocalServers: softorch's with its agents,
Heat's with os-collect-config and heat-agents' hooks (.venv-native-agent),
polling every 30 s (an image's default) or every 1 s.

Measured, on the same cloud:

- the 30-deep chain (templates.chain / native_chain): component phase
  (first script start -> last script exit, the scripts' own
  $EPOCHREALTIME stamps) and per-edge handoffs (script exit -> next
  script start); native at 1 s in full; native at 30 s with warm agents,
  in full or (``native30_depth`` < 30) a shorter chain whose per-edge
  figure extrapolates to 30 (see chain30_extrapolated);
- the three-tier example's application (examples/three-tier:
  three-tier-flat.yaml and its native twin three-tier-native.yaml, two
  apps wired by hand in both): software phase (the engine's "creating" line of
  the first tier's resource -> its "Stack CREATE COMPLETE" line) and
  whole create (POST -> COMPLETE), and the Keystone and Heat API requests
  each path made for it (the two services' gunicorn access logs, counted
  over the software phase and over the whole create, with nothing else
  running).

"Warm agents": os-collect-config sleeps 1 s after its first poll and
doubles the sleep after each poll up to polling_interval, and never goes
back (os_collect_config/collect.py): 31 s after it starts it polls every
30 s for good. A native stack at 30 s holds its first deployment back
WARMUP_S after its servers exist (an OS::Heat::TestResource), so that it
appears to agents in that steady state, as to the long-lived VMs of a
stack update; the measures start after it.
"""

import os
import re
import shlex
import subprocess
import time
import uuid

from benchmarks import services as svc
from benchmarks import stats
from benchmarks import templates as tmpl

REPO = svc.REPO
TOOLS = svc.TOOLS
EXAMPLES = os.path.join(REPO, 'examples')
# The application with its apps wired by hand, as its native twin has them.
THREE_TIER = os.path.join(EXAMPLES, 'three-tier', 'three-tier-flat.yaml')
THREE_TIER_NATIVE = os.path.join(EXAMPLES, 'three-tier',
                                 'three-tier-native.yaml')
ENV_LOCAL = os.path.join(EXAMPLES, 'env-local.yaml')
# 31 s of ramp (1+2+4+8+16 s of sleeps, plus the polls themselves) after
# the servers exist, then half an interval more: the first deployment
# appears about mid-way between two steady 30 s polls, which is what a
# deployment appearing at any moment waits on average.
WARMUP_S = 45
# The idle cost of a native server: requests over this long after the
# 1 s three-tier completed.
IDLE_S = 10


def _clean_environ(extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('OS_') and k != svc.MARKER}
    env.update(extra)
    return env


def _read_kv(path, prefix=''):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if prefix:
                if not line.startswith(prefix):
                    continue
                line = line[len(prefix):]
            if not line or line.startswith('#') or '=' not in line:
                continue
            k, v = line.split('=', 1)
            words = shlex.split(v)
            out[k] = words[0] if words else ''
    return out


class Cloud(object):
    """tools/localheat.sh up/down under ``run_dir``: a Keystone-backed
    Heat, ZooKeeper, MariaDB and RabbitMQ, LocalServers enabled, native
    servers polling every 30 s unless their metadata says otherwise."""

    def __init__(self, run_dir, venvs):
        self.dir = os.path.abspath(run_dir)
        self.venvs = venvs
        self.env = None
        self.client = None

    def _script(self, action, timeout):
        env = _clean_environ({
            'VENV': self.venvs['engine'], 'AGENT_VENV': self.venvs['agent'],
            'NATIVE_AGENT_VENV': self.venvs['native'],
            'NATIVE_POLLING_INTERVAL': '30',
            # The engine log's times are read as UTC.
            'TZ': 'UTC'})
        try:
            r = subprocess.run([os.path.join(TOOLS, 'localheat.sh'), action,
                                self.dir], env=env, cwd=REPO, text=True,
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise svc.BenchError('localheat.sh %s took over %d s: %s' % (
                action, timeout, (exc.output or '')[-2000:]))
        if r.returncode:
            raise svc.BenchError('localheat.sh %s failed: %s' % (
                action, r.stdout[-3000:]))
        return r.stdout

    def start(self):
        subprocess.run(['rm', '-rf', self.dir], check=True)
        self._script('up', 400)
        self.attach()

    def attach(self):
        """Read the env and openrc of the cloud up in the run dir."""
        self.env = _read_kv(os.path.join(self.dir, 'env'))
        rc = _read_kv(self.env['OPENRC'], 'export ')
        from heatclient import client as heat_client
        from keystoneauth1.identity import v3
        from keystoneauth1 import session
        auth = v3.Password(
            auth_url=rc['OS_AUTH_URL'], username=rc['OS_USERNAME'],
            password=rc['OS_PASSWORD'], project_name=rc['OS_PROJECT_NAME'],
            user_domain_name=rc['OS_USER_DOMAIN_NAME'],
            project_domain_name=rc['OS_PROJECT_DOMAIN_NAME'])
        self.client = heat_client.Client(
            '1', session=session.Session(auth=auth),
            region_name=rc['OS_REGION_NAME'], interface='public')

    def stop(self):
        return self._script('down', 300)

    @property
    def engine_log(self):
        return os.path.join(self.env['HEAT_LOG_DIR'], 'heat-engine.log')

    @property
    def access_logs(self):
        return {'keystone': os.path.join(self.dir, 'keystone', 'log',
                                         'access.log'),
                'heat': os.path.join(self.env['HEAT_LOG_DIR'],
                                     'access.log')}

    def versions(self):
        out = {}
        for dist, venv in (('keystone', 'engine'),
                           ('os-collect-config', 'native'),
                           ('ansible-core', 'native')):
            r = subprocess.run([os.path.join(self.venvs[venv], 'bin',
                                             'python'), '-c',
                                'import importlib.metadata as m; '
                                'print(m.version(%r))' % dist],
                               capture_output=True, text=True)
            out[dist] = r.stdout.strip() or None
        try:
            with open(os.path.join(self.venvs['native'], 'heat-config',
                                   'VERSION')) as f:
                out['heat-agents'] = f.read().split()[-1]
        except OSError:
            out['heat-agents'] = None
        return out


# -- the access logs -------------------------------------------------------

ACCESS = re.compile(r'\[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d) [+-]\d{4}\] '
                    r'"(\w+) (\S+) ')


def _access_time(text):
    import datetime
    return datetime.datetime.strptime(text, '%d/%b/%Y:%H:%M:%S').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def requests(path, t0, t1):
    """Requests in a gunicorn access log from t0 to t1 (epoch s; the log
    has whole seconds: both ends included), by kind."""
    kinds = {}
    lo, hi = int(t0), int(t1) + 1
    with open(path, errors='replace') as f:
        for line in f:
            m = ACCESS.search(line)
            if not m:
                continue
            t = _access_time(m.group(1))
            if t < lo or t >= hi:
                continue
            kind = _kind(m.group(2), m.group(3))
            kinds[kind] = kinds.get(kind, 0) + 1
    kinds['total'] = sum(kinds.values())
    return kinds


def _kind(method, path):
    path = path.split('?')[0]
    if path.startswith('/v3/auth/tokens'):
        return 'login' if method == 'POST' else 'token check'
    if path.endswith('/metadata') and method == 'GET':
        return 'metadata poll'
    if path.endswith('/signal'):
        return 'signal'
    if path in ('/', '/v3', '/v3/'):
        return 'discovery'
    if path.startswith('/v3'):
        # Heat's stack users, projects, roles, trusts, credentials
        return 'identity read' if method == 'GET' else 'identity write'
    return 'other'


def request_counts(cloud, t0, t1):
    return {svc_name: requests(path, t0, t1)
            for svc_name, path in cloud.access_logs.items()}


# -- stacks ------------------------------------------------------------------

class Stack(object):
    """One stack create on the cloud: POST now, wait() later."""

    def __init__(self, cloud, prefix, template, env, files=None,
                 params=None):
        self.cloud = cloud
        self.name = '%s-%s' % (prefix, uuid.uuid4().hex[:6])
        self.post = time.time()
        body = cloud.client.stacks.create(
            stack_name=self.name, template=template, files=files or {},
            environment=env, parameters=params or {},
            disable_rollback=True, timeout_mins=60)
        self.sid = body['stack']['id']
        self.complete = None

    def wait(self, timeout):
        done = re.compile(r'Stack CREATE (COMPLETE|FAILED) \(%s\)'
                          % re.escape(self.name))
        status = [None]

        def logged():
            with open(self.cloud.engine_log, errors='replace') as f:
                for line in f:
                    m = done.search(line)
                    if m:
                        status[0] = m.group(1)
                        return True
            return False
        svc.wait_for(logged, timeout, 'stack %s CREATE' % self.name,
                     interval=1.0)
        if status[0] != 'COMPLETE':
            s = self.cloud.client.stacks.get(self.sid, resolve_outputs=False)
            raise svc.BenchError('stack %s: %s: %s' % (
                self.name, s.stack_status, s.stack_status_reason))
        self.complete = svc.log_times(
            self.cloud.engine_log, r'Stack CREATE COMPLETE \(%s\)'
            % re.escape(self.name))[0]
        return self

    @property
    def create_s(self):
        return self.complete - self.post

    def started(self, resource):
        """Epoch s of the engine's 'creating <Type> "<resource>"' line."""
        found = svc.log_times(self.cloud.engine_log, r'creating \w+ "%s" '
                              r'.*Stack "%s"' % (re.escape(resource),
                                                 re.escape(self.name)))
        return found.get(0)

    def stop(self):
        """Stop the stack's servers and all they started (their agents or
        os-collect-config, and the services of its scripts), so that
        nothing of it runs, polls or logs in during what comes next."""
        from heat_softorch.engine.resources import local_server
        servers = self.cloud.env['SERVERS_DIR']
        for d in sorted(os.listdir(servers)):
            if d.startswith(self.sid + '-'):
                workdir = os.path.join(servers, d)
                pid = svc.server_pid(workdir)
                if pid:
                    local_server.stop_tree(pid, workdir)


def _chain_run(stack, n, stamps):
    rows = [stats.read_stamp(stamps, 'c%d' % i) for i in range(n)]
    if not all(rows):
        raise svc.BenchError('missing script stamps in %s: %s' % (
            stack.name, [i for i, r in enumerate(rows) if not r]))
    script, _ = stats.chain_handoffs([(r, None) for r in rows])
    return {'name': stack.name, 'phase_s': stats.phase(rows),
            'create_s': stack.create_s,
            'handoffs_ms': script,
            'runs_ms': [(r[1] - r[0]) * 1e3 for r in rows],
            'first_start_after_post_s': rows[0][0] - stack.post}


class PeerBench(object):

    def __init__(self, cloud, workdir):
        self.cloud = cloud
        self.workdir = workdir

    def _stamps(self, name):
        d = os.path.join(self.workdir, 'stamps', name)
        os.makedirs(d)
        return d

    def _chain_stack(self, prefix, template, env):
        stamps = self._stamps('%s-%s' % (prefix, uuid.uuid4().hex[:6]))
        return Stack(self.cloud, prefix, template, env,
                     params={'stamps': stamps}), stamps

    def softorch_chain(self, n, runs):
        out = []
        for _ in range(runs):
            stack, stamps = self._chain_stack('so%d' % n, tmpl.chain(n),
                                              tmpl.LOCAL_ENV)
            stack.wait(600)
            out.append(_chain_run(stack, n, stamps))
            stack.stop()
        return out

    def native_chains(self, specs):
        """Native chains created together: [(n, polling_interval,
        warmup_s)] -> their runs, in order. Each stack's servers are its
        own; they run side by side only to spend the waits of the slow
        ones once."""
        started = []
        for n, interval, warmup_s in specs:
            started.append((n,) + self._chain_stack(
                'native%d-%ds' % (n, interval),
                tmpl.native_chain(n, interval, warmup_s), tmpl.NATIVE_ENV))
        out = []
        for n, stack, stamps in started:
            # Each edge may wait a whole interval and then some.
            stack.wait(120 + n * 60)
            run = _chain_run(stack, n, stamps)
            run['warmup_s'] = dict((s[0], s[2]) for s in specs)[n]
            out.append(run)
            stack.stop()
        return out

    def three_tier(self, native, polling_interval=None, warmup_s=0,
                   idle_s=0):
        """The example, softorch's or its native twin, once; software
        phase, create and request counts."""
        from heatclient.common import template_utils
        path = THREE_TIER_NATIVE if native else THREE_TIER
        files, template = template_utils.get_template_contents(
            template_file=path)
        template = tmpl.one_leaf(template)
        if native and warmup_s:
            servers = ['%s_server' % t for t in ('db', 'app1', 'app2',
                                                 'lb')]
            template['resources']['warmup'] = tmpl.warmup(servers, warmup_s)
            template['resources']['db']['depends_on'] = ['warmup']
        env_files, env = (
            template_utils.process_multiple_environments_and_files(
                env_paths=[ENV_LOCAL]))
        files.update(env_files)
        ports = [svc.free_port() for _ in range(4)]
        params = dict(zip(('db_port', 'app1_port', 'app2_port', 'lb_port'),
                          ports), db_content='bench')
        if native:
            params['polling_interval'] = polling_interval
        stack = Stack(self.cloud, 'tt-%s' % ('native%ds' % polling_interval
                                             if native else 'softorch'),
                      template, env, files, params)
        stack.wait(600)
        first = stack.started('db')
        # Requests for the software (the first tier's resource starts ->
        # COMPLETE: at 30 s without the warm-up hold's polls), and for the
        # whole create.
        out = {'name': stack.name, 'create_s': stack.create_s,
               'software_s': stack.complete - first,
               'requests': request_counts(self.cloud, first,
                                          stack.complete),
               'requests_create': request_counts(self.cloud, stack.post,
                                                 stack.complete)}
        if native:
            out['warmup_s'] = warmup_s
            out['polling_interval'] = polling_interval
        if idle_s:
            # Nothing else runs: what the stack's servers cost at rest.
            t = time.time()
            time.sleep(idle_s)
            out['idle'] = {'seconds': idle_s, 'requests': request_counts(
                self.cloud, t + 1, time.time() - 1)}
            out['idle']['seconds'] = round(time.time() - 1 - (t + 1), 1)
        # The page through the lb answers: the application works.
        url = 'http://127.0.0.1:%d/' % ports[3]
        import urllib.request
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=10) as r:
            if b'Served by' not in r.read():
                raise svc.BenchError('%s: %s does not serve the app' % (
                    stack.name, url))
        stack.stop()
        return out


def chain30_extrapolated(run, depth=30):
    """A chain of ``depth`` from a shorter native chain at the same
    polling: its phase plus, for each missing link, its median edge and
    median run. At a steady interval the two servers' polls lock to the
    runs (a server sleeps a full interval after each run), so each edge
    costs about one interval plus the run and signal, whatever the
    chain's length: the edges of the short chain are samples of the same
    distribution."""
    n = len(run['runs_ms'])
    return run['phase_s'] + (depth - n) * (
        stats.p50(run['handoffs_ms']) + stats.p50(run['runs_ms'])) / 1e3


def measure(cloud, cfg, workdir, phases):
    """Everything on the cloud; (figures, samples, details)."""
    pb = PeerBench(cloud, workdir)
    fig, samples, details = {}, {}, {}
    n = cfg['chain_depth']

    # The engine's first stack pays for imports: not a measured one.
    phases.run('cloud warm-up', pb.softorch_chain, 3, 1)

    so = phases.run('cloud chain%d softorch' % n, pb.softorch_chain, n,
                    cfg['cloud_softorch_runs'])
    tiers = phases.run('cloud three-tier softorch', lambda: [
        pb.three_tier(False) for _ in range(cfg['cloud_softorch_runs'])])
    native1 = phases.run('cloud three-tier native 1 s', pb.three_tier,
                         True, 1, 0, IDLE_S)
    native30 = phases.run('cloud three-tier native 30 s', pb.three_tier,
                          True, 30, cfg['native_warmup_s'])
    d30 = cfg['native30_depth']
    c1, c30 = phases.run(
        'cloud native chains (%d at 1 s, %d at 30 s warm)' % (n, d30),
        pb.native_chains, [(n, 1, 0), (d30, 30, cfg['native_warmup_s'])])

    def chain_fig(runs, what):
        return stats.figure([r['phase_s'] for r in runs], 's',
                            'component phase: first script start -> last '
                            'script exit; ' + what)

    def edge_fig(runs, what):
        return stats.figure(sum((r['handoffs_ms'] for r in runs), []), 'ms',
                            'per edge: script exit -> next script start; '
                            + what)

    fig['chain30_softorch_cloud_s'] = chain_fig(
        so, 'softorch on the Keystone cloud')
    fig['edge_softorch_cloud_ms'] = edge_fig(so, 'softorch on the Keystone '
                                             'cloud')
    fig['chain30_native_1s_s'] = chain_fig(
        [c1], 'Heat\'s deployments, os-collect-config polling every 1 s')
    fig['edge_native_1s_ms'] = edge_fig(
        [c1], 'Heat\'s deployments at 1 s polling')
    fig['edge_native_ms'] = edge_fig(
        [c30], 'Heat\'s deployments, warm agents polling every 30 s, a '
        '%d-deep chain' % d30)
    if d30 >= n:
        fig['chain30_native_s'] = chain_fig(
            [c30], 'Heat\'s deployments, warm agents polling every 30 s')
    else:
        value = chain30_extrapolated(c30, n)
        fig['chain30_native_s'] = {
            'median': round(value, 1), 'p95': None, 'n': 0, 'unit': 's',
            'computed': True, 'measured_depth': d30,
            'measured_phase_s': round(c30['phase_s'], 2),
            'method': 'extrapolated from a chain of %d at 30 s (warm '
                      'agents, measured: %.1f s): its phase plus %d x '
                      '(median edge + median run) of that chain; `make '
                      'bench-scale` measures the 30-deep chain' % (
                          d30, c30['phase_s'], n - d30)}
    for key, runs in (('three_tier_softorch', tiers),
                      ('three_tier_native_1s', [native1]),
                      ('three_tier_native', [native30])):
        fig[key + '_s'] = stats.figure(
            [r['software_s'] for r in runs], 's', 'the first tier\'s '
            'resource starts (engine log "creating ... db") -> stack '
            'CREATE COMPLETE (engine log)')
        fig[key + '_create_s'] = stats.figure(
            [r['create_s'] for r in runs], 's', 'POST -> stack CREATE '
            'COMPLETE' + (' (includes the %d s warm-up hold)'
                          % runs[0]['warmup_s'] if runs[0].get('warmup_s')
                          else ''))
    samples['edge_softorch_cloud_ms'] = sum((r['handoffs_ms'] for r in so),
                                            [])
    samples['edge_native_1s_ms'] = c1['handoffs_ms']
    samples['edge_native_ms'] = c30['handoffs_ms']

    def slim(r):
        return {k: (round(v, 3) if isinstance(v, float) else v)
                for k, v in r.items() if not isinstance(v, list)}
    details['cloud_chain30_softorch'] = [slim(r) for r in so]
    details['cloud_chain30_native_1s'] = slim(c1)
    details['cloud_chain_native_30s'] = slim(c30)
    details['three_tier'] = {'softorch': [slim(r) for r in tiers],
                             'native_1s': slim(native1),
                             'native_30s': slim(native30)}
    return fig, samples, details


def flat(fig, details):
    out = {}
    for key in ('chain30_native_s', 'chain30_native_1s_s',
                'chain30_softorch_cloud_s', 'three_tier_native_s',
                'three_tier_native_1s_s', 'three_tier_softorch_s',
                'three_tier_native_create_s', 'three_tier_native_1s_create_s',
                'three_tier_softorch_create_s'):
        out[key] = fig[key]['median']
    for key in ('edge_native_ms', 'edge_native_1s_ms',
                'edge_softorch_cloud_ms'):
        out[key + '_p50'] = fig[key]['median']
        out[key + '_p95'] = fig[key]['p95']

    def ratio(a, b):
        return round(a / b, 1) if a and b else None
    so_chain, so_edge = (out['chain30_softorch_cloud_s'],
                         out['edge_softorch_cloud_ms_p50'])
    out['chain30_native_over_softorch'] = ratio(out['chain30_native_s'],
                                                so_chain)
    out['chain30_native_1s_over_softorch'] = ratio(
        out['chain30_native_1s_s'], so_chain)
    out['edge_native_over_softorch'] = ratio(out['edge_native_ms_p50'],
                                             so_edge)
    out['edge_native_1s_over_softorch'] = ratio(
        out['edge_native_1s_ms_p50'], so_edge)
    out['three_tier_native_over_softorch'] = ratio(
        out['three_tier_native_s'], out['three_tier_softorch_s'])
    out['three_tier_native_1s_over_softorch'] = ratio(
        out['three_tier_native_1s_s'], out['three_tier_softorch_s'])
    tt = details['three_tier']
    # One run each (softorch's first), as doc/benchmarks.md shows them.
    for key, run in (('softorch', tt['softorch'][0]),
                     ('native_1s', tt['native_1s']),
                     ('native', tt['native_30s'])):
        for service in ('keystone', 'heat'):
            out['three_tier_%s_%s_requests' % (key, service)] = (
                run['requests'][service]['total'])
    return out
