"""End to end: the `openstack` client against Heat's API and heat-engine
processes (convergence, two workers, RabbitMQ, MariaDB) running the plugin,
with LocalServer agents."""

import json
import os
import subprocess
import time
import urllib.parse
import uuid

from tests import fabricenv as fe
from tests import heatenv
from tests.e2e import services

T = heatenv.TEMPLATES


def name(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:6])


def test_a_cycle_is_refused_with_its_components_named(openstack):
    r = openstack('stack', 'create', '-t', os.path.join(T, 'cycle.yaml'),
                  '-e', os.path.join(T, 'env-local.yaml'), name('cycle'),
                  check=False)
    assert r.returncode != 0
    assert 'Components alpha, beta, gamma form a cycle' in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr


def test_resource_show_of_a_failed_component(openstack, tmp_path):
    stack = name('failing')
    r = openstack('stack', 'create', '-t', os.path.join(T, 'failing.yaml'),
                  '-e', os.path.join(T, 'env-local.yaml'), '--parameter',
                  'runlog=%s' % (tmp_path / 'runs'), '--wait', '--poll', '1',
                  stack, check=False)
    assert r.returncode != 0
    assert 'CREATE_FAILED' in r.stdout + r.stderr
    shown = json.loads(openstack('stack', 'resource', 'show', stack, 'db',
                                 '-f', 'json').stdout)
    reason = shown['resource_status_reason']
    assert shown['resource_status'] == 'CREATE_FAILED'
    assert 'db failed on server_a (host agent_a-' in reason, reason
    assert 'CREATE exit 3' in reason
    assert 'No space left on device' in reason
    assert shown['attributes']['deploy_status_code'] == 3
    assert 'No space left on device' in shown['attributes']['deploy_stderr']
    openstack('stack', 'delete', '--wait', '-y', stack)


def free_ports(n):
    import socket
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def fetch(url):
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as r:
        return r.read().decode()


def status_doc(cloud, stack):
    """softorch status --format json, as an operator runs it (with the
    openrc sourced: Keystone for Heat, heat.conf for ZooKeeper)."""
    env = services.client_environ(cloud)
    r = subprocess.run([os.path.join(services.VENV, 'bin', 'softorch'),
                        'status', stack, '--format', 'json'], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def served_by(url, n):
    """The app names answering through the load balancer in n requests."""
    return {fetch(url).split('Served by ')[1].split('<')[0].strip()
            for _ in range(n)}


def backends(url):
    try:
        return json.loads(fetch(url + '_lb/status'))['backends']
    except OSError:
        return None  # lb restarting


def test_three_tier_creates_serves_updates_scales_and_deletes(openstack,
                                                              cloud):
    examples = os.path.join(heatenv.REPO, 'examples')
    stack = name('three-tier')
    ports = dict(zip(('db_port', 'lb_port'), free_ports(2)))
    params = ['--parameter', 'app_port=0']
    for k, v in sorted(ports.items()):
        params += ['--parameter', '%s=%s' % (k, v)]
    openstack('stack', 'create', '-t',
              os.path.join(examples, 'three-tier', 'three-tier.yaml'),
              '-e', os.path.join(examples, 'env-local.yaml'), *params,
              '--parameter', 'db_content=first', '--wait', '--poll', '1',
              stack)
    url = json.loads(openstack('stack', 'output', 'show', stack, 'app_url',
                               '-f', 'json').stdout)['output_value']
    assert url == 'http://127.0.0.1:%d/' % ports['lb_port']
    assert len(served_by(url, 4)) == 2
    assert all('first' in fetch(url) for _ in range(4))

    since = time.time()
    openstack('stack', 'update', '--existing', '--parameter',
              'db_content=second', '--wait', stack)
    after = status_doc(cloud, stack)
    rows = {c['component']: c for c in after['components']}
    # db re-ran, and so did both apps (their data_version changed); lb's
    # inputs, the apps' urls, did not change: confirmed, not re-run.
    assert not rows['db']['confirmed'] and rows['lb']['confirmed']
    assert rows['lb']['action'] == 'CREATE'
    assert [(m['membership'], m['action'], m['last_run'] > since)
            for m in after['groups']] == [('JOINED', 'UPDATE', True)] * 2
    assert all('second' in fetch(url) for _ in range(4))

    # A scaling policy's signal: the third app joins, lb follows, without
    # any stack update.
    openstack('stack', 'resource', 'signal', stack, 'scale_out')
    fe.wait_for(lambda: len(backends(url) or ()) == 3, timeout=180,
                what='lb to serve a third app')
    assert len(served_by(url, 6)) == 3
    apps = [urllib.parse.urlsplit(b).port for b in backends(url)]
    assert json.loads(openstack('stack', 'show', stack, '-f', 'json').stdout
                      )['stack_status'] == 'UPDATE_COMPLETE'

    openstack('stack', 'delete', '--wait', '-y', stack)
    import socket
    for port in list(ports.values()) + apps:
        with socket.socket() as s:
            assert s.connect_ex(('127.0.0.1', port)) != 0, port
