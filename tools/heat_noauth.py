"""What a Heat without Keystone (``[paste_deploy] flavor = noauth``: the
all-in-one Heat of the tests and the benchmarks) needs to serve a
resource signal: `openstack stack resource signal` runs the signal under
the stack's stored context, which asks Keystone for its roles and domains.
With no Keystone there is nobody to ask: the stored request's own identity
stands (the noauth API gave every request the admin role).

``patch()`` is called by tools/heat_allinone.py, never by the plugin: a
cloud has Keystone (and so does `make up`'s).
"""

from heat.common import context


def _load_keystone_data(self):
    self._keystone_loaded = True
    if self._roles is None:
        self._roles = ['admin']
    if self._user_domain_id is None:
        self._user_domain_id = 'default'
    if self._project_domain_id is None:
        self._project_domain_id = 'default'


def patch():
    context.StoredContext._load_keystone_data = _load_keystone_data
