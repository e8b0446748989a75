"""The agent's configuration file (INI, section ``[agent]``).

Written by the ``user_data`` of ``OS::SoftOrch::Agent``; by hand for
anything else::

    [agent]
    host = db_agent-3f2a9c
    stack_id = 7b1d...
    zookeeper = 10.0.0.5:2181,10.0.0.6:2181
    root = /softorch
    state_dir = /var/lib/softorch-agent
    # One of: the password in credential_file, or a one-time enroll_token.
    enroll_token = ...
"""

import configparser
import os

DEFAULTS = {
    'root': '/softorch',
    'state_dir': '/var/lib/softorch-agent',
    'credential_file': '',
    'enroll_token': '',
    'hook_dirs': '/var/lib/heat-config/hooks,/usr/libexec/heat-config/hooks',
    'max_concurrent': '64',
    'connect_timeout': '30',
    'session_timeout': '10',
    'log_file': '',
    'log_level': 'INFO',
}
REQUIRED = ('host', 'stack_id', 'zookeeper')


class ConfigError(Exception):
    pass


class AgentConfig(object):

    def __init__(self, **values):
        merged = dict(DEFAULTS, **{k: str(v) for k, v in values.items()})
        missing = [k for k in REQUIRED if not merged.get(k)]
        if missing:
            raise ConfigError('agent configuration lacks %s'
                              % ', '.join(missing))
        self.host = merged['host']
        self.stack_id = merged['stack_id']
        self.zookeeper = merged['zookeeper']
        self.root = merged['root']
        self.state_dir = os.path.abspath(merged['state_dir'])
        self.credential_file = merged['credential_file'] or os.path.join(
            self.state_dir, 'credential')
        self.enroll_token = merged['enroll_token'] or None
        self.hook_dirs = tuple(d for d in merged['hook_dirs'].split(',') if d)
        self.log_file = merged['log_file'] or None
        self.log_level = merged['log_level'].upper()
        try:
            self.max_concurrent = int(merged['max_concurrent'])
            self.connect_timeout = float(merged['connect_timeout'])
            self.session_timeout = float(merged['session_timeout'])
        except ValueError as exc:
            raise ConfigError('agent configuration: %s' % exc)

    @classmethod
    def load(cls, path):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with open(path) as f:
                parser.read_file(f)
        except OSError as exc:
            raise ConfigError('cannot read agent configuration %s: %s'
                              % (path, exc.strerror))
        except configparser.Error as exc:
            raise ConfigError('agent configuration %s: %s' % (path, exc))
        if not parser.has_section('agent'):
            raise ConfigError('agent configuration %s has no [agent] section'
                              % path)
        return cls(**dict(parser.items('agent')))


def write(path, **values):
    parser = configparser.ConfigParser(interpolation=None)
    parser['agent'] = {k: str(v) for k, v in values.items() if v is not None}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        parser.write(f)
