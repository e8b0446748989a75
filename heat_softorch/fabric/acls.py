"""Digest identities and the ACL of every kind of zNode.

ZooKeeper ACLs are per node and not inherited: every node is created with
its full list. The engine's identity has all rights everywhere; a host's
identity gets only what the table in paths.py gives it.
"""

import hashlib
import secrets

from kazoo import security

ENROLL_SUFFIX = '.enroll'


def new_secret():
    return secrets.token_urlsafe(24)


def credential(user, password):
    """The ``user:password`` string kazoo's ``auth_data`` takes."""
    return '%s:%s' % (user, password)


def digest_id(user, password):
    """The ACL id of a digest identity: kept instead of the password."""
    return security.make_digest_acl_credential(user, password)


def split_credential(cred):
    user, sep, password = cred.partition(':')
    if not sep or not user or not password:
        raise ValueError('a credential is written user:password')
    return user, password


def _acl(ident, **perms):
    return security.make_acl('digest', ident, **perms)


def engine_only(engine_id):
    return [_acl(engine_id, all=True)]


def host_record(engine_id, host_id):
    return [_acl(engine_id, all=True), _acl(host_id, read=True)]


def enroll(engine_id, enroll_id):
    """The enroll token may add claims and nothing else: it cannot read
    the password this node holds until a claim is answered."""
    return [_acl(engine_id, all=True), _acl(enroll_id, create=True)]


def claim():
    """A claim holds only the digest id of the claimant's secret: anyone
    may read it, nobody change it (the engine removes it as the parent's
    owner)."""
    return [security.make_acl('world', 'anyone', read=True)]


def grant(engine_id, claim_id):
    return [_acl(engine_id, all=True), _acl(claim_id, read=True)]


def host_readable(engine_id, host_id):
    return [_acl(engine_id, all=True), _acl(host_id, read=True)]


def host_writable(engine_id, host_id, readers=()):
    acl = [_acl(engine_id, all=True), _acl(host_id, read=True, write=True)]
    acl += [_acl(r, read=True) for r in sorted(set(readers)) if r != host_id]
    return acl


def liveness(engine_id, host_id):
    return [_acl(engine_id, all=True),
            _acl(host_id, read=True, create=True, delete=True)]


def agent_created(host_id):
    """What an agent gives the nodes it creates itself (its lock nodes).
    The engine needs no right on them: removing a child is a right on the
    parent, which the engine has."""
    return [_acl(host_id, all=True)]


def read_only(ident):
    return _acl(ident, read=True)


def readers_of(acl_list):
    return {a.id.id for a in acl_list if a.perms == security.Permissions.READ}


def without_readers(acl_list, ids):
    """``acl_list`` less the read-only entries of ``ids``."""
    return [a for a in acl_list if not (
        a.perms == security.Permissions.READ and a.id.id in ids)]


def fingerprint(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]
