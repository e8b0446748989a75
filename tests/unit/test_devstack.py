"""devstack/plugin.sh, phase by phase, in bash with devstack's real ini
helpers (tests/unit/devstack_fixtures/ini-config, vendored from DevStack)
and recording stubs for whatever would touch the machine
(devstack_fixtures/stubs.sh): packages, pip, systemd, alternatives.

Each phase runs in a fresh ``bash`` that sources the stubs, ini-config,
devstack/settings and then ``devstack/plugin.sh <phase>``, with errexit on
as in stack.sh. heat.conf is a temporary file shaped like the one Heat's
post-config writes, with another plugin's directory in plugin_dirs.
"""

import configparser
import os
import shutil
import signal
import socket
import socketserver
import stat
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEVSTACK = os.path.join(REPO, 'devstack')
FIXTURES = os.path.join(HERE, 'devstack_fixtures')
SHIM_DIR = os.path.join(REPO, 'heat_softorch', 'engine', 'plugin_dir')
OTHER_PLUGIN_DIR = '/opt/stack/data/heat/plugins'
HEAT_DEFAULT_DIRS = ['/usr/lib64/heat', '/usr/lib/heat',
                     '/usr/local/lib/heat', '/usr/local/lib64/heat']
SERVICE_HOST = '192.0.2.10'

HEAT_CONF = """\
[DEFAULT]
debug = True
plugin_dirs = {plugin_dirs}
num_engine_workers = 2

[database]
connection = mysql+pymysql://root:secret@127.0.0.1/heat?charset=utf8

[cache]
enabled = True
"""

# What Debian's zookeeper package ships in /etc/zookeeper/conf_example,
# reduced to what the packaged service reads.
CONF_EXAMPLE = {
    'environment': (
        'ZOOMAIN=org.apache.zookeeper.server.quorum.QuorumPeerMain\n'
        'ZOOCFG=/etc/zookeeper/conf/zoo.cfg\n'
        'ZOO_LOG_DIR=/var/log/zookeeper\n'
        'JAVA=/usr/bin/java\n'
        'CLASSPATH="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"\n'),
    'log4j.properties': 'zookeeper.root.logger=INFO, CONSOLE\n',
    'zoo.cfg': 'tickTime=2000\ndataDir=/var/lib/zookeeper\nclientPort=2181\n',
    'myid': 'replace this text with the cluster-unique zookeeper\'s '
            'instance id (1-255)\n',
}


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class _FourLetterWords(socketserver.BaseRequestHandler):
    def handle(self):
        if self.request.recv(4) == b'ruok':
            self.request.sendall(b'imok')


@pytest.fixture(scope='module')
def fake_zookeeper():
    """A port that answers ZooKeeper's ``ruok`` like a running server."""
    server = socketserver.ThreadingTCPServer(('127.0.0.1', 0),
                                             _FourLetterWords)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


