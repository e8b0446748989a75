"""What heat-softorch needs of the ensemble itself, checked and set.

A fresh ZooKeeper leaves ``/`` and ``/zookeeper/quota`` open to every
client (``world:anyone`` with all rights): a host could create nodes at the
root, or set a quota of zero on another stack's path. ZooKeeper checks ACLs
per node and never along the path, so closing these two to everyone but the
engine takes nothing from hosts, which reach their own nodes by full path.

The engine should also be ZooKeeper's super-user (``superDigest``): a host
may create children with an ACL that shuts the engine out (under its lock
node, where it has the create right for its locks), and only a super-user
can then remove its subtree.
"""

import socket
import uuid

from kazoo import exceptions as kz_exc
from kazoo import security

from heat_softorch.fabric import acls

QUOTA_ROOT = '/zookeeper/quota'
LOCKED = ('/', QUOTA_ROOT)


def _world_writable(acl):
    return any(a.id.scheme == 'world' and a.perms & (
        security.Permissions.CREATE | security.Permissions.WRITE |
        security.Permissions.DELETE | security.Permissions.ADMIN)
        for a in acl)


def lockdown(client, engine_id):
    """Give ``/`` and ``/zookeeper/quota`` to the engine alone. Returns the
    paths whose ACL changed."""
    changed = []
    for path in LOCKED:
        acl, _ = client.get_acls(path)
        wanted = acls.engine_only(engine_id)
        if list(acl) != wanted:
            client.set_acls(path, wanted)
            changed.append(path)
    return changed


def is_super(client, root):
    """Whether this session passes every ACL check: it reads back a node it
    created with an ACL that leaves it out. ``root`` must exist and be
    writable by this session."""
    probe = '%s/superuser-probe-%s' % (root.rstrip('/'), uuid.uuid4().hex)
    stranger = acls.digest_id('softorch-probe', uuid.uuid4().hex)
    client.create(probe, b'', acl=[security.make_acl('digest', stranger,
                                                     all=True)],
                  ephemeral=True)
    try:
        client.get(probe)
        return True
    except kz_exc.NoAuthError:
        return False
    finally:
        try:
            client.delete(probe)
        except kz_exc.NoNodeError:
            pass


def audit(client, root):
    """Sentences naming what an operator should fix; empty when the
    ensemble is locked down and the engine is its super-user."""
    problems = []
    for path in LOCKED:
        try:
            acl, _ = client.get_acls(path)
        except kz_exc.NoNodeError:
            continue
        if _world_writable(acl):
            problems.append(
                "'%s' is writable by any ZooKeeper client: run `softorch "
                "zookeeper lockdown` (doc/security.md)" % path)
    if client.exists(root) and not is_super(client, root):
        problems.append(
            'the engine\'s identity is not ZooKeeper\'s super-user: a '
            'hostile host can create nodes the engine cannot remove; set '
            'zookeeper.DigestAuthenticationProvider.superDigest '
            '(doc/security.md)')
    return problems


def four_letter(host, port, word, tls=None, timeout=5.0):
    """A four-letter command's answer (srvr, mntr, ruok) from one server,
    over TLS when ``tls`` (a connection.TLS) is given."""
    with socket.create_connection((host, int(port)), timeout=timeout) as raw:
        sock = tls.context().wrap_socket(
            raw, server_hostname=host) if tls else raw
        sock.sendall(word.encode())
        out = b''
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return out.decode()
            out += chunk
