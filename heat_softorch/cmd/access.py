"""How the operator's commands reach ZooKeeper and Heat.

ZooKeeper: heat.conf's ``[softorch]`` section (``--config-file`` or
``$SOFTORCH_CONFIG_FILE``, read with configparser: the command needs none
of oslo), each option overridden by a flag. Heat: the OpenStack client's
environment: a keystoneauth session from the ``OS_*`` variables (what
``make up`` writes to its openrc, for its Keystone) or ``OS_CLOUD`` through
openstacksdk's configuration loader; with ``OS_AUTH_TYPE=none`` and
``OS_ENDPOINT``, a noauth Heat's endpoint. Without either, a stack name is
looked up in the manifests in ZooKeeper, which carry the stack's name.

Every failure the operator can cause or fix is an :class:`OperatorError`
whose message is a sentence; the commands print it, never a traceback.
"""

import configparser
import logging
import os
import re
import sys

DEFAULT_CONFIG = '/etc/heat/heat.conf'
CONFIG_ENV = 'SOFTORCH_CONFIG_FILE'
DEFAULTS = {'zookeeper_hosts': '127.0.0.1:2181', 'root_path': '/softorch',
            'engine_user': 'softorch-engine', 'engine_password': '',
            'zookeeper_ca_file': '', 'zookeeper_cert_file': '',
            'zookeeper_key_file': '', 'zookeeper_check_hostname': 'true',
            'zookeeper_plaintext': 'false'}
UUID = re.compile(r'^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$', re.I)


class OperatorError(Exception):
    """A sentence for the operator."""


def add_zookeeper_args(parser):
    g = parser.add_argument_group(
        'ZooKeeper access (default: heat.conf\'s [softorch] section)')
    g.add_argument('--config-file', metavar='FILE',
                   default=os.environ.get(CONFIG_ENV) or None,
                   help='heat.conf to read [softorch] from (default $%s, '
                   'else %s)' % (CONFIG_ENV, DEFAULT_CONFIG))
    g.add_argument('--zookeeper', metavar='HOSTS',
                   help='ZooKeeper endpoints, host:port[,host:port...]')
    g.add_argument('--engine-password', metavar='PW',
                   help='the engine\'s ZooKeeper digest password')
    g.add_argument('--engine-user', metavar='USER',
                   help='the engine\'s ZooKeeper digest user')
    g.add_argument('--root', metavar='PATH',
                   help='the root zNode of heat-softorch (root_path)')
    g.add_argument('--connect-timeout', type=float, default=10.0,
                   metavar='SECONDS',
                   help='give up on ZooKeeper after this long (default 10)')


def zookeeper_settings(args):
    """{'zookeeper_hosts', 'root_path', 'engine_user', 'engine_password'}
    from the config file, overridden by flags."""
    settings = dict(DEFAULTS)
    path = args.config_file or DEFAULT_CONFIG
    if args.config_file or os.path.exists(path):
        if not os.path.exists(path):
            raise OperatorError('configuration file %s does not exist'
                                % path)
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read(path)
        except (configparser.Error, OSError, UnicodeDecodeError) as exc:
            raise OperatorError('configuration file %s cannot be read: %s'
                                % (path, exc))
        if parser.has_section('softorch'):
            for key in settings:
                if parser.has_option('softorch', key):
                    settings[key] = parser.get('softorch', key).strip()
    for key, flag in (('zookeeper_hosts', 'zookeeper'),
                      ('root_path', 'root'), ('engine_user', 'engine_user'),
                      ('engine_password', 'engine_password')):
        if getattr(args, flag, None):
            settings[key] = getattr(args, flag)
    settings['zookeeper_hosts'] = ','.join(
        h.strip() for h in settings['zookeeper_hosts'].split(',')
        if h.strip())
    settings['config_file'] = path
    return settings


def _true(settings, key):
    value = settings[key].lower()
    if value not in configparser.RawConfigParser.BOOLEAN_STATES:
        raise OperatorError('[softorch] %s = %r is not true or false'
                            % (key, settings[key]))
    return configparser.RawConfigParser.BOOLEAN_STATES[value]


def tls_settings(settings):
    """connection.TLS from [softorch], as the engine reads it."""
    from heat_softorch.fabric import connection
    if _true(settings, 'zookeeper_plaintext'):
        return None
    return connection.TLS(settings['zookeeper_ca_file'],
                          settings['zookeeper_cert_file'],
                          settings['zookeeper_key_file'],
                          _true(settings, 'zookeeper_check_hostname'))


def connect_zookeeper(args):
    """(kazoo client, settings) as the engine's identity."""
    from heat_softorch.fabric import acls
    from heat_softorch.fabric import connection
    # kazoo logs every failed connection attempt; the sentence below says
    # it once.
    logging.getLogger('kazoo').addHandler(logging.NullHandler())
    settings = zookeeper_settings(args)
    if not settings['engine_password']:
        raise OperatorError(
            'no engine password for ZooKeeper: give --engine-password or '
            'set engine_password in the [softorch] section of %s (or point '
            '--config-file at the heat.conf that has it)'
            % settings['config_file'])
    try:
        client = connection.connect(
            settings['zookeeper_hosts'],
            acls.credential(settings['engine_user'],
                            settings['engine_password']),
            timeout=args.connect_timeout, tls=tls_settings(settings))
    except connection.Unreachable as exc:
        raise OperatorError(str(exc))
    return client, settings


def close(client):
    from heat_softorch.fabric import connection
    try:
        connection.close(client)
    except Exception:  # noqa: closing is best effort
        pass