class Devstack:
    """A temporary devstack-like host: DATA_DIR, /etc/heat/heat.conf,
    /etc/zookeeper; runs plugin.sh phases and reads what they did."""

    def __init__(self, root, zk_port):
        self.root = root
        self.data_dir = os.path.join(root, 'data')
        self.etc_zk = os.path.join(root, 'etc', 'zookeeper')
        self.heat_conf = os.path.join(root, 'etc', 'heat', 'heat.conf')
        self.calls_file = os.path.join(root, 'calls')
        self.conf_dir = os.path.join(self.etc_zk, 'conf_softorch')
        self.zk_data_dir = os.path.join(self.data_dir, 'softorch',
                                        'zookeeper')
        os.makedirs(self.data_dir)
        os.makedirs(os.path.dirname(self.heat_conf))
        example = os.path.join(self.etc_zk, 'conf_example')
        os.makedirs(example)
        for name, text in CONF_EXAMPLE.items():
            with open(os.path.join(example, name), 'w') as f:
                f.write(text)
        self.write_heat_conf(OTHER_PLUGIN_DIR)
        # Commands the stubs must shadow: reaching these means a call
        # escaped the stubs and would have changed the machine.
        guard = os.path.join(root, 'guard-bin')
        os.makedirs(guard)
        for cmd in ('systemctl', 'update-alternatives', 'apt-get', 'pip',
                    'pip3', 'service', 'zkServer.sh'):
            path = os.path.join(guard, cmd)
            with open(path, 'w') as f:
                f.write('#!/bin/sh\necho "UNSTUBBED %s $*" >> "%s"\n'
                        'exit 99\n' % (cmd, self.calls_file))
            os.chmod(path, 0o755)
        self.env = {
            'PATH': guard + os.pathsep + os.environ.get('PATH', ''),
            'HOME': root,
            'LANG': 'C.UTF-8',
            'DEVSTACK_TEST_CALLS': self.calls_file,
            'TEST_PYTHON_PREFIX': os.path.dirname(sys.executable),
            # devstack's globals
            'DEST': os.path.join(root, 'opt-stack'),
            'DATA_DIR': self.data_dir,
            'SERVICE_HOST': SERVICE_HOST,
            'HEAT_CONF': self.heat_conf,
            'ENABLED_SERVICES': 'key,mysql,rabbit,h-eng,h-api,h-api-cfn',
            'DEVSTACK_PLUGINS': ',heat,heat-softorch',
            # where /etc/zookeeper would be; the user the service runs as
            'SOFTORCH_ZK_CONF_DIR': self.conf_dir,
            'SOFTORCH_ZK_CONF_LINK': os.path.join(self.etc_zk, 'conf'),
            'SOFTORCH_ZK_CONF_EXAMPLE_DIR': example,
            'SOFTORCH_ZK_USER': _run_text(['id', '-un']),
            'SOFTORCH_ZK_GROUP': _run_text(['id', '-gn']),
            'SOFTORCH_ZK_PORT': str(zk_port),
            'SOFTORCH_ZK_START_TIMEOUT': '10',
        }

    def write_heat_conf(self, plugin_dirs):
        with open(self.heat_conf, 'w') as f:
            f.write(HEAT_CONF.format(plugin_dirs=plugin_dirs))

    def run(self, *phases, env=None, check=True):
        """Source settings, then plugin.sh once per phase (each phase a
        tuple of arguments, or a string split on blanks), in one bash."""
        script = ['set -o errexit',
                  'source %s/stubs.sh' % FIXTURES,
                  'source %s/ini-config' % FIXTURES,
                  'source %s/settings' % DEVSTACK]
        for phase in phases:
            script.append('source %s/plugin.sh %s' % (DEVSTACK, phase))
        full_env = dict(self.env, **(env or {}))
        proc = subprocess.run(['bash', '-c', '\n'.join(script)],
                              env=full_env, cwd=self.root, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=120)
        if check and proc.returncode != 0:
            pytest.fail('plugin.sh %s failed (%d):\n%s\n%s' % (
                ', '.join(phases), proc.returncode, proc.stdout,
                proc.stderr[-6000:]))
        return proc

    def calls(self):
        if not os.path.exists(self.calls_file):
            return []
        with open(self.calls_file) as f:
            return f.read().splitlines()

    def reset_calls(self):
        if os.path.exists(self.calls_file):
            os.unlink(self.calls_file)

    def heat(self):
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(self.heat_conf)
        return cp

    def plugin_dirs(self):
        return [d.strip() for d in
                self.heat()['DEFAULT']['plugin_dirs'].split(',')]

    def zoo_cfg(self):
        cfg = {}
        with open(os.path.join(self.conf_dir, 'zoo.cfg')) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith('#'):
                    key, _, value = line.partition('=')
                    cfg[key] = value
        return cfg


def _run_text(cmd):
    return subprocess.run(cmd, check=True, text=True,
                          stdout=subprocess.PIPE).stdout.strip()


@pytest.fixture
def devstack(tmp_path, fake_zookeeper):
    return Devstack(str(tmp_path), fake_zookeeper)


def engine_extra_without_heat():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(REPO, 'setup.cfg'))
    reqs = [r.strip() for r in cfg['extras']['engine'].splitlines()
            if r.strip()]
    assert any(r.startswith('openstack-heat') for r in reqs)
    return [r for r in reqs if not r.startswith('openstack-heat')]


def unstubbed(calls):
    return [c for c in calls if c.startswith('UNSTUBBED')]


# pre-install: the order with Heat's plugin

