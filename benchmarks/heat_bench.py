"""Measures under Heat's real engine (convergence, MariaDB): completion lag,
the 30-deep chain with softorch's wiring and with Heat-level wiring, and
stacks of 10, 100 and 1,000 components beside OS::Heat::None stacks of the
same shape.

Times come from three clocks on one machine: the scripts' own
``$EPOCHREALTIME`` stamps; the engine log's millisecond timestamps of
``Stack CREATE COMPLETE (<name>)`` (heat.engine.stack.Stack._log_status,
logged by state_set just before the state is persisted: Heat's database
keeps only whole seconds); and this process's clock for the POST that
starts a create.
"""

import os
import re
import signal
import threading
import time
import uuid

from benchmarks import services as svc
from benchmarks import stats
from benchmarks import templates as tmpl
from heat_softorch.fabric import connection
from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import records


class HeatBench(object):

    def __init__(self, services, workdir):
        self.services = services
        self.heat = services.heat
        self.workdir = workdir
        self.zk = services.connect()

    def close(self):
        connection.close(self.zk)

    # -- one stack ---------------------------------------------------------

    def create(self, prefix, template, softorch=True, timeout=300,
               znodes=False, files=None, params=None):
        """Create a stack and wait for it. A dict: name, sid, stamps dir,
        post (epoch s), complete (engine log, epoch s), create_s,
        engine_peak_kb, and the zNode peak when asked."""
        name = '%s-%s' % (prefix, uuid.uuid4().hex[:6])
        stamps = os.path.join(self.workdir, 'stamps', name)
        os.makedirs(stamps)
        params = dict({'stamps': stamps} if softorch else {},
                      **(params or {}))
        svc.reset_peak_rss(self.heat.pid)
        sampler = ZnodeSampler(self.services) if znodes else None
        t0 = time.time()
        sid = self.heat.client.stacks.create(
            stack_name=name, template=template, files=files or {},
            environment=tmpl.LOCAL_ENV if softorch else {},
            parameters=params, disable_rollback=True,
            timeout_mins=60)['stack']['id']
        try:
            status, reason = self.heat.wait_logged(name, sid, 'CREATE',
                                                   timeout)
        except svc.BenchError as exc:
            # What the stack had done by then, for the caller to report.
            if sampler:
                sampler.stop()
            exc.run = {'name': name, 'sid': sid, 'stamps': stamps,
                       'post': t0, 'engine_peak_kb': svc.proc_status(
                           self.heat.pid, 'VmHWM'),
                       'znodes_peak_mntr': sampler.peak() if sampler
                       else None}
            raise
        if sampler:
            sampler.stop()
        if status != 'CREATE_COMPLETE':
            raise svc.BenchError('stack %s: %s: %s' % (name, status, reason))
        done = svc.wait_for(lambda: self.heat.state_logged(name), 10,
                            'the engine log line of %s COMPLETE' % name)
        run = {'name': name, 'sid': sid, 'stamps': stamps, 'post': t0,
               'complete': done, 'create_s': done - t0,
               'engine_peak_kb': svc.proc_status(self.heat.pid, 'VmHWM')}
        if sampler:
            run['znodes_peak_mntr'] = sampler.peak()
        return run

    def hosts(self, sid):
        """{component: agent host} from the resources' physical ids."""
        out = {}
        for r in self.heat.client.resources.list(sid):
            if r.resource_type == 'OS::SoftOrch::SoftwareComponent':
                host, _, comp = (r.physical_resource_id or '').partition('/')
                out[comp] = host
        return out

    def zget(self, path):
        raw, _ = self.zk.get(path)
        return records.decode(raw, path)

    def chain_rows(self, run, n):
        """[(stamp, status, spec)] of c0..c{n-1}."""
        hosts = self.hosts(run['sid'])
        paths = zpaths.StackPaths(svc.ZK_ROOT, run['sid'])
        rows = []
        for i in range(n):
            c = 'c%d' % i
            rows.append((stats.read_stamp(run['stamps'], c),
                         self.zget(paths.status(hosts[c], c)),
                         self.zget(paths.spec(hosts[c], c))))
        return rows

    def stop_servers(self, run, agents_rss=False):
        """Stop the stack's agents (SIGTERM: they release their liveness
        lock at once); their peak RSS in kB, max over agents, if asked."""
        dirs = self.heat.servers_of(run['sid'])
        pids = [svc.server_pid(d) for d in dirs]
        pids = [p for p in pids if p]
        peak = max([svc.proc_status(p, 'VmHWM') or 0 for p in pids] or [0])
        for p in pids:
            try:
                os.kill(p, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        for p in pids:
            while time.monotonic() < deadline and _alive(p):
                time.sleep(0.05)
            if _alive(p):
                try:
                    os.killpg(p, signal.SIGKILL)
                except OSError:
                    pass
        return peak if agents_rss else None

    def count_subtree(self, sid):
        """Exact number of zNodes under the stack's node, itself included."""
        root = zpaths.StackPaths(svc.ZK_ROOT, sid).stack
        total, level = 0, [root]
        while level:
            total += len(level)
            asyncs = [(p, self.zk.get_children_async(p)) for p in level]
            level = []
            for p, a in asyncs:
                try:
                    level.extend('%s/%s' % (p, c) for c in a.get(timeout=30))
                except Exception:  # noqa: a lock node the engine may not list
                    pass
        return total


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


class ZnodeSampler(object):
    """ZooKeeper's own zk_znode_count (the mntr command) every 0.2 s: the
    peak above the count when sampling started is the stack's peak
    subtree (the private ZooKeeper holds nothing else that changes)."""

    def __init__(self, services):
        self.services = services
        self.base = self.count()
        self.max = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def count(self):
        for line in self.services.four('mntr').splitlines():
            if line.startswith('zk_znode_count'):
                return int(line.split()[1])
        raise svc.BenchError('ZooKeeper mntr gave no zk_znode_count')

    def _loop(self):
        while not self._stop.wait(0.2):
            try:
                self.max = max(self.max, self.count())
            except (OSError, svc.BenchError):
                pass

    def stop(self):
        self._stop.set()
        self._t.join(5)
        try:
            self.max = max(self.max, self.count())
        except (OSError, svc.BenchError):
            pass

    def peak(self):
        return self.max - self.base


# -- the measures ------------------------------------------------------------

def complete_lag(hb, runs):
    """3-chains: last script exit -> stack COMPLETE in the engine log."""
    lags, creates, details = [], [], []
    for _ in range(runs):
        run = hb.create('lag', tmpl.chain(3))
        last = stats.read_stamp(run['stamps'], 'c2')
        if not last:
            raise svc.BenchError('no stamps from c2 of %s' % run['name'])
        rows = hb.chain_rows(run, 3)
        lag = (run['complete'] - last[1]) * 1e3
        lags.append(lag)
        creates.append(run['create_s'])
        st = rows[-1][1]
        details.append({'lag_ms': round(lag, 1),
                        'create_s': round(run['create_s'], 3),
                        'agent_publish_ms': round(
                            (st['finished'] - last[1]) * 1e3, 1)})
        hb.stop_servers(run)
    return lags, creates, details


def chain30(hb, n, runs, wired):
    """n-deep chain, softorch-wired or Heat-wired: component phase and
    stack create per run, plus per-edge handoffs inside Heat."""
    out = []
    for _ in range(runs):
        template = (tmpl.chain_heat_wired(n) if wired else tmpl.chain(n))
        run = hb.create('hw%d' % n if wired else 'so%d' % n, template,
                        timeout=900)
        rows = hb.chain_rows(run, n)
        stamps = [r[0] for r in rows]
        if not all(stamps):
            raise svc.BenchError('missing script stamps in %s' % run['name'])
        script, agent = stats.chain_handoffs([(r[0], r[1]) for r in rows])
        # An edge whose downstream spec was registered only after the
        # upstream script had exited waited for Heat (its resource's
        # handle_create), not for ZooKeeper.
        gated = [i for i in range(1, n)
                 if rows[i][2]['registered'] > rows[i - 1][0][1]]
        pure = [script[i - 1] for i in range(1, n) if i not in gated]
        out.append({
            'name': run['name'], 'phase_s': stats.phase(stamps),
            'create_s': run['create_s'],
            'complete_lag_ms': (run['complete'] - stamps[-1][1]) * 1e3,
            'first_start_after_post_s': stamps[0][0] - run['post'],
            'handoffs_ms': script, 'agent_handoffs_ms': agent,
            'registration_gated_edges': len(gated),
            'handoffs_not_gated_ms': pure})
        hb.stop_servers(run)
    return out


def scale(hb, n, template_so, template_none, timeout, none_timeout=900):
    """One softorch stack and one OS::Heat::None stack of the same shape.
    A softorch stack still in progress after ``timeout`` is reported with
    what it had done by then, and an error."""
    none = hb.create('none%d' % n, template_none, softorch=False,
                     timeout=none_timeout)
    error = None
    try:
        so = hb.create('scale%d' % n, template_so, timeout=timeout,
                       znodes=True)
    except svc.BenchError as exc:
        if not hasattr(exc, 'run'):
            raise
        so, error = exc.run, str(exc)
    znodes_end = hb.count_subtree(so['sid'])
    agent_peak = hb.stop_servers(so, agents_rss=True)
    stamps = []
    for comp in os.listdir(so['stamps']):
        stamps.append(stats.read_stamp(so['stamps'], comp))
    out = {
        'softorch_create_s': so.get('create_s'),
        'heat_baseline_s': none['create_s'],
        'added_s': so['create_s'] - none['create_s'] if 'create_s' in so
        else None,
        'component_phase_s': stats.phase(stamps),
        'components_run': len([s for s in stamps if s]),
        'first_start_after_post_s': (min(s[0] for s in stamps if s) -
                                     so['post']) if any(stamps) else None,
        'engine_peak_rss_mb': round(so['engine_peak_kb'] / 1024.0, 1),
        'engine_peak_rss_mb_none': round(none['engine_peak_kb'] / 1024.0,
                                         1),
        'agent_peak_rss_mb': round(agent_peak / 1024.0, 1),
        'znodes_peak': so.get('znodes_peak_mntr'),
        'znodes_at_complete' if error is None else 'znodes_at_timeout':
        znodes_end,
    }
    if error:
        out['error'] = error
    return out


def group_scaling(hb, runs):
    """A ResourceGroup of members between a db and a load balancer (lb):
    what a stack update adding one member costs against creating that
    member's stack alone, and what removing it costs. Per run: create the
    group of 2; update to 3 (POST -> UPDATE COMPLETE log line, and -> the
    end of lb's run with the three); update back to 2; create one member
    template on its own (POST -> CREATE COMPLETE)."""
    import json as json_mod
    files = {tmpl.GROUP_MEMBER: json_mod.dumps(tmpl.group_member())}
    out = []
    for _ in range(runs):
        run = hb.create('group', tmpl.group_parent(), files=files,
                        params={'count': 2})
        row = {'create_s': run['create_s']}
        for count, key in ((3, 'scale_out'), (2, 'scale_in')):
            t0, done = update(hb, run, {'count': count})
            row[key + '_s'] = done - t0
            lb = stats.read_stamp(run['stamps'], 'lb')
            row[key + '_lb_s'] = lb[1] - t0 if lb and lb[1] > t0 else None
        hb.stop_servers(run)
        alone = hb.create('member', tmpl.group_member(alone=True))
        row['member_alone_s'] = alone['create_s']
        hb.stop_servers(alone)
        # Heat's own cost of the same scale-out: the shape as
        # OS::Heat::None.
        none_files = {tmpl.GROUP_MEMBER: json_mod.dumps(tmpl.as_none(
            tmpl.group_member()))}
        none = hb.create('groupnone', tmpl.as_none(tmpl.group_parent()),
                         softorch=False, files=none_files,
                         params={'count': 2})
        t0, done = update(hb, none, {'count': 3})
        row['none_scale_out_s'] = done - t0
        out.append(row)
    return out


def update(hb, run, params, timeout=300):
    """PATCH the stack's parameters; (POST time, the engine log's 'Stack
    UPDATE COMPLETE (<name>)' time of this update), epoch seconds."""
    before = len(svc.log_times(hb.heat.log_path, r'Stack UPDATE COMPLETE '
                               r'\(%s\)' % re.escape(run['name'])))
    t0 = time.time()
    hb.heat.client.stacks.update(run['sid'], existing=True,
                                 parameters=params)

    def logged():
        times = svc.log_times(hb.heat.log_path, r'Stack UPDATE (COMPLETE|'
                              r'FAILED) \(%s\)' % re.escape(run['name']))
        return times.get(before)
    done = svc.wait_for(logged, timeout, 'stack %s UPDATE' % run['name'],
                        interval=0.1)
    status, reason = hb.heat.wait(run['sid'], 'UPDATE', 60)
    if status != 'UPDATE_COMPLETE':
        raise svc.BenchError('stack %s: %s: %s' % (run['name'], status,
                                                   reason))
    return t0, done
