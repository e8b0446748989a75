"""Real services for end-to-end tests: the local Heat of `make up`.

``start(run_dir)`` runs ``tools/localheat.sh up run_dir`` (the script behind
`make up`): a private ZooKeeper, MariaDB, RabbitMQ, Keystone, heat-engine
(convergence, 2 workers) and Heat's API under gunicorn (keystonemiddleware,
trusts, a stack user domain) with the heat-softorch plugin, on free loopback
ports, everything under ``run_dir``. LocalServers with user_data_format
SOFTWARE_CONFIG poll every second (NATIVE_POLLING_INTERVAL=1). It returns
the run dir's ``env`` file as a dict::

    RUN_DIR        the run dir (absolute)
    ZK_ENDPOINT    127.0.0.1:PORT of the ZooKeeper
    KEYSTONE_URL   http://127.0.0.1:PORT/v3
    HEAT_API_URL   http://127.0.0.1:PORT (the catalog has it, per project)
    HEAT_API_PORT
    HEAT_CONF      the heat.conf heat-engine runs with
    HEAT_LOG_DIR   heat-engine.log, access.log (the API's), *.out
    SERVERS_DIR    where OS::SoftOrch::LocalServer processes live
    DB_ENDPOINT, DB_URL, RABBIT_ENDPOINT, TRANSPORT_URL
    OPENRC         the openrc a user sources: password auth as admin

``stop(run_dir)`` stops exactly what ``start`` started (LocalServers
included) and fails if a process of the run dir survives.
``openstack(*args, env=...)`` runs the openstack client against it.

No fixtures here: conftest decides their scope. The venvs are .venv,
.venv-agent and .venv-native-agent of the repository (VENV /
SOFTORCH_AGENT_VENV / NATIVE_AGENT_VENV override them); `make test` builds
them. Starting takes ~20-30 s on 2 cores, stopping ~10 s.
"""

import os
import shlex
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
TOOLS = os.path.join(REPO, 'tools')
RUN_DIR = os.path.join(REPO, '.run', 'test-e2e')
VENV = os.environ.get('VENV') or os.path.join(REPO, '.venv')
AGENT_VENV = (os.environ.get('SOFTORCH_AGENT_VENV') or
              os.path.join(REPO, '.venv-agent'))
NATIVE_AGENT_VENV = (os.environ.get('NATIVE_AGENT_VENV') or
                     os.path.join(REPO, '.venv-native-agent'))
# os-collect-config's interval in the tests' cloud: the native path's
# deployments are found within a second, as softorch's are by watches.
NATIVE_POLLING_INTERVAL = '1'

# Variables of the caller that must not reach the services or the client:
# the run-dir marker (it tells `down` which processes are the run dir's) and
# any cloud the caller's shell points at.
_DROP_PREFIXES = ('OS_',)
_DROP = ('SOFTORCH_RUN_DIR',)


class ServicesError(RuntimeError):
    """A start or stop failed; the message carries the scripts' output."""


def _clean_environ(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in _DROP and not k.startswith(_DROP_PREFIXES)}
    env.update(extra or {})
    return env


def read_env(run_dir=RUN_DIR):
    """The run dir's env file as a dict ({} when it is not up)."""
    path = os.path.join(os.path.abspath(run_dir), 'env')
    if not os.path.exists(path):
        return {}
    result = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#') or '=' not in line:
                continue
            key, value = line.split('=', 1)
            words = shlex.split(value)
            result[key] = words[0] if words else ''
    return result


def _run(action, run_dir, timeout):
    cmd = [os.path.join(TOOLS, 'localheat.sh'), action,
           os.path.abspath(run_dir)]
    env = _clean_environ({
        'VENV': os.path.abspath(VENV),
        'AGENT_VENV': os.path.abspath(AGENT_VENV),
        'NATIVE_AGENT_VENV': os.path.abspath(NATIVE_AGENT_VENV),
        'NATIVE_POLLING_INTERVAL': NATIVE_POLLING_INTERVAL})
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # SIGTERM: `up` then stops what it started (its EXIT trap).
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        if action == 'up':
            stop(run_dir)
        raise ServicesError('%s timed out after %ss:\n%s' % (
            ' '.join(cmd), timeout, out))
    if proc.returncode != 0:
        raise ServicesError('%s failed (exit %d):\n%s' % (
            ' '.join(cmd), proc.returncode, out))
    return out


def start(run_dir=RUN_DIR, timeout=300):
    """Start the services (or find them up) and return read_env(run_dir)."""
    _run('up', run_dir, timeout)
    env = read_env(run_dir)
    if not env.get('HEAT_API_URL'):
        raise ServicesError('%s: up, but no env file' % run_dir)
    return env


def stop(run_dir=RUN_DIR, timeout=180):
    """Stop what start() started; ServicesError if a process survived."""
    return _run('down', run_dir, timeout)


def openrc(env):
    """The OS_* variables (and SOFTORCH_CONFIG_FILE) the run dir's openrc
    exports, as a dict."""
    result = {}
    with open(env['OPENRC']) as f:
        for line in f:
            line = line.strip()
            if line.startswith('export ') and '=' in line:
                key, value = line[len('export '):].split('=', 1)
                words = shlex.split(value)
                result[key] = words[0] if words else ''
    return result


def client_environ(env):
    """os.environ for the openstack client against the services of env
    (a dict from start() or read_env()): what a user has after sourcing
    the openrc."""
    return _clean_environ(openrc(env))


def openstack(*args, env, check=False, timeout=300, input=None):
    """Run ``.venv/bin/openstack *args`` with the openrc variables of env
    (a dict from start()); return the CompletedProcess (text stdout and
    stderr). E.g. ``openstack('stack', 'list', '-f', 'json', env=env)``."""
    return subprocess.run([os.path.join(VENV, 'bin', 'openstack')] +
                          [str(a) for a in args],
                          env=client_environ(env), text=True, input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=check, timeout=timeout)
