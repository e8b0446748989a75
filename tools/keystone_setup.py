"""The Keystone objects a Heat needs, as devstack's lib/heat makes them.

usage: keystone_setup.py HEAT_URL

HEAT_URL is the orchestration endpoint, with ``%(project_id)s`` for the
project (http://127.0.0.1:PORT/v1/%(project_id)s). The admin's credentials
come from the OS_* variables (tools/keystone.sh's bootstrap), the two
passwords Heat's configuration already holds from HEAT_SERVICE_PASSWORD and
HEAT_DOMAIN_ADMIN_PASSWORD (tools/localheat.sh makes them first, so heat.conf
is written while Keystone still starts). Idempotent.

Made:
- roles member, reader, heat_stack_owner, heat_stack_user (the stack-domain
  users of servers and deployments get heat_stack_user), service;
- project ``service`` with user ``heat`` (admin and service there): the
  identity keystonemiddleware validates tokens with, and the trustee of the
  trusts Heat makes for deferred operations;
- ``heat_stack_owner`` for the admin on project ``admin``, as devstack gives
  it to its users;
- service ``heat`` (orchestration) with public, internal and admin
  endpoints in RegionOne: the openstack client finds Heat in the catalog;
- domain ``heat`` and its admin ``heat_domain_admin``
  (heat-keystone-setup-domain): Heat's stack user domain, where it makes a
  project per stack and a user per server and deployment.
"""

import os
import sys
import time

from keystoneauth1.identity import v3
from keystoneauth1 import session
from keystoneclient.v3 import client

ROLES = ('admin', 'member', 'reader', 'service', 'heat_stack_owner',
         'heat_stack_user')


def one(manager, name, **kwargs):
    found = [o for o in manager.list(name=name, **kwargs) if o.name == name]
    return found[0] if found else None


def by_name(manager, **kwargs):
    # One request for them all: every request is a round trip to a
    # Keystone that boots while Heat does.
    return {o.name: o for o in manager.list(**kwargs)}


def user(ks, name, domain, password):
    found = one(ks.users, name, domain=domain)
    if found:
        return ks.users.update(found, password=password)
    return ks.users.create(name, domain=domain, password=password)


def main(heat_url):
    t0 = time.monotonic()
    auth = v3.Password(auth_url=os.environ['OS_AUTH_URL'],
                       username=os.environ['OS_USERNAME'],
                       password=os.environ['OS_PASSWORD'],
                       project_name=os.environ['OS_PROJECT_NAME'],
                       user_domain_name=os.environ['OS_USER_DOMAIN_NAME'],
                       project_domain_name=os.environ[
                           'OS_PROJECT_DOMAIN_NAME'])
    ks = client.Client(session=session.Session(auth=auth),
                       interface='public')
    default = ks.domains.get('default')
    role = by_name(ks.roles)
    for r in ROLES:
        if r not in role:
            role[r] = ks.roles.create(r)

    service = (one(ks.projects, 'service', domain=default) or
               ks.projects.create('service', domain=default))
    heat = user(ks, 'heat', default, os.environ['HEAT_SERVICE_PASSWORD'])
    for r in ('admin', 'service'):
        ks.roles.grant(role[r], user=heat, project=service)
    admin = one(ks.users, os.environ['OS_USERNAME'], domain=default)
    admin_project = one(ks.projects, os.environ['OS_PROJECT_NAME'],
                        domain=default)
    ks.roles.grant(role['heat_stack_owner'], user=admin,
                   project=admin_project)

    svc = (one(ks.services, 'heat') or
           ks.services.create('heat', 'orchestration',
                              description='Heat Orchestration Service'))
    for ep in ks.endpoints.list(service=svc):
        ks.endpoints.delete(ep)
    for interface in ('public', 'internal', 'admin'):
        ks.endpoints.create(svc, heat_url, interface=interface,
                            region='RegionOne')

    domain = (one(ks.domains, 'heat') or
              ks.domains.create('heat', description='Owns users and '
                                'projects created by heat'))
    domain_admin = user(ks, 'heat_domain_admin', domain,
                        os.environ['HEAT_DOMAIN_ADMIN_PASSWORD'])
    ks.roles.grant(role['admin'], user=domain_admin, domain=domain)
    print('identity for heat in %.1f s: user heat, domain heat with '
          'heat_domain_admin, orchestration endpoint %s'
          % (time.monotonic() - t0, heat_url))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