def test_pre_install_accepts_heat_first(devstack):
    devstack.run('stack pre-install')
    assert not [c for c in devstack.calls() if c.startswith(('die', 'warn'))]


def test_pre_install_refuses_heat_after_us(devstack):
    proc = devstack.run('stack pre-install', check=False,
                        env={'DEVSTACK_PLUGINS': ',heat-softorch,heat'})
    assert proc.returncode != 0
    assert "'enable_plugin heat' must come before" in proc.stderr


def test_pre_install_refuses_without_heat(devstack):
    proc = devstack.run('stack pre-install', check=False,
                        env={'DEVSTACK_PLUGINS': ',heat-softorch'})
    assert proc.returncode != 0
    assert 'heat-softorch needs Heat' in proc.stderr


def test_disabled_service_does_nothing(devstack):
    devstack.run('stack install', 'stack post-config', 'unstack', 'clean',
                 env={'DISABLED_SERVICES': 'softorch'})
    assert devstack.calls() == []
    assert devstack.plugin_dirs() == [OTHER_PLUGIN_DIR]


# install

def test_install(devstack):
    devstack.run('stack install')
    calls = devstack.calls()
    assert 'install_package zookeeperd' in calls
    assert 'setup_develop %s' % REPO in calls
    pips = [c for c in calls if c.startswith('pip_install')]
    # the engine extra, but Heat stays devstack's own checkout
    assert pips == ['pip_install ' + ' '.join(engine_extra_without_heat())]
    assert 'networkx>=3.0' in pips[0].split()
    assert 'openstack-heat' not in ' '.join(calls)
    assert calls.index('install_package zookeeperd') < calls.index(
        'setup_develop %s' % REPO)
    assert not unstubbed(calls)


def test_install_external_zookeeper(devstack):
    devstack.run('stack install',
                 env={'SOFTORCH_MANAGE_ZOOKEEPER': 'False'})
    calls = devstack.calls()
    assert not [c for c in calls if c.startswith('install_package')]
    assert 'setup_develop %s' % REPO in calls


def test_install_refuses_non_debian(devstack):
    proc = devstack.run('stack install', check=False,
                        env={'TEST_IS_UBUNTU': 'False'})
    assert proc.returncode != 0
    assert 'SOFTORCH_MANAGE_ZOOKEEPER=False' in proc.stderr


# post-config: heat.conf

def test_post_config_appends_shim_keeping_other_dirs(devstack):
    devstack.run('stack post-config')
    assert devstack.plugin_dirs() == [OTHER_PLUGIN_DIR, SHIM_DIR]
    assert os.path.isfile(os.path.join(SHIM_DIR, 'heat_softorch_resources.py'))
    heat = devstack.heat()
    # Heat's other settings are untouched
    assert heat['DEFAULT']['debug'] == 'True'
    assert heat['DEFAULT']['num_engine_workers'] == '2'
    assert heat['database']['connection'].startswith('mysql+pymysql://')
    assert heat['cache']['enabled'] == 'True'


def test_post_config_twice_adds_shim_once(devstack):
    devstack.run('stack post-config')
    first = open(devstack.heat_conf).read()
    devstack.run('stack post-config')
    assert open(devstack.heat_conf).read() == first
    dirs = devstack.plugin_dirs()
    assert dirs == [OTHER_PLUGIN_DIR, SHIM_DIR]
    assert dirs.count(SHIM_DIR) == 1


def test_post_config_twice_in_one_shell(devstack):
    devstack.run('stack post-config', 'stack post-config')
    assert devstack.plugin_dirs() == [OTHER_PLUGIN_DIR, SHIM_DIR]


def test_post_config_keeps_several_other_dirs(devstack):
    devstack.write_heat_conf('/srv/a, /srv/b/,%s/' % SHIM_DIR)
    devstack.run('stack post-config')
    # already there (with a trailing slash): left exactly as it was
    assert devstack.heat()['DEFAULT']['plugin_dirs'] == \
        '/srv/a, /srv/b/,%s/' % SHIM_DIR


def test_post_config_appends_after_several_other_dirs(devstack):
    devstack.write_heat_conf(' /srv/a , /srv/b/')
    devstack.run('stack post-config')
    assert devstack.plugin_dirs() == ['/srv/a', '/srv/b/', SHIM_DIR]


