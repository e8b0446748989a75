"""The real services the benchmarks run against, all private to one run
directory, on free loopback ports, and all stopped at the end.

- ZooKeeper: tools/zookeeper.sh
- MariaDB: tools/mariadb.sh (Heat's convergence engine needs concurrent
  writers)
- Heat: tools/heat_allinone.py (through benchmarks/heat_allinone.py, which
  fixes Heat's per-stack thread list for stacks over ~500 resources), API +
  engine + convergence worker in one process (``transport_url = fake://``),
  with the plugin's shim in ``plugin_dirs`` and LocalServers enabled;
  agents run from the agent-only virtual environment, exactly as the
  functional tests do.

Every process started here carries ``SOFTORCH_RUN_DIR=<run dir>`` in its
environment (LocalServers and their agents inherit it). ``Services.stop``
stops each service through its own script or pidfile, then kills whatever
still carries that marker: nothing else is ever signalled, and nothing is
killed by name.
"""

import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

from heat_softorch.fabric import acls
from heat_softorch.fabric import connection
from heat_softorch.fabric import ensemble

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(REPO, 'tools')
MARKER = 'SOFTORCH_RUN_DIR'
ENGINE_PASSWORD = 'bench-engine-secret'
ZK_ROOT = '/softorch'


class BenchError(Exception):
    """A benchmark cannot go on; the message says why."""


def log(msg, *args):
    text = msg % args if args else msg
    print('[%s] %s' % (time.strftime('%H:%M:%S'), text), flush=True)


