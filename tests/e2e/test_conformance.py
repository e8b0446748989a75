"""End to end, conformance with Heat's own software deployments: the same
configs (a script, an ansible playbook, a puppet manifest, and a script
that fails) run once as OS::Heat::SoftwareDeployments on a server of Heat's
own path (os-collect-config and heat-agents' hooks) and once as
OS::SoftOrch::SoftwareComponents on a heat-softorch agent, which runs the
script itself and the others through the same heat-agents hooks
(tests/templates/conformance/). What a user reads back must be the same.
"""

import os
import re
import uuid

from tests import heatenv
from tests.e2e import stacks

HERE = os.path.join(heatenv.TEMPLATES, 'conformance')
ENV_LOCAL = os.path.join(heatenv.REPO, 'examples', 'env-local.yaml')
HOOKS = ('greet_script', 'greet_ansible', 'greet_puppet')


def comparable(outputs):
    """The stack outputs, less what differs by nature: puppet names the
    file it wrote (heat_outputs_path, under each side's own working
    directory and id: the derived config's uuid on Heat's path, the
    component's name on softorch's) and times its own run; its stderr
    here is facter's complaints about this machine (/proc/1/environ)."""
    out = {k: dict(v) for k, v in outputs.items()}
    p = out['greet_puppet']
    p['deploy_stdout'] = re.sub(
        r'in [0-9.]+ seconds', 'in N seconds',
        re.sub(r'File\[[^\]]*\.greeting\]', 'File[OUTPUTS.greeting]',
               p['deploy_stdout']))
    del p['deploy_stderr']
    return out


def test_the_same_configs_give_the_same_results_both_ways(cloud,
                                                          openstack):
    tag = uuid.uuid4().hex[:6]
    runs = {}
    for side in ('native', 'softorch'):
        runs[side] = stacks.create(cloud, 'conform-%s-%s' % (side, tag),
                                   os.path.join(HERE, side + '.yaml'),
                                   [ENV_LOCAL])
    native, softorch = runs['native'], runs['softorch']

    # The three greetings succeeded, then the failing script failed the
    # stack, on both sides.
    for run in (native, softorch):
        assert run.status == 'CREATE_FAILED', (run.reason, run.client_output)
        for name in HOOKS:
            assert run.span(name), (run.name, name, run.events)
    assert native.outputs['greet_script'] == {
        'greeting': 'script greets world',
        'deploy_stdout': 'hello world from greet_script (CREATE)\n',
        'deploy_stderr': 'a warning from the script\n',
        'deploy_status_code': 0}
    assert native.outputs['greet_ansible']['greeting'] == (
        'ansible greets world')
    assert '"msg": "hello world from greet_ansible (CREATE)"' in (
        native.outputs['greet_ansible']['deploy_stdout'])
    assert native.outputs['greet_puppet']['greeting'] == 'puppet greets world'
    assert 'Notice: hello world from greet_puppet (CREATE)' in (
        native.outputs['greet_puppet']['deploy_stdout'])
    assert native.outputs['fail'] == {
        'deploy_stdout': 'checking the disk\n',
        'deploy_stderr': 'initdb: could not create directory: No space '
                         'left on device\n',
        'deploy_status_code': 3}

    # Outputs, deploy_stdout, deploy_stderr and deploy_status_code of
    # every config, the failing one included, are the same both ways.
    assert comparable(softorch.outputs) == comparable(native.outputs)

    # The failure names the failed resource and its exit status both ways;
    # softorch's message also says where it ran and ends with the stderr.
    prefix = 'Resource CREATE failed: Error: resources.fail: '
    assert native.reason == prefix + (
        'Deployment to server failed: deploy_status_code : Deployment '
        'exited with non-zero status code: 3')
    assert softorch.reason.startswith(prefix + 'fail failed on server '
                                      '(host agent-'), softorch.reason
    assert softorch.reason.endswith(
        ': CREATE exit 3: initdb: could not create directory: No space '
        'left on device'), softorch.reason
    for run in (native, softorch):
        status = openstack('stack', 'resource', 'show', run.name, 'fail',
                           '-f', 'value', '-c', 'resource_status')
        assert status.stdout.strip() == 'CREATE_FAILED'

    for run in (native, softorch):
        stacks.delete(cloud, run.name)
