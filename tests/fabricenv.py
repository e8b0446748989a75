"""Helpers for tests that drive the fabric and real agent processes
directly, without Heat: the engine's side is played by the Registry."""

import json
import os
import subprocess
import sys
import time
import uuid

from kazoo import exceptions as kz_exc

from heat_softorch.agent import config as agent_config
from heat_softorch.fabric import acls
from heat_softorch.fabric import connection
from heat_softorch.fabric import ensemble
from heat_softorch.fabric import paths as zpaths
from heat_softorch.fabric import progress
from heat_softorch.fabric import records
from heat_softorch.fabric import registry

ROOT = '/softorch-test'
# ZooKeeper's super-user in the tests' servers: the engine's identity.
ENGINE = ('softorch-engine', 'test-engine-secret')
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZK_SCRIPT = os.path.join(REPO, 'tools', 'zookeeper.sh')
_TLS = {}   # endpoints -> connection.TLS of the servers started here


def start_zookeeper(directory, port=0, nodes=1):
    """Start a ZooKeeper (tools/zookeeper.sh: TLS only, digest sessions
    only, quotas enforced, the engine as super-user) locked down as `make
    up` does; its endpoints."""
    env = dict(os.environ, ZK_SUPER=acls.credential(*ENGINE),
               ZK_NODES=str(nodes))
    out = subprocess.run([ZK_SCRIPT, 'start', directory, str(port)],
                         check=True, text=True, stdout=subprocess.PIPE,
                         env=env).stdout
    endpoint = out.split()[-1]
    _TLS[endpoint] = connection.TLS(os.path.join(directory, 'tls',
                                                 'ca.pem'))
    client = connect(endpoint, acls.credential(*ENGINE))
    try:
        ensemble.lockdown(client, acls.digest_id(*ENGINE))
    finally:
        connection.close(client)
    return endpoint


def zookeeper(directory, *args, **env):
    """tools/zookeeper.sh ACTION DIR ARGS (stop, stop-node N, ...), with
    ``env`` added to its environment (KILL='1')."""
    return subprocess.run([ZK_SCRIPT, args[0], directory] + [
        str(a) for a in args[1:]], check=True, text=True,
        stdout=subprocess.PIPE, env=dict(os.environ, **env)).stdout.strip()


def tls_of(endpoint):
    return _TLS.get(endpoint)


def connect(endpoint, credential=None, **kwargs):
    """connection.connect() with the TLS settings of the server."""
    return connection.connect(endpoint, credential, tls=tls_of(endpoint),
                              **kwargs)


def softorch_command():
    venv = os.environ.get('SOFTORCH_AGENT_VENV')
    if venv:
        return [os.path.join(venv, 'bin', 'softorch')]
    return [sys.executable, '-m', 'heat_softorch.cmd.main']