def wait_for(predicate, timeout, what, interval=0.05):
    """Poll until predicate() is truthy; BenchError naming ``what`` after
    ``timeout`` seconds. Every wait of the suite goes through here."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError('timed out after %.0f s waiting for %s'
                             % (timeout, what))
        time.sleep(interval)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_status(pid, field):
    """A /proc/<pid>/status field in kB (VmHWM, VmRSS), or None."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def reset_peak_rss(pid):
    """Reset VmHWM to the current RSS (Linux >= 4.0: clear_refs 5), so
    that the next reading is this phase's peak. False if not allowed."""
    try:
        with open('/proc/%d/clear_refs' % pid, 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def marked_processes(run_dir):
    """Pids of live processes carrying our marker, except this one."""
    me = os.getpid()
    want = ('%s=%s' % (MARKER, run_dir)).encode()
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open('/proc/%s/environ' % entry, 'rb') as f:
                env = f.read().split(b'\0')
            with open('/proc/%s/stat' % entry) as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if want in env and state != 'Z':
            found.append(int(entry))
    return found


def kill_marked(run_dir, what='left over'):
    pids = marked_processes(run_dir)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if pids:
        log('killed %d process(es) %s carrying %s=%s', len(pids), what,
            MARKER, run_dir)
    return pids


class Services(object):
    """ZooKeeper, MariaDB and Heat under ``run_dir``; ``stop()`` ends them
    all, whatever state they are in."""

    def __init__(self, run_dir, agent_venv):
        self.run_dir = os.path.abspath(run_dir)
        self.agent_venv = os.path.abspath(agent_venv)
        self.env = dict(os.environ, **{MARKER: self.run_dir})
        self.zk = None
        self.db_url = None
        self.heat = None
        self._started = []

    # -- lifecycle -------------------------------------------------------

    def start(self, heat_extra=None, heat=True):
        leftovers = marked_processes(self.run_dir)
        if leftovers:
            # Only a previous run of this suite in this directory can
            # carry this marker.
            kill_marked(self.run_dir, 'from a previous benchmark run')
        subprocess.run([os.path.join(TOOLS, 'mariadb.sh'), 'stop',
                        os.path.join(self.run_dir, 'mysql')], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(['rm', '-rf', self.run_dir], check=True)
        os.makedirs(self.run_dir)
        t = time.monotonic()
        plaintext = os.environ.get('BENCH_ZK_PLAINTEXT') not in (None, '',
                                                                 '0')
        self.zk = self._script('zookeeper.sh', 'zk', {
            'ZK_SUPER': acls.credential('softorch-engine', ENGINE_PASSWORD),
            'ZK_PLAINTEXT': '1' if plaintext else ''})
        self.tls = None if plaintext else connection.TLS(
            os.path.join(self.run_dir, 'zk', 'tls', 'ca.pem'))
        log('ZooKeeper on %s%s (%.1f s)', self.zk,
            '' if plaintext else ' over TLS', time.monotonic() - t)
        if not heat:
            return
        t = time.monotonic()
        self._script('mariadb.sh', 'mysql')
        with open(os.path.join(self.run_dir, 'mysql', 'url')) as f:
            self.db_url = f.read().strip()
        log('MariaDB up (%.1f s)', time.monotonic() - t)
        t = time.monotonic()
        self.heat = HeatProcess(self, heat_extra or {})
        log('Heat all-in-one up on %s (%.1f s)', self.heat.endpoint,
            time.monotonic() - t)

    def connect(self, credential=None):
        """A kazoo client of the benchmark's ZooKeeper (TLS unless
        BENCH_ZK_PLAINTEXT), as ``credential`` (default: the engine)."""
        return connection.connect(
            self.zk, credential or acls.credential('softorch-engine',
                                                   ENGINE_PASSWORD),
            tls=self.tls)

    def four(self, word):
        """A four-letter command's answer (srvr, mntr)."""
        host, port = self.zk.split(',')[0].rsplit(':', 1)
        return ensemble.four_letter(host, port, word, self.tls)

    def _script(self, name, sub, env=None):
        d = os.path.join(self.run_dir, sub)
        self._started.append((name, d))
        try:
            out = subprocess.run(
                [os.path.join(TOOLS, name), 'start', d],
                env=dict(self.env, **(env or {})),
                check=True, text=True, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, timeout=180).stdout
        except subprocess.CalledProcessError as exc:
            raise BenchError('%s start failed: %s'
                             % (name, exc.stderr[-2000:]))
        except subprocess.TimeoutExpired:
            raise BenchError('%s start did not finish in 180 s' % name)
        return out.strip().splitlines()[-1]

    def stop(self):
        errors = []
        if self.heat is not None:
            try:
                self.heat.stop()
            except Exception as exc:  # noqa: go on stopping the rest
                errors.append('heat: %s' % exc)
        for name, d in reversed(self._started):
            r = subprocess.run([os.path.join(TOOLS, name), 'stop', d],
                               env=self.env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
            if r.returncode:
                errors.append('%s stop: %s' % (name, r.stderr[-500:]))
        self._started = []
        left = kill_marked(self.run_dir, 'still running at the end')
        if errors:
            log('while stopping: %s', '; '.join(errors))
        return not left and not errors

    # -- agents for fabric-level benchmarks ------------------------------

    def agent_command(self):
        cmd = os.path.join(self.agent_venv, 'bin', 'softorch')
        if not os.access(cmd, os.X_OK):
            raise BenchError('no agent command %s: run make agent-venv'
                             % cmd)
        return cmd


class HeatProcess(object):
    """tools/heat_allinone.py with the plugin, convergence on MariaDB."""

    def __init__(self, services, extra):
        self.services = services
        self.dir = os.path.join(services.run_dir, 'heat')
        self.servers_dir = os.path.join(self.dir, 'servers')
        os.makedirs(self.servers_dir)
        self.log_dir = os.path.join(self.dir, 'log')
        self.conf = self._write_conf(extra)
        bindir = os.path.dirname(sys.executable)
        try:
            subprocess.run([os.path.join(bindir, 'heat-manage'),
                            '--config-file', self.conf, 'db_sync'],
                           check=True, capture_output=True, text=True,
                           env=services.env, timeout=300)
        except subprocess.CalledProcessError as exc:
            raise BenchError('heat-manage db_sync failed: %s'
                             % exc.stderr[-2000:])
        port = free_port()
        self.out = open(os.path.join(self.dir, 'heat.out'), 'w')
        # UTC: the engine log's timestamps are then read without guessing
        # the time zone.
        env = dict(services.env, TZ='UTC')
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(REPO, 'benchmarks',
                                          'heat_allinone.py'),
             '--config-file', self.conf, '--port', str(port)],
            stdout=self.out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        self.pid = self.proc.pid
        self.endpoint = 'http://127.0.0.1:%d/v1/admin' % port
        from heatclient import client as heat_client
        self.client = heat_client.Client('1', endpoint=self.endpoint,
                                         token='noauth')
        wait_for(self._ready, 180, 'Heat to answer on %s' % self.endpoint,
                 interval=0.2)

    def _write_conf(self, extra):
        venv_etc = os.path.join(sys.prefix, 'etc', 'heat')
        import heat_softorch.engine
        plugin_dir = os.path.join(os.path.dirname(
            heat_softorch.engine.__file__), 'plugin_dir')
        sections = {
            'DEFAULT': {
                'debug': 'false', 'log_dir': self.log_dir,
                'host': 'softorch-bench', 'transport_url': 'fake://',
                'deferred_auth_method': 'password',
                'plugin_dirs': plugin_dir,
                'environment_dir': os.path.join(venv_etc, 'environment.d'),
                'template_dir': os.path.join(venv_etc, 'templates'),
                'convergence_engine': 'true',
                # oslo.messaging's default, what a heat-engine runs with
                # unless told otherwise (the functional tests use 8 to
                # prove that a small pool does not deadlock).
                'executor_thread_pool_size': '64',
                'max_resources_per_stack': '-1',
            },
            # A pool as large as the thread pool: with oslo.db's default
            # of 5, most checks open a new connection (and PyMySQL builds
            # an SSL context for each, ~20 ms of CPU), which the profile
            # of the 30-chain showed as a fifth of the engine's time.
            'database': {'connection': self.services.db_url,
                         'max_pool_size': '64', 'max_overflow': '16'},
            'paste_deploy': {'flavor': 'noauth', 'api_paste_config':
                             os.path.join(venv_etc, 'api-paste.ini')},
            'oslo_messaging_notifications': {'driver': 'noop'},
            'oslo_policy': {'enforce_new_defaults': 'false',
                            'enforce_scope': 'false'},
            'softorch': {
                'zookeeper_hosts': self.services.zk,
                'zookeeper_ca_file': (self.services.tls.ca
                                      if self.services.tls else ''),
                'zookeeper_plaintext': str(self.services.tls is None),
                'engine_password': ENGINE_PASSWORD,
                'root_path': ZK_ROOT, 'enable_local_servers': 'true',
                'agent_install': 'local',
                'agent_command': self.services.agent_command(),
                'local_server_dir': self.servers_dir,
                'agent_grace_period': '30', 'check_slice': '1.0',
            },
        }
        for section, values in extra.items():
            sections.setdefault(section, {}).update(values)
        os.makedirs(self.log_dir, exist_ok=True)
        path = os.path.join(self.dir, 'heat.conf')
        with open(path, 'w') as f:
            for section, values in sections.items():
                f.write('[%s]\n' % section)
                for k, v in values.items():
                    f.write('%s = %s\n' % (k, v))
        self.settings = sections
        return path

    def _ready(self):
        if self.proc.poll() is not None:
            with open(os.path.join(self.dir, 'heat.out')) as f:
                raise BenchError('Heat died: %s' % f.read()[-3000:])
        try:
            self.client.build_info.build_info()
            return True
        except Exception:  # noqa: not up yet
            return False

    def alive(self):
        return self.proc.poll() is None

    @property
    def log_path(self):
        return os.path.join(self.log_dir, 'heat_allinone.py.log')

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.out.close()
        # LocalServers outlive the engine: stop every one left behind.
        for d in os.listdir(self.servers_dir):
            kill_server(os.path.join(self.servers_dir, d))

    # -- stacks ----------------------------------------------------------

    def create(self, name, template, env=None):
        """POST the stack; (stack id, the POST's start as epoch seconds)."""
        t0 = time.time()
        body = self.client.stacks.create(
            stack_name=name, template=template, files={},
            environment=env or {}, disable_rollback=True, timeout_mins=60)
        return body['stack']['id'], t0

    def wait(self, sid, action, timeout):
        """Wait for <action>_IN_PROGRESS to end; (status, reason)."""
        from heatclient import exc as heat_exc

        def done():
            if not self.alive():
                raise BenchError('Heat died; see %s' % self.log_path)
            try:
                s = self.client.stacks.get(sid, resolve_outputs=False)
            except heat_exc.HTTPNotFound:
                return ('%s_COMPLETE' % action, 'gone')
            if s.stack_status == '%s_IN_PROGRESS' % action:
                return None
            return (s.stack_status, s.stack_status_reason)
        return wait_for(done, timeout, 'stack %s %s' % (sid, action),
                        interval=0.25)

    def wait_logged(self, name, sid, action, timeout):
        """wait() for a stack that may be large: follow the engine log for
        its 'Stack <action> COMPLETE|FAILED (<name>)' line and ask the API
        only then. Each GET of a stack loads all its resources in the
        engine: polling a 1,200-resource stack took a fifth of the CPU of
        the engine it measures."""
        done = re.compile(r'Stack %s (COMPLETE|FAILED) \(%s\)' % (
            action, re.escape(name)))
        with open(self.log_path, errors='replace') as f:
            partial = ['']

            def logged():
                if not self.alive():
                    raise BenchError('Heat died; see %s' % self.log_path)
                while True:
                    line = f.readline()
                    if not line:
                        return False
                    if not line.endswith('\n'):
                        partial[0] += line  # the rest is not written yet
                        continue
                    line, partial[0] = partial[0] + line, ''
                    if done.search(line):
                        return True
            wait_for(logged, timeout, 'stack %s %s' % (name, action),
                     interval=0.1)
        return self.wait(sid, action, 60)

    def servers_of(self, sid):
        """Working directories of the LocalServers of stack ``sid``."""
        return [os.path.join(self.servers_dir, d)
                for d in sorted(os.listdir(self.servers_dir))
                if d.startswith(sid + '-')]

    def state_logged(self, name, action='CREATE', status='COMPLETE'):
        """Epoch seconds (ms) of the engine's 'Stack <action> <status>
        (<name>)' log line (heat.engine.stack.Stack._log_status, called by
        state_set right before the state is persisted), or None."""
        return log_times(self.log_path, r'Stack %s %s \(%s\)' % (
            action, status, re.escape(name))).get(0)


LOG_LINE = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3}) ')


def log_times(path, pattern):
    """{index: epoch seconds} of the log lines matching ``pattern``."""
    rx = re.compile(pattern)
    found = {}
    try:
        with open(path, errors='replace') as f:
            for line in f:
                if rx.search(line):
                    m = LOG_LINE.match(line)
                    if m:
                        dt = datetime.datetime.strptime(
                            m.group(1), '%Y-%m-%d %H:%M:%S').replace(
                                tzinfo=datetime.timezone.utc)
                        found[len(found)] = dt.timestamp() + int(
                            m.group(2)) / 1000.0
    except FileNotFoundError:
        pass
    return found


def server_pid(workdir):
    try:
        with open(os.path.join(workdir, 'server.pid')) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def kill_server(workdir):
    """Stop a LocalServer's agent (it is its own process group leader:
    the server runs in a new session and exec's the agent)."""
    pid = server_pid(workdir)
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def dump(obj):
    return json.dumps(obj, indent=1, default=str)
