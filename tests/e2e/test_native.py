"""End to end, Heat's own software deployments on LocalServers: an
unmodified OS::Heat::SoftwareConfig / SoftwareDeployment template written
for Nova, run through examples/env-local.yaml against `make up`'s cloud
(Keystone, trusts, stack user domain). Each server is os-collect-config
with heat-agents' hooks, polling every second (services.py)."""

import os
import uuid

import psutil

from tests import heatenv
from tests.e2e import stacks

EXAMPLES = os.path.join(heatenv.REPO, 'examples')
TEMPLATE = os.path.join(EXAMPLES, 'software-deployments',
                        'software-deployments.yaml')
ENV_LOCAL = os.path.join(EXAMPLES, 'env-local.yaml')


def agents_of(cloud, stack_id):
    """The os-collect-config processes of the stack's LocalServers."""
    found = []
    for p in psutil.process_iter(['cmdline', 'cwd']):
        try:
            cmd = ' '.join(p.info['cmdline'] or [])
            cwd = p.info['cwd'] or ''
        except (psutil.Error, OSError):
            continue
        if ('os-collect-config' in cmd and
                cwd.startswith(os.path.join(cloud['SERVERS_DIR'],
                                            stack_id))):
            found.append(p)
    return found


def test_script_chain_and_ansible_deployments_on_local_servers(cloud,
                                                               openstack):
    name = 'native-%s' % uuid.uuid4().hex[:6]
    run = stacks.create(cloud, name, TEMPLATE, [ENV_LOCAL])
    assert run.status == 'CREATE_COMPLETE', (run.reason, run.client_output)

    # A on server1, B on server2 read A's output, C on server1 read B's.
    assert run.outputs['chain'] == 'start>A>B>C'
    assert run.outputs['ansible_result'] == 'ansible 2 saw start>A'
    assert run.outputs['status_codes'] == {'A': 0, 'B': 0, 'C': 0,
                                           'ansible': 0}
    server2 = openstack('stack', 'resource', 'show', name, 'server2', '-f',
                        'value', '-c', 'physical_resource_id').stdout.strip()
    assert run.outputs['b_stdout'] == (
        'B runs on %s after: start>A\n' % server2)
    # Heat's events: each deployment started once the one it reads had
    # signalled its result.
    a, b, c = (run.span(r) for r in ('A', 'B', 'C'))
    assert a[1] <= b[0] and b[1] <= c[0]

    assert len(agents_of(cloud, run.id)) == 2
    users = openstack('user', 'list', '--domain', 'heat', '-f',
                      'value', '-c', 'Name').stdout.split()
    assert any(u.startswith(name + '-server1-') for u in users), users

    stacks.delete(cloud, name)
    assert agents_of(cloud, run.id) == []
    users = openstack('user', 'list', '--domain', 'heat', '-f',
                      'value', '-c', 'Name').stdout.split()
    assert not [u for u in users if u.startswith(name + '-')], users
