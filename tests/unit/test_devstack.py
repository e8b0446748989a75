"""devstack/plugin.sh, phase by phase, in bash with devstack's real ini
helpers (tests/unit/devstack_fixtures/ini-config, vendored from DevStack)
and recording stubs for whatever would touch the machine
(devstack_fixtures/stubs.sh): packages, pip, systemd, alternatives.

Each phase runs in a fresh ``bash`` that sources the stubs, ini-config,
devstack/settings and then ``devstack/plugin.sh <phase>``, with errexit on
as in stack.sh. heat.conf is a temporary file shaped like the one Heat's
post-config writes, with another plugin's directory in plugin_dirs.
"""

import base64
import configparser
import hashlib
import os
import shutil
import signal
import socket
import socketserver
import ssl
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
HOST_IP = '192.0.2.11'
NETTY_JARS = ['netty-buffer', 'netty-codec', 'netty-common', 'netty-handler',
              'netty-resolver', 'netty-transport',
              'netty-transport-native-unix-common']

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
    """Answers ``ruok``, over TLS with the server certificate the plugin
    made (read at each connection, as ZooKeeper reads it at its restart)
    when the client opens with a TLS record."""

    def handle(self):
        sock = self.request
        try:
            if sock.recv(1, socket.MSG_PEEK) == b'\x16':
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.server.keystore)
                sock = ctx.wrap_socket(sock, server_side=True)
                mode = 'tls'
            else:
                mode = 'plain'
            if sock.recv(4) == b'ruok':
                sock.sendall(b'imok')
                self.server.answered.append(mode)
        except (OSError, ValueError):
            pass


