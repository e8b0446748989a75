"""JSON records with a schema version, sized to ZooKeeper's limits.

Every record is a JSON object carrying ``schema`` and ``kind``. Times are
seconds since the epoch (floats, ms precision): the benchmarks and the
operator's views are computed from them. A sentence meant for people shows
a time with iso().

A ZooKeeper request larger than the server's ``jute.maxbuffer`` (1 MiB by
default) makes the server drop the connection, and a client that retries
repeats the failure forever; so every write is sized here first, path and
ACL included, and refused with an error naming the node.
"""

import json
import time

SCHEMA = 1

# ZooKeeper's default jute.maxbuffer is 0xfffff bytes for a whole request.
MAX_REQUEST_BYTES = 0xfffff
# What a request adds besides path, data and ACL (headers, lengths, flags).
REQUEST_OVERHEAD = 64
# Keep clear of the limit: the server's packet framing is not ours to count.
HEADROOM = 1024

# Component states, in status records and publications.
PENDING = 'PENDING'      # registered; the agent has not taken it up
WAITING = 'WAITING'      # waiting for upstream publications of this epoch
RUNNING = 'RUNNING'
COMPLETE = 'COMPLETE'
FAILED = 'FAILED'
ABANDONED = 'ABANDONED'  # its host was lost; the engine gave up on it
DONE_STATES = (COMPLETE, FAILED, ABANDONED)

# What a spec asks the agent to do.
DEPLOY = 'DEPLOY'        # CREATE or UPDATE: the agent decides from its history
DELETE = 'DELETE'
SUSPEND = 'SUSPEND'
RESUME = 'RESUME'
# Actions that go against the DAG: the engine arms them downstream first.
REVERSE_ACTIONS = (DELETE, SUSPEND)

# A group member's state (groups/<g>/<c>/members/<h>): its consumers read
# it while JOINED; LEAVING asks them to stop, before its DELETE config runs.
JOINED = 'JOINED'
LEAVING = 'LEAVING'


class RecordError(ValueError):
    """A record is unreadable or unwritable; the message names the node."""


class TooLarge(RecordError):
    pass


def now():
    return round(time.time(), 3)


def iso(t):
    """A record's time as people read it: 2026-12-01T15:40:34Z (UTC)."""
    if t is None:
        return 'unknown'
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t))


def encode(kind, record):
    body = dict(record)
    body['schema'] = SCHEMA
    body['kind'] = kind
    return json.dumps(body, sort_keys=True, separators=(',', ':'),
                      ensure_ascii=False).encode('utf-8')


def decode(data, path, kind=None):
    """The record stored at ``path``, or None for an empty node."""
    if not data:
        return None
    try:
        record = json.loads(data.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RecordError('zNode %s does not hold JSON: %s' % (path, exc))
    if not isinstance(record, dict):
        raise RecordError('zNode %s does not hold a JSON object' % path)
    if record.get('schema') != SCHEMA:
        raise RecordError('zNode %s has schema %r; this version reads %d'
                          % (path, record.get('schema'), SCHEMA))
    if kind is not None and record.get('kind') != kind:
        raise RecordError('zNode %s holds a %r record, not %r'
                          % (path, record.get('kind'), kind))
    return record


def request_size(path, data=b'', acl=()):
    size = REQUEST_OVERHEAD + len(path.encode()) + len(data or b'')
    for a in acl:
        size += 12 + len(a.id.scheme) + len(a.id.id)
    return size


def human(n):
    return '%.1f MB' % (n / 1e6) if n >= 100000 else '%d bytes' % n


# What a publication adds to its values: state, epoch, generation, times,
# root cause.
PUBLICATION_OVERHEAD = 512


def publication_bytes(values):
    """About how many bytes a publication of ``values`` takes."""
    return len(encode('publication', {'values': values})) + \
        PUBLICATION_OVERHEAD


def check_size(path, data, acl=(), what=None):
    size = request_size(path, data, acl)
    if size > MAX_REQUEST_BYTES - HEADROOM:
        raise TooLarge('%s is %s, over ZooKeeper\'s limit of about %s per '
                       'node' % (what or 'zNode %s' % path, human(size),
                                 human(MAX_REQUEST_BYTES)))
    return size


def tail(text, limit):
    """The last ``limit`` characters of ``text``, marked when cut."""
    if text is None or len(text) <= limit:
        return text
    return '[... %d characters cut]\n' % (len(text) - limit) + text[-limit:]


def mask(text, secrets):
    """Replace every secret value in ``text`` with ``***``."""
    if not text:
        return text
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, '***')
    return text
