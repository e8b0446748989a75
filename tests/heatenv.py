"""Heat's real engine with the plugin, for tests: API, engine and worker in
one process (tools/heat_allinone.py), under the convergence engine or the
legacy engine (each with a database of a private MariaDB), driven through
python-heatclient. LocalServer agents run from the agent-only venv."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

from heatclient import client as heat_client
from heatclient import exc as heat_exc
from heatclient.common import template_utils

from heat_softorch.fabric import acls
from heat_softorch.fabric import connection
from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import records
from tests import fabricenv

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATES = os.path.join(REPO, 'tests', 'templates')
ENGINE_PASSWORD = fabricenv.ENGINE[1]
ROOT = '/softorch'
GRACE = 6
# Small enough for the hostile tests to exceed in one write.
MAX_OUTPUTS_BYTES = 65536


def _free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def plugin_dir():
    import heat_softorch.engine
    return os.path.join(os.path.dirname(heat_softorch.engine.__file__),
                        'plugin_dir')


def agent_command():
    return fabricenv.softorch_command()[0] if os.environ.get(
        'SOFTORCH_AGENT_VENV') else os.path.join(os.path.dirname(
            sys.executable), 'softorch')


def heat_conf(run_dir, db_url, zk, convergence, extra=None):
    venv_etc = os.path.join(sys.prefix, 'etc', 'heat')
    servers = os.path.join(run_dir, 'servers')
    os.makedirs(servers, exist_ok=True)
    sections = {
        'DEFAULT': {
            'debug': 'false', 'log_dir': os.path.join(run_dir, 'log'),
            'host': 'softorch-test', 'transport_url': 'fake://',
            'deferred_auth_method': 'password',
            'plugin_dirs': plugin_dir(),
            'environment_dir': os.path.join(venv_etc, 'environment.d'),
            'template_dir': os.path.join(venv_etc, 'templates'),
            'convergence_engine': str(convergence).lower(),
            'executor_thread_pool_size': '8',
            'max_resources_per_stack': '-1',
        },
        'database': {'connection': db_url},
        'paste_deploy': {'flavor': 'noauth', 'api_paste_config':
                         os.path.join(venv_etc, 'api-paste.ini')},
        'oslo_messaging_notifications': {'driver': 'noop'},
        'oslo_policy': {'enforce_new_defaults': 'false',
                        'enforce_scope': 'false'},
        'softorch': {
            'zookeeper_hosts': zk, 'engine_password': ENGINE_PASSWORD,
            'root_path': ROOT, 'enable_local_servers': 'true',
            'agent_install': 'local', 'agent_command': agent_command(),
            'local_server_dir': servers,
            'agent_grace_period': str(GRACE), 'check_slice': '1.0',
            'max_outputs_bytes': str(MAX_OUTPUTS_BYTES),
        },
    }
    tls = fabricenv.tls_of(zk)
    if tls is None:
        sections['softorch']['zookeeper_plaintext'] = 'true'
    else:
        sections['softorch']['zookeeper_ca_file'] = tls.ca
    for section, values in (extra or {}).items():
        sections.setdefault(section, {}).update(values)
    os.makedirs(sections['DEFAULT']['log_dir'], exist_ok=True)
    path = os.path.join(run_dir, 'heat.conf')
    with open(path, 'w') as f:
        for section, values in sections.items():
            f.write('[%s]\n' % section)
            for k, v in values.items():
                f.write('%s = %s\n' % (k, v))
    return path


class Heat(object):
    """A running all-in-one Heat and a client for it."""

    def __init__(self, run_dir, zk, convergence, db_url, extra=None):
        """``extra``: {section: {option: value}} over heat_conf()'s."""
        self.run_dir = run_dir
        self.zk = zk
        self.convergence = convergence
        self.conf = heat_conf(run_dir, db_url, zk, convergence, extra)
        bindir = os.path.dirname(sys.executable)
        subprocess.run([os.path.join(bindir, 'heat-manage'), '--config-file',
                        self.conf, 'db_sync'], check=True,
                       capture_output=True)
        self.port = _free_port()
        self.endpoint = 'http://127.0.0.1:%d/v1/admin' % self.port
        self.client = heat_client.Client('1', endpoint=self.endpoint,
                                         token='noauth')
        self.log = open(os.path.join(run_dir, 'heat.out'), 'a')
        self.start_engine()
        self.zk_client = fabricenv.connect(zk, acls.credential(
            'softorch-engine', ENGINE_PASSWORD))

    def start_engine(self):
        """Start the all-in-one process (API and engine) and wait for it."""
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(REPO, 'tools', 'heat_allinone.py'),
             '--config-file', self.conf, '--port', str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT,
            env=dict(os.environ, SOFTORCH_RUN_DIR=self.run_dir))
        fabricenv.wait_for(self._ready, timeout=120, interval=0.2,
                           what='Heat to answer on %s' % self.endpoint)

    def crash_engine(self):
        """SIGKILL the engine, as a crashed heat-engine: what it ran stays
        IN_PROGRESS, and the LocalServers it started keep running."""
        self.proc.kill()
        self.proc.wait(20)

    def pause_engine(self):
        """SIGSTOP the engine (its API too): a heat-engine host that
        stalls. Its ZooKeeper session expires if it stays stopped longer
        than the session timeout."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume_engine(self):
        self.proc.send_signal(signal.SIGCONT)

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError('Heat died: %s' % open(
                os.path.join(self.run_dir, 'heat.out')).read()[-3000:])
        try:
            self.client.build_info.build_info()
            return True
        except Exception:  # noqa: not up yet
            return False

    def stop(self):
        connection.close(self.zk_client)
        self.proc.send_signal(signal.SIGCONT)  # a failed test may leave it
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        # LocalServers outlive the engine: stop every one left behind.
        servers = os.path.join(self.run_dir, 'servers')
        for d in os.listdir(servers):
            pidfile = os.path.join(servers, d, 'server.pid')
            if os.path.exists(pidfile):
                try:
                    os.killpg(int(open(pidfile).read()), signal.SIGKILL)
                except (OSError, ValueError):
                    pass

    # -- stacks -----------------------------------------------------------

    @staticmethod
    def _contents(template, env):
        if isinstance(template, str):
            files, tmpl = template_utils.get_template_contents(
                template_file=os.path.join(TEMPLATES, template))
        else:
            files, tmpl = {}, template
        env_body = {}
        if env:
            env_files, env_body = \
                template_utils.process_multiple_environments_and_files(
                    [os.path.join(TEMPLATES, env)])
            files.update(env_files)
        return dict(template=tmpl, files=files, environment=env_body)

    def create(self, name, template, params=None, env='env-local.yaml',
               wait=True, timeout=180):
        sid = self.client.stacks.create(
            stack_name=name, parameters=params or {}, disable_rollback=True,
            **self._contents(template, env))['stack']['id']
        if wait:
            return sid, self.wait(sid, 'CREATE', timeout)
        return sid, None

    def update(self, sid, template, params=None, env='env-local.yaml',
               timeout=180, rollback=False):
        before = self.client.stacks.get(sid).updated_time
        self.client.stacks.update(sid, parameters=params or {},
                                  disable_rollback=not rollback,
                                  **self._contents(template, env))
        fabricenv.wait_for(
            lambda: self.client.stacks.get(sid).updated_time != before,
            what='the update to start')
        state = self.wait(sid, 'UPDATE', timeout)
        if rollback and state[0] in ('UPDATE_FAILED',
                                     'ROLLBACK_IN_PROGRESS'):
            state = self.wait(sid, 'ROLLBACK', timeout)
        return state

    def delete(self, sid, timeout=180):
        self.client.stacks.delete(sid)
        return self.wait(sid, 'DELETE', timeout)

    def wait(self, sid, action, timeout=180):
        """Wait for the stack to leave <action>_IN_PROGRESS; its status."""
        def done():
            try:
                s = self.client.stacks.get(sid, resolve_outputs=False)
            except heat_exc.HTTPNotFound:
                return ('DELETE_COMPLETE', '')
            if s.stack_status == '%s_IN_PROGRESS' % action:
                return None
            return (s.stack_status, s.stack_status_reason)
        return fabricenv.wait_for(done, timeout, interval=0.2,
                                  what='stack %s' % action)

    def outputs(self, sid):
        return {o['output_key']: o['output_value']
                for o in self.client.stacks.get(sid).outputs}

    def resource(self, sid, name):
        return self.client.resources.get(sid, name)

    def events(self, sid):
        """Events in the order Heat stored them."""
        evs = self.client.events.list(sid, sort_dir='asc', limit=1000,
                                      nested_depth=0)
        return sorted(evs, key=lambda e: e.id if isinstance(e.id, int)
                      else e.event_time)

    def event_details(self, sid):
        return [self.client.events.get(sid, e.resource_name, e.id)
                for e in self.events(sid)]

    def stack_paths(self, sid):
        return zpaths.StackPaths(ROOT, sid)

    def status(self, sid, resource_name):
        """The component's status record from ZooKeeper."""
        rid = self.resource(sid, resource_name).physical_resource_id
        host, _, name = rid.partition('/')
        p = self.stack_paths(sid)
        raw, _ = self.zk_client.get(p.status(host, name))
        return records.decode(raw, p.status(host, name))

    def local_servers(self):
        d = os.path.join(self.run_dir, 'servers')
        return [os.path.join(d, x) for x in sorted(os.listdir(d))]


def two_vms():
    """Template resources: agents a and b, each booted by its server."""
    resources = {}
    for a in 'ab':
        resources['agent_' + a] = {'type': 'OS::SoftOrch::Agent'}
        resources['server_' + a] = {
            'type': 'OS::Nova::Server', 'properties': {
                'image': 'cirros', 'flavor': 'm1.tiny',
                'user_data_format': 'RAW',
                'user_data': {'get_attr': ['agent_' + a, 'user_data']}}}
    return resources


def read_runlog(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def dump(obj):
    return json.dumps(obj, indent=1, default=str)


_ = time