# -- Heat ---------------------------------------------------------------------

def heat_client(environ=None):
    """(heatclient, where) from the OpenStack client's environment, or
    (None, None) when the environment names no cloud."""
    env = os.environ if environ is None else environ
    from heatclient import client as heat_clients
    auth_type = (env.get('OS_AUTH_TYPE') or '').lower()
    endpoint = env.get('OS_ENDPOINT') or env.get('OS_URL')
    if auth_type in ('none', 'noauth') or (endpoint and not env.get(
            'OS_AUTH_URL') and not env.get('OS_CLOUD')):
        if not endpoint:
            raise OperatorError('OS_AUTH_TYPE=none needs OS_ENDPOINT, the '
                                'Heat API URL')
        return heat_clients.Client('1', endpoint=endpoint,
                                   token=env.get('OS_TOKEN') or 'noauth'), \
            endpoint
    if not (env.get('OS_AUTH_URL') or env.get('OS_CLOUD')):
        return None, None
    try:
        import openstack.config
        region = openstack.config.OpenStackConfig().get_one(
            cloud=env.get('OS_CLOUD'))
        session = region.get_session()
        kwargs = {'session': session, 'service_type': 'orchestration',
                  'interface': region.get_interface() or 'public'}
        if region.region_name:
            kwargs['region_name'] = region.region_name
        override = region.get_endpoint('orchestration')
        if override:
            kwargs['endpoint_override'] = override
        where = env.get('OS_CLOUD') or env.get('OS_AUTH_URL')
        return heat_clients.Client('1', **kwargs), where
    except Exception as exc:  # noqa: sdk and keystoneauth raise many kinds
        raise OperatorError('cannot set up the OpenStack client from the '
                            'OS_* environment: %s' % _short(exc))


def _short(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Stack(object):
    """A stack as the commands know it."""

    def __init__(self, stack_id, name, heat=None, heat_stack=None):
        self.id = stack_id
        self.name = name
        self.heat = heat
        self.heat_stack = heat_stack

    @property
    def status(self):
        if self.heat_stack is None:
            return None
        return self.heat_stack.stack_status

    @property
    def status_reason(self):
        if self.heat_stack is None:
            return None
        return getattr(self.heat_stack, 'stack_status_reason', None)

    @property
    def label(self):
        return '%s (%s)' % (self.name, self.id) if self.name else self.id


def find_stack(name_or_id, client, root, environ=None):
    """The Stack named ``name_or_id``: through Heat when the environment
    names one, else from the manifests in ZooKeeper."""
    heat, where = heat_client(environ)
    if heat is not None:
        from heatclient import exc as heat_exc
        try:
            st = heat.stacks.get(name_or_id, resolve_outputs=False)
        except heat_exc.HTTPNotFound:
            raise OperatorError('stack %s not found in Heat at %s'
                                % (name_or_id, where))
        except heat_exc.HTTPUnauthorized:
            raise OperatorError('Heat at %s refused the credentials of the '
                                'OS_* environment' % where)
        except heat_exc.HTTPException as exc:
            raise OperatorError('Heat at %s could not show stack %s: %s'
                                % (where, name_or_id, _short(exc)))
        except Exception as exc:  # noqa: connection errors of many kinds
            raise OperatorError('Heat unreachable at %s: %s'
                                % (where, _short(exc)))
        return Stack(st.id, st.stack_name, heat, st)
    from heat_softorch.fabric import view
    found = []
    for stack_id, manifest in view.stacks(client, root):
        name = (manifest or {}).get('stack_name')
        if name_or_id in (stack_id, name):
            found.append(Stack(stack_id, name))
    if not found:
        raise OperatorError(
            'stack %s not found: no stack of that name or id has zNodes '
            'under %s/stacks (with no OS_* environment, Heat was not asked)'
            % (name_or_id, root.rstrip('/')))
    if len(found) > 1:
        raise OperatorError('%d stacks are named %s: give the stack id (%s)'
                            % (len(found), name_or_id,
                               ', '.join(s.id for s in found)))
    return found[0]


def stack_view(args, stack_arg, watch=None, full_specs=False):
    """(client, settings, Stack, view) for a stack argument; the caller
    closes the client."""
    from heat_softorch.fabric import view
    client, settings = connect_zookeeper(args)
    try:
        stack = find_stack(stack_arg, client, settings['root_path'])
        try:
            data = view.read(client, settings['root_path'], stack.id,
                             watch=watch, full_specs=full_specs)
        except view.StackNotFound:
            raise OperatorError(
                'stack %s has nothing in ZooKeeper at %s (%s/stacks): it has '
                'no software components yet, or another [softorch] '
                'root_path' % (stack.label, settings['zookeeper_hosts'],
                               settings['root_path'].rstrip('/')))
        except view.ViewError as exc:
            raise OperatorError(str(exc))
    except BaseException:
        close(client)
        raise
    return client, settings, stack, data


def run(func, args):
    """Call ``func(args)``, turning the operator's errors into the
    ``softorch <command>: <sentence>`` that main() prints with exit 1."""
    try:
        return func(args)
    except OperatorError as exc:
        return 'softorch %s: %s' % (args.command, exc)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Piped into head or less that quit: not an error worth a word.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        # ZooKeeper going away in the middle of a read is no bug of ours.
        if type(exc).__module__.startswith('kazoo'):
            return 'softorch %s: ZooKeeper failed during the read (%s): ' \
                'try again' % (args.command, type(exc).__name__)
        raise
