"""A ZooKeeper ensemble and a Heat of the fault tests' own: the tests stop,
pause and restart the ensemble or one of its members (on the same ports,
so that every client finds it again) and crash that Heat, which the other
tests' services must not see.

The ensemble has three members, as a production ZooKeeper would: faults
are tested against the shape they happen in (a client reconnecting to
another member, a leader election), not against a standalone server that
has neither.

The Heat runs under the convergence engine on a database of its own, with
a short engine session timeout and outage limit, so that an outage longer
than either fits in a test."""

import os
import subprocess

import pytest

from tests import conftest
from tests import fabricenv
from tests import heatenv

DB_SCRIPT = os.path.join(conftest.REPO, 'tools', 'mariadb.sh')

SESSION_TIMEOUT = 4
# Longer than a 12 s outage plus the ensemble's stop and restart (2 s, and
# 3 to 8 s with a leader election on a busy 2-core machine), which the
# engine counts as outage too.
OUTAGE_LIMIT = 30
AGENT_SESSION_TIMEOUT = 12
# How long the engine waits for a gone agent before failing its components:
# longer than a paused agent takes to come back once resumed (a
# reconnection, a new session, its host's lock), which the agent-pause
# test leaves it, shorter than a test should wait for a lost VM.
GRACE = 15
NODES = 3


class Ensemble(object):
    """tools/zookeeper.sh's ZooKeeper (TLS, as everywhere), NODES members
    on loopback, stopped and started on the same ports as a whole or one
    member at a time."""

    def __init__(self, run_dir):
        self.dir = run_dir
        self.endpoint = fabricenv.start_zookeeper(run_dir, nodes=NODES)

    def _zk(self, *args, **env):
        return fabricenv.zookeeper(self.dir, *args, **env)

    def stop(self):
        self._zk('stop')

    def start(self):
        """Every member again, from its own configuration and data."""
        self._zk('restart')

    def pause(self):
        """SIGSTOP every member: a ZooKeeper that is up but answers
        nobody (a long GC pause, a frozen VM); sessions expire when it
        resumes."""
        self._zk('pause')

    def resume(self):
        self._zk('resume')

    def leader(self):
        """The number (1..NODES) of the member that leads."""
        return int(self._zk('leader'))

    def kill_member(self, n):
        """SIGKILL member n: no goodbye to its peers or clients."""
        self._zk('stop-node', n, KILL='1')

    def start_member(self, n):
        """Member n again, on its ports, once it serves."""
        self._zk('start-node', n)


@pytest.fixture(scope='package')
def fault_zk():
    d = os.path.join(conftest.RUN, 'faults-zk')
    subprocess.run(['rm', '-rf', d])
    zk = Ensemble(d)
    yield zk
    # stop resumes paused members first.
    fabricenv.zookeeper(d, 'stop')


@pytest.fixture(scope='package')
def fault_heat(fault_zk, mariadb_url):
    run_dir = os.path.join(conftest.RUN, 'faults-heat')
    subprocess.run(['rm', '-rf', run_dir])
    os.makedirs(run_dir)
    db = subprocess.run(
        [DB_SCRIPT, 'database', os.path.join(conftest.RUN, 'mysql'),
         'heat_faults'], check=True, text=True, capture_output=True,
        env=dict(os.environ, DB_FRESH='1')).stdout.strip()
    heat = heatenv.Heat(run_dir, fault_zk.endpoint, True, db, extra={
        'softorch': {'session_timeout': str(SESSION_TIMEOUT),
                     'outage_limit': str(OUTAGE_LIMIT),
                     'agent_session_timeout': str(AGENT_SESSION_TIMEOUT),
                     'agent_grace_period': str(GRACE)}})
    yield heat
    heat.stop()
