"""Session-wide real services for the tests: a private ZooKeeper on a free
loopback port, started by the project's own script and stopped at the end."""

import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(REPO, '.run', 'test')


@pytest.fixture(scope='session')
def zk_endpoint():
    """The session's ZooKeeper: TLS only, as `make up` runs it
    (tests.fabricenv.connect() knows its CA)."""
    from tests import fabricenv
    d = os.path.join(RUN, 'zk')
    yield fabricenv.start_zookeeper(d)
    subprocess.run([_script('zookeeper.sh'), 'stop', d], check=False)


def _script(name):
    return os.path.join(REPO, 'tools', name)


@pytest.fixture(scope='session')
def mariadb_url():
    d = os.path.join(RUN, 'mysql')
    subprocess.run([_script('mariadb.sh'), 'start', d], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(d, 'url')) as f:
        yield f.read().strip()
    subprocess.run([_script('mariadb.sh'), 'stop', d], check=False)


_HEATS = {}


@pytest.fixture(scope='session')
def heat_engines(zk_endpoint, request):
    """Lazily started Heats, one per engine, stopped at the end."""
    from tests import heatenv

    def get(engine):
        if engine not in _HEATS:
            run_dir = os.path.join(RUN, 'heat-' + engine)
            subprocess.run(['rm', '-rf', run_dir])
            os.makedirs(run_dir)
            # Both on MariaDB: under the legacy engine too, nested stacks
            # (groups) write concurrently, which SQLite refuses ("database
            # is locked").
            db = request.getfixturevalue('mariadb_url')
            if engine != 'convergence':
                db = db.replace('/heat?', '/heat_legacy?')
            _HEATS[engine] = heatenv.Heat(run_dir, zk_endpoint,
                                          engine == 'convergence', db)
        return _HEATS[engine]
    yield get
    for h in _HEATS.values():
        h.stop()
    _HEATS.clear()


@pytest.fixture(params=['convergence', 'legacy'])
def heat(request, heat_engines):
    return heat_engines(request.param)