class FakeZooKeeper(socketserver.ThreadingTCPServer):
    """A port that answers ZooKeeper's ``ruok`` like a running server;
    ``answered`` lists how ('tls' or 'plain')."""

    daemon_threads = True

    def __init__(self, keystore):
        super().__init__(('127.0.0.1', 0), _FourLetterWords)
        self.keystore = keystore
        self.answered = []
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


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
        self.tls_dir = os.path.join(self.data_dir, 'softorch', 'tls')
        # what heat.conf held when `softorch zookeeper lockdown` ran
        self.lockdown_saw = os.path.join(root, 'lockdown-saw.conf')
        os.makedirs(self.data_dir)
        # The Python heat-engine runs under (get_python_exec_prefix): this
        # test's, and a `softorch` that records its call instead of
        # connecting to ZooKeeper.
        prefix = os.path.join(root, 'python-bin')
        os.makedirs(prefix)
        _script(os.path.join(prefix, 'python3'),
                'exec %s "$@"\n' % sys.executable)
        _script(os.path.join(prefix, 'softorch'),
                'echo "softorch $*" >> "%s"\n'
                'if [ "$3" = --config-file ]; then cp "$4" "%s"; fi\n'
                'echo "locked /: the engine\'s identity alone"\n'
                'exit ${TEST_SOFTORCH_RC:-0}\n'
                % (self.calls_file, self.lockdown_saw))
        # /usr/share/java, with the Netty jars the plugin puts on the
        # classpath
        self.java_dir = os.path.join(root, 'usr-share-java')
        os.makedirs(self.java_dir)
        for jar in NETTY_JARS + ['netty-all', 'zookeeper']:
            open(os.path.join(self.java_dir, jar + '.jar'), 'w').close()
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
                    'pip3', 'service', 'zkServer.sh', 'dpkg-query'):
            _script(os.path.join(guard, cmd),
                    'echo "UNSTUBBED %s $*" >> "%s"\nexit 99\n'
                    % (cmd, self.calls_file))
        self.env = {
            'PATH': guard + os.pathsep + os.environ.get('PATH', ''),
            'HOME': root,
            'LANG': 'C.UTF-8',
            'DEVSTACK_TEST_CALLS': self.calls_file,
            'TEST_PYTHON_PREFIX': prefix,
            # devstack's globals
            'DEST': os.path.join(root, 'opt-stack'),
            'DATA_DIR': self.data_dir,
            'SERVICE_HOST': SERVICE_HOST,
            'HOST_IP': HOST_IP,
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
            'SOFTORCH_ZK_JAVA_DIR': self.java_dir,
            'SOFTORCH_ZK_DEFAULTS_FILE': os.path.join(root, 'etc', 'default',
                                                      'zookeeper'),
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

    def service_env(self):
        """CLASSPATH and JAVA_OPTS as the zookeeperd init script gets them:
        it sources the environment file of /etc/zookeeper/conf."""
        out = _run_text(['sh', '-c', '. "$1"; printf "%s\\n%s" '
                         '"$CLASSPATH" "$JAVA_OPTS"', 'sh',
                         os.path.join(self.conf_dir, 'environment')])
        classpath, java_opts = out.split('\n')
        return classpath.split(':'), java_opts.split()

    def tls(self, name):
        return os.path.join(self.tls_dir, name)

    def san(self):
        """The server certificate's subjectAltName entries, as openssl
        prints them ("IP Address:192.0.2.10", "DNS:localhost")."""
        text = _run_text(['openssl', 'x509', '-noout', '-ext',
                          'subjectAltName', '-in', self.tls('server.crt')])
        return [n.strip() for n in text.splitlines()[-1].split(',')]


def _script(path, body):
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n' + body)
    os.chmod(path, 0o755)


def _run_text(cmd):
    return subprocess.run(cmd, check=True, text=True,
                          stdout=subprocess.PIPE).stdout.strip()


def super_digest(user, password):
    """ZooKeeper's superDigest form: user:BASE64(SHA1(user:password))."""
    raw = hashlib.sha1(('%s:%s' % (user, password)).encode()).digest()
    return '%s:%s' % (user, base64.b64encode(raw).decode())


@pytest.fixture
def fake_zookeeper(tmp_path):
    server = FakeZooKeeper(os.path.join(str(tmp_path), 'data', 'softorch',
                                        'tls', 'server.pem'))
    yield server
    server.stop()


@pytest.fixture
def devstack(tmp_path, fake_zookeeper):
    return Devstack(str(tmp_path), fake_zookeeper.port)


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


def test_install_checks_the_zookeeper_version(devstack):
    devstack.run('stack install')
    assert 'dpkg-query -W -f=${Version} zookeeperd' in devstack.calls()
    # an epoch and a later upstream version pass
    devstack.run('stack install',
                 env={'TEST_ZK_PACKAGE_VERSION': '1:3.9.2-1ubuntu1'})


@pytest.mark.parametrize('version', ['3.4.13-6ubuntu4', '3.6.3-1', ''])
def test_install_refuses_an_old_zookeeper(devstack, version):
    # 3.4 has no TLS; before 3.7 enforce.auth and enforceQuota are unknown
    # and ignored
    proc = devstack.run('stack install', check=False,
                        env={'TEST_ZK_PACKAGE_VERSION': version})
    assert proc.returncode != 0
    if version:
        assert 'zookeeperd %s is older than 3.7' % version in proc.stderr
        assert 'SOFTORCH_MANAGE_ZOOKEEPER=False' in proc.stderr
    else:
        assert 'cannot tell the version of zookeeperd' in proc.stderr


def test_install_external_zookeeper(devstack):
    devstack.run('stack install',
                 env={'SOFTORCH_MANAGE_ZOOKEEPER': 'False'})
    calls = devstack.calls()
    assert not [c for c in calls if c.startswith('install_package')]
    assert not [c for c in calls if c.startswith('dpkg-query')]
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
    # the password, and the digest ZooKeeper gets, stay out of the trace
    proc = devstack.run('stack post-config')
    digest = super_digest('softorch-engine', so['engine_password'])
    assert so['engine_password'] not in proc.stdout + proc.stderr
    assert digest.split(':')[1] not in proc.stdout + proc.stderr


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

def test_post_config_zookeeper_serves_tls_only(devstack, fake_zookeeper):
    devstack.run('stack post-config')
    port = devstack.env['SOFTORCH_ZK_PORT']
    cfg = devstack.zoo_cfg()
    assert cfg['dataDir'] == devstack.zk_data_dir
    # TLS on the secure port, and no plaintext port at all
    assert cfg['secureClientPort'] == port
    assert 'clientPort' not in cfg
    assert 'secureClientPortAddress' not in cfg   # agents in VMs connect
    assert cfg['serverCnxnFactory'] == \
        'org.apache.zookeeper.server.NettyServerCnxnFactory'
    assert cfg['ssl.keyStore.location'] == devstack.tls('server.pem')
    assert cfg['ssl.keyStore.type'] == 'PEM'
    assert cfg['ssl.trustStore.location'] == devstack.tls('ca.pem')
    assert cfg['ssl.trustStore.type'] == 'PEM'
    assert cfg['ssl.clientAuth'] == 'none'
    assert cfg['admin.enableServer'] == 'false'
    assert 'ruok' in cfg['4lw.commands.whitelist'].split(',')
    assert cfg['maxClientCnxns'] == '0'
    assert os.path.isdir(devstack.zk_data_dir)
    assert stat.S_IMODE(os.stat(devstack.zk_data_dir).st_mode) == 0o750
    # the package's other files came along; myid is a number
    with open(os.path.join(devstack.conf_dir, 'log4j.properties')) as f:
        assert f.read() == CONF_EXAMPLE['log4j.properties']
    with open(os.path.join(devstack.conf_dir, 'myid')) as f:
        assert f.read().strip() == '1'
    # the readiness check spoke TLS, trusting the CA and checking the name
    assert fake_zookeeper.answered == ['tls']

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


def test_post_config_jvm_flags_and_classpath(devstack):
    devstack.run('stack post-config')
    password = devstack.heat()['softorch']['engine_password']
    classpath, java_opts = devstack.service_env()
    # the engine's identity is the super-user; sessions without a digest
    # credential are refused; hard quotas bind
    assert ('-Dzookeeper.DigestAuthenticationProvider.superDigest=' +
            super_digest('softorch-engine', password)) in java_opts
    assert '-Dzookeeper.enforce.auth.enabled=true' in java_opts
    assert '-Dzookeeper.enforce.auth.schemes=digest' in java_opts
    assert '-Dzookeeper.enforceQuota=true' in java_opts
    # the package's classpath first, then Netty's separate jars, never
    # netty-all.jar (every TLS handshake would die)
    assert classpath[:2] == ['/etc/zookeeper/conf',
                             '/usr/share/java/zookeeper.jar']
    assert classpath[2:] == [os.path.join(devstack.java_dir, jar + '.jar')
                             for jar in NETTY_JARS]
    assert not [j for j in classpath if 'netty-all' in j]
    # the package's environment file is kept, ours after it
    with open(os.path.join(devstack.conf_dir, 'environment')) as f:
        assert f.read().startswith(CONF_EXAMPLE['environment'])


def test_post_config_jvm_flags_follow_the_engine_password(devstack):
    devstack.run('stack post-config',
                 env={'SOFTORCH_ENGINE_PASSWORD': 'sekrit',
                      'SOFTORCH_ENGINE_USER': 'so-engine'})
    _, java_opts = devstack.service_env()
    assert ('-Dzookeeper.DigestAuthenticationProvider.superDigest=' +
            super_digest('so-engine', 'sekrit')) in java_opts
    # once, on a re-stack too (the environment file is rebuilt)
    devstack.run('stack post-config',
                 env={'SOFTORCH_ENGINE_PASSWORD': 'sekrit',
                      'SOFTORCH_ENGINE_USER': 'so-engine'})
    _, java_opts = devstack.service_env()
    assert len([o for o in java_opts if 'superDigest' in o]) == 1


def test_post_config_heat_conf_tls(devstack):
    port = devstack.env['SOFTORCH_ZK_PORT']
    devstack.run('stack post-config')
    so = devstack.heat()['softorch']
    assert so['zookeeper_hosts'] == '%s:%s' % (SERVICE_HOST, port)
    assert so['agent_zookeeper_hosts'] == '%s:%s' % (SERVICE_HOST, port)
    assert so['zookeeper_ca_file'] == devstack.tls('ca.pem')
    assert so['zookeeper_plaintext'] == 'False'
    # hostname checks stay on (the option's default)
    for opt in ('zookeeper_check_hostname', 'agent_zookeeper_ca_file',
                'zookeeper_cert_file', 'zookeeper_key_file',
                'max_outputs_bytes'):
        assert opt not in so


def test_default_ports():
    def port(**env):
        return subprocess.run(
            ['bash', '-c', 'source %s/stubs.sh; source %s/settings; '
             'echo "$SOFTORCH_ZK_PORT"' % (FIXTURES, DEVSTACK)],
            env=dict(env, PATH=os.environ['PATH']), text=True, check=True,
            stdout=subprocess.PIPE).stdout.strip()
    assert port() == '2281'
    assert port(SOFTORCH_ZK_TLS='False') == '2181'
    assert port(SOFTORCH_ZK_PORT='9999') == '9999'


def test_post_config_lockdown_after_heat_conf(devstack):
    proc = devstack.run('stack post-config')
    calls = devstack.calls()
    lockdown = 'softorch zookeeper lockdown --config-file %s' % \
        devstack.heat_conf
    assert calls.count(lockdown) == 1
    # ZooKeeper answered first...
    assert calls.index('restart_service zookeeper') < calls.index(lockdown)
    # ...and heat.conf was complete: the command connects as the engine
    saw = configparser.ConfigParser(interpolation=None)
    saw.read(devstack.lockdown_saw)
    assert saw['softorch']['engine_password'] == \
        devstack.heat()['softorch']['engine_password']
    assert saw['softorch']['zookeeper_ca_file'] == devstack.tls('ca.pem')
    # its report is in stack.sh's log
    assert "locked /: the engine's identity alone" in proc.stdout


def test_post_config_lockdown_failure_stops_stack(devstack):
    proc = devstack.run('stack post-config', check=False,
                        env={'TEST_SOFTORCH_RC': '1'})
    assert proc.returncode != 0
    assert "'softorch zookeeper lockdown --config-file %s' failed" % \
        devstack.heat_conf in proc.stderr


def test_post_config_lockdown_can_be_turned_off(devstack):
    devstack.run('stack post-config', env={'SOFTORCH_ZK_LOCKDOWN': 'False'})
    assert not [c for c in devstack.calls() if c.startswith('softorch')]


def test_post_config_plaintext_opt_out(devstack, fake_zookeeper):
    port = devstack.env['SOFTORCH_ZK_PORT']
    devstack.run('stack post-config', env={'SOFTORCH_ZK_TLS': 'False'})
    cfg = devstack.zoo_cfg()
    assert cfg['clientPort'] == port
    assert 'secureClientPort' not in cfg
    assert not [k for k in cfg if k.startswith('ssl.')]
    so = devstack.heat()['softorch']
    assert so['zookeeper_plaintext'] == 'True'
    assert 'zookeeper_ca_file' not in so
    assert so['zookeeper_hosts'] == '%s:%s' % (SERVICE_HOST, port)
    # no certificates; the readiness check spoke plain TCP
    assert not os.path.exists(devstack.tls_dir)
    assert fake_zookeeper.answered == ['plain']
    # said, in stack.sh's log (devstack's warn prints one argument)
    assert 'warn heat-softorch: ZooKeeper over plain TCP (SOFTORCH_ZK_TLS=' \
        'False): the engine\'s password and every spec cross the network ' \
        'in clear; trusted networks only' in devstack.calls()
    # identities, super-user and quotas do not depend on TLS
    _, java_opts = devstack.service_env()
    assert '-Dzookeeper.enforce.auth.enabled=true' in java_opts
    assert '-Dzookeeper.enforceQuota=true' in java_opts
    assert [o for o in java_opts if 'superDigest=softorch-engine:' in o]
    assert 'softorch zookeeper lockdown --config-file %s' % \
        devstack.heat_conf in devstack.calls()


def test_post_config_bind_address(devstack):
    devstack.run('stack post-config',
                 env={'SOFTORCH_ZK_BIND_ADDRESS': '127.0.0.1'})
    assert devstack.zoo_cfg()['secureClientPortAddress'] == '127.0.0.1'
    devstack.run('stack post-config',
                 env={'SOFTORCH_ZK_BIND_ADDRESS': '127.0.0.1',
                      'SOFTORCH_ZK_TLS': 'False'})
    assert devstack.zoo_cfg()['clientPortAddress'] == '127.0.0.1'


def test_post_config_fails_when_zookeeper_does_not_answer(devstack):
    proc = devstack.run('stack post-config', check=False, env={
        'SOFTORCH_ZK_PORT': str(free_port()),
        'SOFTORCH_ZK_START_TIMEOUT': '1'})
    assert proc.returncode != 0
    assert 'ZooKeeper does not answer' in proc.stderr
    assert 'over TLS (CA %s)' % devstack.tls('ca.pem') in proc.stderr


def test_post_config_refuses_a_missing_netty_jar(devstack):
    os.unlink(os.path.join(devstack.java_dir, 'netty-codec.jar'))
    proc = devstack.run('stack post-config', check=False)
    assert proc.returncode != 0
    assert 'no %s/netty-codec.jar' % devstack.java_dir in proc.stderr
    assert 'restart_service zookeeper' not in devstack.calls()


@pytest.mark.parametrize('line, refused', [
    ('JAVA_OPTS="-Xmx2g"', True),
    ('  export JAVA_OPTS=""', True),
    ('JAVA_OPTS="$JAVA_OPTS -Xmx2g"', False),
    ('#JAVA_OPTS=""', False),              # as the package ships it
])
def test_post_config_defaults_file_must_keep_our_flags(devstack, line,
                                                       refused):
    # /etc/default/zookeeper is sourced after the environment file
    defaults = devstack.env['SOFTORCH_ZK_DEFAULTS_FILE']
    os.makedirs(os.path.dirname(defaults))
    with open(defaults, 'w') as f:
        f.write('#JMXLOCALONLY=true\n%s\n' % line)
    proc = devstack.run('stack post-config', check=not refused)
    if refused:
        assert proc.returncode != 0
        assert '%s sets JAVA_OPTS' % defaults in proc.stderr


# post-config: the CA and the server certificate

def test_certificates_made_on_first_stack(devstack):
    devstack.run('stack post-config')
    for name in ('ca.pem', 'ca.key', 'server.pem', 'server.crt'):
        assert os.path.getsize(devstack.tls(name)) > 0

    def mode(name):
        return stat.S_IMODE(os.stat(devstack.tls(name)).st_mode)
    assert mode('ca.pem') == 0o644 and mode('server.crt') == 0o644
    # the keys: the CA's the stack user's, the server's ZooKeeper's
    assert mode('ca.key') == 0o600 and mode('server.pem') == 0o600
    assert 'sudo install -o %s -g %s -m 0600' % (
        devstack.env['SOFTORCH_ZK_USER'], devstack.env['SOFTORCH_ZK_GROUP']) \
        in ' '.join(devstack.calls())
    # ZooKeeper's PEM key store: the key and the certificate in one file
    with open(devstack.tls('server.pem')) as f:
        pem = f.read()
    assert '-----BEGIN PRIVATE KEY-----' in pem
    assert '-----BEGIN CERTIFICATE-----' in pem
    _run_text(['openssl', 'verify', '-CAfile', devstack.tls('ca.pem'),
               devstack.tls('server.crt')])
    # every endpoint heat-engine, agents and the readiness check use
    assert devstack.san() == ['IP Address:' + SERVICE_HOST,
                              'IP Address:' + HOST_IP, 'DNS:localhost',
                              'IP Address:127.0.0.1']


def test_certificate_passes_a_strict_client(devstack, fake_zookeeper):
    """What an agent on Python 3.13 checks by default (VERIFY_X509_STRICT:
    CA keyUsage, authorityKeyIdentifier, ...), and the hostname."""
    devstack.run('stack post-config')
    ctx = ssl.create_default_context(cafile=devstack.tls('ca.pem'))
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_connection(('127.0.0.1', fake_zookeeper.port),
                                  timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname='127.0.0.1') as s:
            s.sendall(b'ruok')
            assert s.recv(4) == b'imok'


def test_certificates_kept_across_restacks(devstack):
    devstack.run('stack post-config')
    before = {n: open(devstack.tls(n), 'rb').read()
              for n in ('ca.pem', 'ca.key', 'server.crt', 'server.pem')}
    # Heat rewrites heat.conf; ZooKeeper's config is rebuilt
    devstack.write_heat_conf(OTHER_PLUGIN_DIR)
    devstack.run('stack post-config')
    for name, data in before.items():
        assert open(devstack.tls(name), 'rb').read() == data, name
    assert devstack.heat()['softorch']['zookeeper_ca_file'] == \
        devstack.tls('ca.pem')


def test_certificate_names_the_configured_endpoints(devstack):
    devstack.run('stack post-config')
    ca = open(devstack.tls('ca.pem'), 'rb').read()
    server = open(devstack.tls('server.crt'), 'rb').read()
    # VMs reach ZooKeeper by the public network's gateway: the server
    # certificate is issued again, by the same CA (agents keep trusting)
    env = {'SOFTORCH_AGENT_ZK_HOSTS': '172.24.4.1:2281,zk.example.org:2281',
           'SOFTORCH_ZK_HOSTS': '[fd00::10]:2281/chroot',
           'SOFTORCH_ZK_CERT_NAMES': '203.0.113.5, zk-public.example.org',
           'SOFTORCH_ZK_BIND_ADDRESS': '0.0.0.0'}
    devstack.run('stack post-config', env=env)
    assert open(devstack.tls('ca.pem'), 'rb').read() == ca
    assert open(devstack.tls('server.crt'), 'rb').read() != server
    _run_text(['openssl', 'verify', '-CAfile', devstack.tls('ca.pem'),
               devstack.tls('server.crt')])
    san = devstack.san()
    for name in ('IP Address:' + SERVICE_HOST, 'IP Address:' + HOST_IP,
                 'IP Address:FD00:0:0:0:0:0:0:10', 'IP Address:172.24.4.1',
                 'DNS:zk.example.org', 'IP Address:203.0.113.5',
                 'DNS:zk-public.example.org', 'DNS:localhost',
                 'IP Address:127.0.0.1'):
        assert name in san
    assert len(san) == len(set(san))
    assert not [n for n in san if '0.0.0.0' in n]
    # and kept while the names stay
    server = open(devstack.tls('server.crt'), 'rb').read()
    devstack.run('stack post-config', env=env)
    assert open(devstack.tls('server.crt'), 'rb').read() == server


def test_lost_ca_key_makes_a_new_ca_and_says_so(devstack):
    devstack.run('stack post-config')
    ca = open(devstack.tls('ca.pem'), 'rb').read()
    os.unlink(devstack.tls('ca.key'))
    devstack.run('stack post-config')
    assert open(devstack.tls('ca.pem'), 'rb').read() != ca
    _run_text(['openssl', 'verify', '-CAfile', devstack.tls('ca.pem'),
               devstack.tls('server.crt')])
    assert [c for c in devstack.calls() if c.startswith(
        'warn heat-softorch: %s is missing: a new ZooKeeper CA; the agents '
        'of existing stacks' % devstack.tls('ca.key'))]


def test_certificate_issued_again_near_its_end(devstack):
    devstack.run('stack post-config', env={'SOFTORCH_ZK_CERT_DAYS': '10'})
    server = open(devstack.tls('server.crt'), 'rb').read()
    ca = open(devstack.tls('ca.pem'), 'rb').read()
    devstack.run('stack post-config')
    assert open(devstack.tls('server.crt'), 'rb').read() != server
    assert open(devstack.tls('ca.pem'), 'rb').read() == ca


def test_post_config_external_zookeeper(devstack):
    devstack.run('stack post-config', env={
        'SOFTORCH_MANAGE_ZOOKEEPER': 'False',
        'SOFTORCH_ZK_HOSTS': 'zk1:2281,zk2:2281'})
    calls = devstack.calls()
    assert not [c for c in calls if 'zookeeper' in c]
    assert not os.path.exists(devstack.conf_dir)
    assert not os.path.exists(devstack.tls_dir)
    so = devstack.heat()['softorch']
    assert so['zookeeper_hosts'] == 'zk1:2281,zk2:2281'
    # TLS with the system's CAs; the operator's ensemble is left as it is
    assert so['zookeeper_plaintext'] == 'False'
    assert 'zookeeper_ca_file' not in so
    assert devstack.plugin_dirs() == [OTHER_PLUGIN_DIR, SHIM_DIR]


def test_post_config_external_zookeeper_tls_options(devstack):
    devstack.run('stack post-config', env={
        'SOFTORCH_MANAGE_ZOOKEEPER': 'False',
        'SOFTORCH_ZK_HOSTS': 'zk1.example.org:2281',
        'SOFTORCH_AGENT_ZK_HOSTS': 'zk-tenant.example.org:2281',
        'SOFTORCH_ZK_CA_FILE': '/etc/softorch/zk-ca.pem',
        'SOFTORCH_AGENT_ZK_CA_FILE': '/etc/softorch/zk-tenant-ca.pem',
        'SOFTORCH_ZK_CERT_FILE': '/etc/softorch/engine.pem',
        'SOFTORCH_ZK_KEY_FILE': '/etc/softorch/engine.key',
        'SOFTORCH_ZK_CHECK_HOSTNAME': 'no',
        'SOFTORCH_MAX_OUTPUTS_BYTES': '65536',
        'SOFTORCH_ZK_LOCKDOWN': 'True',
    })
    so = devstack.heat()['softorch']
    assert so['zookeeper_ca_file'] == '/etc/softorch/zk-ca.pem'
    assert so['agent_zookeeper_ca_file'] == '/etc/softorch/zk-tenant-ca.pem'
    assert so['zookeeper_cert_file'] == '/etc/softorch/engine.pem'
    assert so['zookeeper_key_file'] == '/etc/softorch/engine.key'
    assert so['zookeeper_check_hostname'] == 'False'
    assert so['max_outputs_bytes'] == '65536'
    # lockdown on request, with the operator's ensemble
    assert 'softorch zookeeper lockdown --config-file %s' % \
        devstack.heat_conf in devstack.calls()
    assert not os.path.exists(devstack.tls_dir)


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
    # unstack keeps the CA (a re-stack reuses it)
    assert os.path.exists(devstack.tls('ca.pem'))
    devstack.run('clean')
    assert not os.path.exists(devstack.zk_data_dir)
    # the CA and the certificate go with the data
    assert not os.path.exists(devstack.tls_dir)
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


def test_clean_wipes_a_tls_dir_elsewhere(devstack, fake_zookeeper, tmp_path):
    env = {'SOFTORCH_ZK_TLS_DIR': str(tmp_path / 'zk-tls')}
    fake_zookeeper.keystore = str(tmp_path / 'zk-tls' / 'server.pem')
    devstack.run('stack post-config', env=env)
    assert (tmp_path / 'zk-tls' / 'ca.pem').exists()
    assert devstack.heat()['softorch']['zookeeper_ca_file'] == \
        str(tmp_path / 'zk-tls' / 'ca.pem')
    devstack.run('unstack', 'clean', env=env)
    assert not (tmp_path / 'zk-tls').exists()


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
# written by post-config, with the package's real environment file and
# jars, run the way the zookeeperd init script runs it; then what heat-engine
# and an agent would do, over TLS.

ZK_JAR = '/usr/share/java/zookeeper.jar'
CONF_EXAMPLE_DIR = '/etc/zookeeper/conf_example'

RESTART_HOOK = r'''
# As /etc/init.d/zookeeper (zookeeperd 3.8.0-11) starts the server: it
# sources /etc/zookeeper/conf/environment (the alternative post-config
# selected: here our directory, the alternatives being stubbed), adds the
# JMX flags and runs $JAVA -cp $CLASSPATH $JAVA_OPTS ... $ZOOMAIN $ZOOCFG,
# unquoted. Only ZOOCFG is ours: the environment names /etc/zookeeper/conf.
. "$SOFTORCH_ZK_CONF_DIR/environment"
JAVA_OPTS="$JAVA_OPTS -Dcom.sun.management.jmxremote"
JAVA_OPTS="$JAVA_OPTS -Dcom.sun.management.jmxremote.local.only=$JMXLOCALONLY"
ZOOCFG=$SOFTORCH_ZK_CONF_DIR/zoo.cfg
mkdir -p "$TEST_ZK_LOG_DIR"
# shellcheck disable=SC2086
nohup $JAVA -cp $CLASSPATH $JAVA_OPTS -Dzookeeper.log.dir="$TEST_ZK_LOG_DIR" \
    -Dzookeeper.root.logger=$ZOO_LOG4J_PROP $ZOOMAIN $ZOOCFG \
    > "$TEST_ZK_LOG_DIR/zk.out" 2>&1 < /dev/null &
echo $! > "$TEST_ZK_PIDFILE"
'''


def _four(port, word, ca=None):
    from heat_softorch.fabric import connection
    from heat_softorch.fabric import ensemble
    return ensemble.four_letter('127.0.0.1', port, word.decode(),
                                connection.TLS(ca) if ca else None)


@pytest.mark.skipif(not (os.path.exists(ZK_JAR)
                         and os.path.isdir(CONF_EXAMPLE_DIR)
                         and shutil.which('java')
                         and shutil.which('openssl')),
                    reason="Debian's zookeeper package is not installed")
def test_post_config_starts_a_real_zookeeper(devstack, tmp_path):
    from kazoo import exceptions as kz_exc

    from heat_softorch.fabric import acls
    from heat_softorch.fabric import connection
    from heat_softorch.fabric import quotas

    hook = tmp_path / 'restart-hook.sh'
    hook.write_text(RESTART_HOOK)
    pidfile = tmp_path / 'zk.pid'
    port = free_port()
    env = {
        'SOFTORCH_ZK_CONF_EXAMPLE_DIR': CONF_EXAMPLE_DIR,
        'SOFTORCH_ZK_JAVA_DIR': '/usr/share/java',
        'SOFTORCH_ZK_PORT': str(port),
        'SOFTORCH_ZK_START_TIMEOUT': '60',
        # heat-engine and the agents reach it on loopback here; the
        # lockdown is the real command of this test's Python
        'SERVICE_HOST': '127.0.0.1',
        'HOST_IP': '127.0.0.1',
        'TEST_PYTHON_PREFIX': os.path.dirname(sys.executable),
        'TEST_RESTART_HOOK': str(hook),
        'TEST_ZK_LOG_DIR': str(tmp_path / 'zk-log'),
        'TEST_ZK_PIDFILE': str(pidfile),
    }
    try:
        proc = devstack.run('stack post-config', env=env)
        # the plugin locked / and /zookeeper/quota as the engine, over TLS
        assert "locked /: the engine's identity alone" in proc.stdout
        assert os.path.isdir(os.path.join(devstack.zk_data_dir, 'version-2'))
        ca = devstack.tls('ca.pem')
        assert 'Mode: standalone' in _four(port, b'srvr', ca)
        # no plaintext on that port: a plain client gets no answer
        try:
            reply = _four(port, b'srvr')
        except OSError:
            reply = ''
        assert 'Mode' not in reply

        so = devstack.heat()['softorch']
        assert so['zookeeper_hosts'] == '127.0.0.1:%d' % port
        tls = connection.TLS(so['zookeeper_ca_file'])
        engine = connection.connect(
            so['zookeeper_hosts'],
            acls.credential(so['engine_user'], so['engine_password']),
            tls=tls)
        try:
            engine_id = acls.digest_id(so['engine_user'],
                                       so['engine_password'])
            assert engine.get_acls('/')[0] == acls.engine_only(engine_id)
            # enforceQuota: a hard count limit (the node and one child)
            # binds, set as the engine sets its quotas
            engine.create('/quota-probe', b'')
            quota = quotas.quota_path('/quota-probe')
            engine.create(quota + '/' + quotas.LIMITS,
                          quotas.limits_data(count=2), makepath=True)
            engine.create(quota + '/' + quotas.STATS, b'count=0,bytes=0')
            engine.create('/quota-probe/one', b'')
            with pytest.raises(kz_exc.QuotaExceededError):
                engine.create('/quota-probe/two', b'')
        finally:
            connection.close(engine)
        # enforce.auth: a session with no identity is refused
        anon = connection.connect(so['zookeeper_hosts'], None, tls=tls)
        try:
            with pytest.raises((kz_exc.NoAuthError,
                                kz_exc.SessionClosedRequireSaslError,
                                kz_exc.AuthFailedError,
                                kz_exc.ConnectionClosedError)):
                anon.get_children('/')
        finally:
            connection.close(anon)
        # what an operator runs afterwards
        check = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), 'softorch'),
             'zookeeper', 'check', '--config-file', devstack.heat_conf],
            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=60)
        assert check.returncode == 0, check.stdout
        assert 'locked down; the engine is the super-user' in check.stdout
    except BaseException:
        log = tmp_path / 'zk-log' / 'zk.out'
        if log.exists():
            print(log.read_text()[-4000:])
        raise
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
