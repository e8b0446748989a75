"""Connecting to ZooKeeper with an identity, over TLS, failing in bounded
time.

kazoo retries a connection forever by default; a user who typed a wrong
endpoint should get an error naming it instead of a hang. kazoo also
reports every TLS failure (an untrusted certificate, a server that does
not speak TLS) as the same timeout, so a failed connection is diagnosed
with one direct handshake before the error is raised: the message then
says what to fix.
"""

import collections
import logging
import socket
import ssl

from kazoo import client as kz_client
from kazoo import exceptions as kz_exc
from kazoo.handlers import threading as kz_threading
from kazoo import retry as kz_retry

LOG = logging.getLogger(__name__)


class Unreachable(Exception):
    """ZooKeeper could not be reached; the message names the endpoints."""


class TLS(collections.namedtuple('TLS', 'ca certfile keyfile check_hostname')):
    """How to reach ZooKeeper over TLS. ``ca`` is a PEM file of the CAs to
    trust (None: the system's); ``certfile``/``keyfile`` an optional client
    certificate. The server's certificate is always verified; its name is
    checked against the endpoint when ``check_hostname``."""

    def __new__(cls, ca=None, certfile=None, keyfile=None,
                check_hostname=True):
        return super(TLS, cls).__new__(cls, ca or None, certfile or None,
                                       keyfile or None, bool(check_hostname))

    def kazoo_args(self):
        return dict(use_ssl=True, ca=self.ca, certfile=self.certfile,
                    keyfile=self.keyfile, verify_certs=True,
                    check_hostname=self.check_hostname)

    def context(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = self.check_hostname
        if self.certfile and self.keyfile:
            ctx.load_cert_chain(self.certfile, self.keyfile)
        return ctx


def endpoints(hosts):
    """[(host, port)] of a kazoo hosts string (chroot and spaces ignored)."""
    found = []
    for item in hosts.split('/', 1)[0].split(','):
        item = item.strip()
        if not item:
            continue
        host, _, port = item.rpartition(':')
        if not host:
            host, port = port, '2181'
        found.append((host.strip('[]'), int(port)))
    return found


def diagnose(hosts, tls, timeout=3.0):
    """Why a connection to ``hosts`` fails, in words, from one handshake
    with its first endpoint; None when that handshake succeeds."""
    try:
        host, port = endpoints(hosts)[0]
    except (IndexError, ValueError):
        return 'the endpoints %r are not host:port' % hosts
    try:
        raw = socket.create_connection((host, port), timeout)
    except OSError as exc:
        return 'cannot connect to %s:%d: %s' % (
            host, port, exc.strerror or exc)
    try:
        raw.settimeout(timeout)
        probe = tls or TLS(check_hostname=False)
        ctx = probe.context()
        if tls is None:
            ctx.verify_mode = ssl.CERT_NONE
        try:
            ctx.wrap_socket(raw, server_hostname=host).close()
        except ssl.SSLCertVerificationError as exc:
            return ('the server\'s certificate is not trusted (%s): give the '
                    'CA that signed it' % (exc.verify_message or exc))
        except (ssl.SSLError, OSError) as exc:
            if tls is None:
                return None
            return ('TLS handshake with %s:%d failed (%s): is it ZooKeeper\'s '
                    'secureClientPort?' % (host, port, exc))
        if tls is None:
            return ('%s:%d speaks TLS and this client was configured for '
                    'plain TCP' % (host, port))
        return None
    finally:
        raw.close()


class _BoundedResult(kz_threading.AsyncResult):
    """A request's result that a blocking get() waits for no longer than
    the handler's bound. kazoo queues a request made while it reconnects
    and answers it only once connected again, or once it learns the
    session expired: during an outage a plain ``client.get()`` would block
    for as long as ZooKeeper is gone. Past the bound the wait raises
    OperationTimeoutError, which callers retry like a lost connection (the
    request may still be sent later, as after any connection loss)."""

    def get(self, block=True, timeout=None):
        if block and timeout is None:
            try:
                return super(_BoundedResult, self).get(
                    True, self._handler.request_timeout)
            except kz_threading.KazooTimeoutError:
                raise kz_exc.OperationTimeoutError(
                    'no answer from ZooKeeper within %.0f s'
                    % self._handler.request_timeout)
        return super(_BoundedResult, self).get(block, timeout)


class _BoundedHandler(kz_threading.SequentialThreadingHandler):

    def __init__(self, request_timeout):
        super(_BoundedHandler, self).__init__()
        self.request_timeout = request_timeout

    def async_result(self):
        return _BoundedResult(self)


def connect(hosts, credential=None, timeout=10.0, session_timeout=10.0,
            default_acl=None, tls=None, request_timeout=None):
    """A started KazooClient authenticated as ``credential`` (user:password),
    over TLS unless ``tls`` is None.

    Raises Unreachable after ``timeout`` seconds. Once connected, the client
    reconnects on its own for as long as it lives. With ``request_timeout``
    no blocking request waits longer than that for its answer (see
    _BoundedResult); without, a request waits until the connection is back.
    """
    if not hosts:
        raise Unreachable('no ZooKeeper endpoints configured')
    auth = [('digest', credential)] if credential else None
    extra = tls.kazoo_args() if tls else {}
    if request_timeout:
        extra['handler'] = _BoundedHandler(request_timeout)
    # max_tries=-1: keep reconnecting once up; start() bounds the first try.
    client = kz_client.KazooClient(
        hosts=hosts, auth_data=auth, timeout=session_timeout,
        default_acl=default_acl,
        connection_retry=kz_retry.KazooRetry(max_tries=-1, max_delay=2),
        command_retry=kz_retry.KazooRetry(max_tries=5, max_delay=2),
        **extra)
    try:
        client.start(timeout=timeout)
    except (kz_threading.KazooTimeoutError, kz_exc.KazooException,
            ValueError, OSError, ssl.SSLError) as exc:
        try:
            client.stop()
            client.close()
        except Exception:  # noqa: the first error is the one worth showing
            pass
        why = diagnose(hosts, tls) or (
            type(exc).__name__ if isinstance(exc, kz_exc.KazooException)
            or not str(exc) else str(exc))
        raise Unreachable('ZooKeeper unreachable at %s%s after %.0f s (%s)'
                          % (hosts, ' over TLS' if tls else '', timeout, why))
    return client


def close(client):
    if client is None:
        return
    try:
        client.stop()
    finally:
        client.close()