def test_post_config_empty_plugin_dirs_starts_from_heat_defaults(devstack):
    devstack.write_heat_conf('')
    devstack.run('stack post-config')
    assert devstack.plugin_dirs() == HEAT_DEFAULT_DIRS + [SHIM_DIR]


def test_post_config_without_plugin_dirs_starts_from_heat_defaults(devstack):
    with open(devstack.heat_conf, 'w') as f:
        f.write('[DEFAULT]\ndebug = True\n')
    devstack.run('stack post-config')
    assert devstack.plugin_dirs() == HEAT_DEFAULT_DIRS + [SHIM_DIR]
    assert devstack.heat()['DEFAULT']['debug'] == 'True'


def test_post_config_softorch_options(devstack):
    port = devstack.env['SOFTORCH_ZK_PORT']
    devstack.run('stack post-config')
    so = devstack.heat()['softorch']
    assert so['zookeeper_hosts'] == '%s:%s' % (SERVICE_HOST, port)
    assert so['agent_zookeeper_hosts'] == '%s:%s' % (SERVICE_HOST, port)
    assert so['root_path'] == '/softorch'
    assert so['engine_user'] == 'softorch-engine'
    assert so['agent_install'] == 'pip'
    assert len(so['engine_password']) == 32
    # optional options keep heat-softorch's defaults
    for opt in ('agent_package', 'agent_pip_index', 'agent_command',
                'enable_local_servers', 'local_server_dir',
                'connect_timeout'):
        assert opt not in so
    # the password stays out of the trace
    proc = devstack.run('stack post-config')
    assert so['engine_password'] not in proc.stdout + proc.stderr


def test_post_config_password_generated_once(devstack):
    devstack.run('stack post-config')
    password = devstack.heat()['softorch']['engine_password']
    pw_file = os.path.join(devstack.data_dir, 'softorch', 'engine_password')
    assert stat.S_IMODE(os.stat(pw_file).st_mode) == 0o600
    # Heat's post-config rewrites heat.conf on every stack.sh
    devstack.write_heat_conf(OTHER_PLUGIN_DIR)
    devstack.run('stack post-config')
    assert devstack.heat()['softorch']['engine_password'] == password


def test_post_config_explicit_settings(devstack):
    devstack.run('stack post-config', env={
        'SOFTORCH_ENGINE_PASSWORD': 'sekrit',
        'SOFTORCH_ZK_HOSTS': '127.0.0.1:2181',
        'SOFTORCH_AGENT_ZK_HOSTS': '172.24.4.1:2181,172.24.4.2:2181',
        'SOFTORCH_ROOT_PATH': '/so-dev',
        'SOFTORCH_AGENT_INSTALL': 'preinstalled',
        'SOFTORCH_AGENT_COMMAND': '/usr/local/bin/softorch',
        'SOFTORCH_AGENT_PIP_INDEX': 'http://192.0.2.10/simple',
        'SOFTORCH_CONNECT_TIMEOUT': '20',
        'SOFTORCH_ENABLE_LOCAL_SERVERS': 'True',
    })
    so = devstack.heat()['softorch']
    assert so['engine_password'] == 'sekrit'
    assert so['zookeeper_hosts'] == '127.0.0.1:2181'
    assert so['agent_zookeeper_hosts'] == '172.24.4.1:2181,172.24.4.2:2181'
    assert so['root_path'] == '/so-dev'
    assert so['agent_install'] == 'preinstalled'
    assert so['agent_command'] == '/usr/local/bin/softorch'
    assert so['agent_pip_index'] == 'http://192.0.2.10/simple'
    assert so['connect_timeout'] == '20'
    assert so['enable_local_servers'] == 'True'
    servers = os.path.join(devstack.data_dir, 'softorch', 'servers')
    assert so['local_server_dir'] == servers
    assert os.path.isdir(servers)
    assert not os.path.exists(os.path.join(devstack.data_dir, 'softorch',
                                           'engine_password'))


def test_post_config_without_heat_conf_fails(devstack):
    os.unlink(devstack.heat_conf)
    proc = devstack.run('stack post-config', check=False)
    assert proc.returncode != 0
    assert 'no %s' % devstack.heat_conf in proc.stderr


