"""Session-wide real services for the tests: a private ZooKeeper on a free
loopback port, started by the project's own script and stopped at the end."""

import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(REPO, '.run', 'test')


@pytest.fixture(scope='session')
def zk_endpoint():
    d = os.path.join(RUN, 'zk')
    script = os.path.join(REPO, 'tools', 'zookeeper.sh')
    out = subprocess.run([script, 'start', d], check=True, text=True,
                         stdout=subprocess.PIPE).stdout.strip()
    yield out.splitlines()[-1]
    subprocess.run([script, 'stop', d], check=False)
