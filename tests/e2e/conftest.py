"""The real services of `make up`, once for the end-to-end tests."""

import pytest

from tests.e2e import services


@pytest.fixture(scope='session')
def cloud():
    env = services.start()
    yield env
    services.stop()


@pytest.fixture
def openstack(cloud):
    def run(*args, check=True, timeout=300):
        r = services.openstack(*args, env=cloud, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError('openstack %s failed (%d):\n%s\n%s' % (
                ' '.join(args), r.returncode, r.stdout, r.stderr))
        return r
    return run