# post-config: ZooKeeper

def test_post_config_zookeeper(devstack):
    devstack.run('stack post-config')
    port = devstack.env['SOFTORCH_ZK_PORT']
    cfg = devstack.zoo_cfg()
    assert cfg['dataDir'] == devstack.zk_data_dir
    assert cfg['clientPort'] == port
    assert 'clientPortAddress' not in cfg      # agents in VMs connect
    assert cfg['admin.enableServer'] == 'false'
    assert 'ruok' in cfg['4lw.commands.whitelist'].split(',')
    assert cfg['maxClientCnxns'] == '0'
    assert os.path.isdir(devstack.zk_data_dir)
    assert stat.S_IMODE(os.stat(devstack.zk_data_dir).st_mode) == 0o750
    # the package's other files came along; myid is a number
    with open(os.path.join(devstack.conf_dir, 'environment')) as f:
        assert f.read() == CONF_EXAMPLE['environment']
    with open(os.path.join(devstack.conf_dir, 'myid')) as f:
        assert f.read().strip() == '1'

    calls = devstack.calls()
    link = devstack.env['SOFTORCH_ZK_CONF_LINK']
    install_alt = 'update-alternatives --install %s zookeeper-conf %s 50' % (
        link, devstack.conf_dir)
    set_alt = 'update-alternatives --set zookeeper-conf %s' % devstack.conf_dir
    assert install_alt in calls and set_alt in calls
    assert 'sudo ' + install_alt in calls
    # the service is restarted with our configuration in place, once
    assert calls.count('restart_service zookeeper') == 1
    assert calls.index(set_alt) < calls.index('restart_service zookeeper')
    assert not unstubbed(calls)


def test_post_config_bind_address(devstack):
    devstack.run('stack post-config',
                 env={'SOFTORCH_ZK_BIND_ADDRESS': '127.0.0.1'})
    assert devstack.zoo_cfg()['clientPortAddress'] == '127.0.0.1'


def test_post_config_fails_when_zookeeper_does_not_answer(devstack):
    proc = devstack.run('stack post-config', check=False, env={
        'SOFTORCH_ZK_PORT': str(free_port()),
        'SOFTORCH_ZK_START_TIMEOUT': '1'})
    assert proc.returncode != 0
    assert 'ZooKeeper does not answer' in proc.stderr


def test_post_config_external_zookeeper(devstack):
    devstack.run('stack post-config', env={
        'SOFTORCH_MANAGE_ZOOKEEPER': 'False',
        'SOFTORCH_ZK_HOSTS': 'zk1:2181,zk2:2181'})
    calls = devstack.calls()
    assert not [c for c in calls if 'zookeeper' in c]
    assert not os.path.exists(devstack.conf_dir)
    assert devstack.heat()['softorch']['zookeeper_hosts'] == \
        'zk1:2181,zk2:2181'
    assert devstack.plugin_dirs() == [OTHER_PLUGIN_DIR, SHIM_DIR]


def test_extra_and_test_config_do_nothing(devstack):
    devstack.run('stack extra', 'stack test-config')
    assert devstack.calls() == []


# unstack and clean

def test_unstack_stops_zookeeper(devstack):
    devstack.run('unstack')
    assert 'stop_service zookeeper' in devstack.calls()


def test_unstack_before_install(devstack):
    devstack.run('unstack', env={'TEST_PACKAGE_INSTALLED': 'False'})
    assert not [c for c in devstack.calls() if c.startswith('stop_service')]


def test_clean_wipes_data_dir(devstack):
    devstack.run('stack post-config')
    snapshot = os.path.join(devstack.zk_data_dir, 'version-2', 'snapshot.0')
    os.makedirs(os.path.dirname(snapshot))
    open(snapshot, 'w').close()
    devstack.reset_calls()
    devstack.run('unstack')
    devstack.run('clean')
    assert not os.path.exists(devstack.zk_data_dir)
    assert not os.path.exists(os.path.join(devstack.data_dir, 'softorch'))
    assert not os.path.exists(devstack.conf_dir)
    calls = devstack.calls()
    assert 'update-alternatives --remove zookeeper-conf %s' % \
        devstack.conf_dir in calls
    # devstack's clean.sh runs unstack first
    assert calls.index('stop_service zookeeper') < calls.index(
        'update-alternatives --remove zookeeper-conf %s' % devstack.conf_dir)
    # heat.conf is Heat's to clean
    assert os.path.exists(devstack.heat_conf)