def wait_for(predicate, timeout=30, interval=0.05, what='condition'):
    """Poll until predicate() is truthy; a hang guard, not a timing test."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        time.sleep(interval)


def script_config(body, tool='script'):
    return {'tool': tool, 'config': '#!/bin/bash\nset -e\n' + body,
            'options': {}}


def component(name, host, configs, inputs=(), values=None, wires=(),
              outputs=(), timeout=60, hidden=()):
    """A spec as the engine would register it. ``wires`` is a list of
    (input or None, upstream name, upstream host, output)."""
    return {
        'name': name, 'host': host, 'server': host + '-server',
        'stack_name': 'test',
        'configs': configs,
        'inputs': [{'name': i, 'hidden': i in hidden} for i in inputs],
        'values': dict(values or {}),
        'outputs': [{'name': o} if isinstance(o, str) else o
                    for o in outputs],
        'wiring': [{'input': i, 'component': c, 'output': o}
                   for i, c, h, o in wires],
        'wires': [{'input': i, 'component': c, 'host': h, 'output': o,
                   'server': h + '-server'} for i, c, h, o in wires],
        'options': {}, 'timeout': timeout,
    }


class FabricStack(object):
    """One stack's worth of fabric: hosts with their own credentials and
    agent processes, and the engine identity registering specs."""

    def __init__(self, endpoint, workdir, stack_id=None):
        self.endpoint = endpoint
        self.workdir = workdir
        self.stack_id = stack_id or uuid.uuid4().hex
        self.paths = zpaths.StackPaths(ROOT, self.stack_id)
        self.engine_id = acls.digest_id(*ENGINE)
        self.client = connect(endpoint, acls.credential(*ENGINE))
        self.registry = registry.Registry(self.client, self.paths,
                                          self.engine_id)
        self.progress = progress.Progress(self.client, self.paths,
                                          self.registry, grace_period=5,
                                          boot_timeout=60)
        self.passwords = {}
        self.agents = {}
        self.epoch = None
        self.registry.ensure_stack({'stack_id': self.stack_id,
                                    'stack_name': 'test', 'epoch': None})

    def add_host(self, host):
        self.passwords[host] = acls.new_secret()
        self.registry.add_host(host, self.passwords[host],
                               {'server': host + '-server',
                                'agent': host})
        return self.passwords[host]

    def host_client(self, host):
        return connect(self.endpoint, acls.credential(
            host, self.passwords[host]))

    def agent_config(self, host, **extra):
        state = os.path.join(self.workdir, host)
        os.makedirs(state, exist_ok=True)
        cred = os.path.join(state, 'credential')
        if not os.path.exists(cred):
            with open(cred, 'w') as f:
                f.write(self.passwords[host])
        path = os.path.join(self.workdir, host + '.ini')
        tls = tls_of(self.endpoint)
        extra.setdefault('tls', tls is not None)
        if tls is not None:
            extra.setdefault('ca_file', tls.ca)
        agent_config.write(path, host=host, stack_id=self.stack_id,
                           zookeeper=self.endpoint, root=ROOT,
                           state_dir=state, session_timeout=4,
                           log_file=os.path.join(self.workdir,
                                                 host + '.log'),
                           log_level='DEBUG', **extra)
        return path

    def start_agent(self, host, **extra):
        proc = subprocess.Popen(
            softorch_command() + ['agent', '--config',
                                  self.agent_config(host, **extra)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.agents[host] = proc
        wait_for(lambda: self.progress.alive(host) or proc.poll() is not None,
                 what='agent %s to come up' % host)
        assert proc.poll() is None, proc.stderr.read()
        return proc

    def kill_agent(self, host, sig=9):
        proc = self.agents.pop(host)
        proc.send_signal(sig)
        proc.wait(10)

    def register(self, specs, epoch=None):
        self.epoch = epoch or uuid.uuid4().hex[:8]
        return self.registry.register(specs, self.epoch)

    def status(self, host, name):
        return self.progress.read_status(host, name)

    def publication(self, host, name):
        raw, _ = self.client.get(self.paths.outputs(host, name))
        return records.decode(raw, self.paths.outputs(host, name))

    def wait_settled(self, host, name, epoch=None, timeout=30,
                     action=records.DEPLOY):
        epoch = epoch or self.epoch

        def settled():
            out = self.progress.outcome(host, name, epoch, action)
            return out if out.state != progress.PENDING else None
        return wait_for(settled, timeout, what='%s to settle' % name)

    def close(self):
        for host in list(self.agents):
            self.kill_agent(host, 15)
        try:
            self.registry.remove_stack()
        except kz_exc.KazooException:
            pass
        connection.close(self.client)


def read_runs(path):
    """Lines the test scripts append: '<component> <action> <inputs json>'."""
    try:
        with open(path) as f:
            return [line.split(' ', 2) for line in f.read().splitlines()]
    except FileNotFoundError:
        return []


def runs_of(path, name):
    return [(a, json.loads(i) if i else None) for n, a, i in read_runs(path)
            if n == name]