def test_clean_keeps_data_dir_elsewhere_with_external_zookeeper(devstack):
    devstack.run('stack post-config')
    devstack.run('clean', env={'SOFTORCH_MANAGE_ZOOKEEPER': 'False'})
    # our state directory goes; the ZooKeeper we did not manage is left alone
    assert not os.path.exists(os.path.join(devstack.data_dir, 'softorch'))
    assert not [c for c in devstack.calls()
                if c.startswith('update-alternatives --remove')]


def test_whole_stack_in_one_shell(devstack):
    """stack.sh sources every phase into one shell, errexit on."""
    devstack.run('stack pre-install', 'stack install', 'stack post-config',
                 'stack extra', 'stack test-config')
    assert devstack.plugin_dirs() == [OTHER_PLUGIN_DIR, SHIM_DIR]
    assert not unstubbed(devstack.calls())


# The packaged service, as far as this machine allows: the configuration
# written by post-config, with the package's real environment file, run the
# way the zookeeperd init script runs it.

ZK_JAR = '/usr/share/java/zookeeper.jar'
CONF_EXAMPLE_DIR = '/etc/zookeeper/conf_example'

RESTART_HOOK = r'''
# As /etc/init.d/zookeeper (zookeeperd) starts the server, with the
# environment file post-config copied into our configuration directory.
. "$SOFTORCH_ZK_CONF_DIR/environment"
mkdir -p "$TEST_ZK_LOG_DIR"
nohup "$JAVA" -cp "$SOFTORCH_ZK_CONF_DIR:$CLASSPATH" $JAVA_OPTS \
    -Dzookeeper.log.dir="$TEST_ZK_LOG_DIR" \
    "$ZOOMAIN" "$SOFTORCH_ZK_CONF_DIR/zoo.cfg" \
    > "$TEST_ZK_LOG_DIR/zk.out" 2>&1 < /dev/null &
echo $! > "$TEST_ZK_PIDFILE"
'''


@pytest.mark.skipif(not (os.path.exists(ZK_JAR)
                         and os.path.isdir(CONF_EXAMPLE_DIR)
                         and shutil.which('java')),
                    reason="Debian's zookeeper package is not installed")
def test_post_config_starts_a_real_zookeeper(devstack, tmp_path):
    hook = tmp_path / 'restart-hook.sh'
    hook.write_text(RESTART_HOOK)
    pidfile = tmp_path / 'zk.pid'
    port = free_port()
    try:
        devstack.run('stack post-config', env={
            'SOFTORCH_ZK_CONF_EXAMPLE_DIR': CONF_EXAMPLE_DIR,
            'SOFTORCH_ZK_PORT': str(port),
            'SOFTORCH_ZK_BIND_ADDRESS': '127.0.0.1',
            'SOFTORCH_ZK_START_TIMEOUT': '60',
            'TEST_RESTART_HOOK': str(hook),
            'TEST_ZK_LOG_DIR': str(tmp_path / 'zk-log'),
            'TEST_ZK_PIDFILE': str(pidfile),
        })
        # ZooKeeper took our data directory
        assert os.path.isdir(os.path.join(devstack.zk_data_dir, 'version-2'))
        with socket.create_connection(('127.0.0.1', port), timeout=5) as s:
            s.sendall(b'srvr')
            reply = s.recv(4096).decode()
        assert 'Mode: standalone' in reply
        assert devstack.heat()['softorch']['zookeeper_hosts'] == \
            '%s:%d' % (SERVICE_HOST, port)
    finally:
        if pidfile.exists():
            pid = int(pidfile.read_text())
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# Lint

@pytest.mark.skipif(not shutil.which('shellcheck'),
                    reason='shellcheck is not installed')
def test_shellcheck():
    proc = subprocess.run(
        ['shellcheck', os.path.join(DEVSTACK, 'plugin.sh'),
         os.path.join(DEVSTACK, 'settings'),
         os.path.join(FIXTURES, 'stubs.sh')],
        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.returncode == 0, proc.stdout
