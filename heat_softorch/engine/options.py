"""The ``[softorch]`` options of heat.conf.

Registered when the plugin is imported, after heat-engine has parsed its
configuration: so only non-CLI options. ``list_opts()`` feeds
oslo-config-generator (``tox -e genconfig``).
"""

from oslo_config import cfg

from heat_softorch.fabric import connection
from heat_softorch.fabric import quotas

GROUP = 'softorch'

opts = [
    cfg.ListOpt('zookeeper_hosts', default=['127.0.0.1:2181'],
                help='ZooKeeper endpoints (host:port) as the Heat engine '
                     'reaches them. Use an ensemble dedicated to software '
                     'orchestration, not the control plane\'s.'),
    cfg.ListOpt('agent_zookeeper_hosts', default=[],
                help='ZooKeeper endpoints as agents in tenant VMs reach '
                     'them; empty means the same as zookeeper_hosts.'),
    cfg.StrOpt('zookeeper_ca_file', default='',
               help='PEM file of the CA(s) that signed ZooKeeper\'s server '
                    'certificate; empty trusts the system\'s CAs. Agents '
                    'get its content in their user_data (public data) '
                    'unless agent_zookeeper_ca_file names another.'),
    cfg.StrOpt('agent_zookeeper_ca_file', default='',
               help='The CA file to give agents, when the endpoints they '
                    'reach (agent_zookeeper_hosts) present a certificate '
                    'from another CA; empty means zookeeper_ca_file.'),
    cfg.StrOpt('zookeeper_cert_file', default='',
               help='Client certificate (PEM) the engine presents to '
                    'ZooKeeper, for an ensemble with ssl.clientAuth=need '
                    'or an x509 super-user; empty for none.'),
    cfg.StrOpt('zookeeper_key_file', default='',
               help='Private key (PEM) of zookeeper_cert_file.'),
    cfg.BoolOpt('zookeeper_check_hostname', default=True,
                help='Check that ZooKeeper\'s certificate names the '
                     'endpoint connected to (engine and agents). Turn off '
                     'only for certificates that name no endpoint.'),
    cfg.BoolOpt('zookeeper_plaintext', default=False,
                help='Connect to ZooKeeper over plain TCP instead of TLS. '
                     'Digest credentials and every spec, hidden inputs '
                     'included, then cross the network in clear, tenant '
                     'networks included: only for a ZooKeeper reachable '
                     'from trusted networks alone. Logged as a warning.'),
    cfg.StrOpt('root_path', default='/softorch',
               help='zNode under which every stack\'s nodes live.'),
    cfg.StrOpt('engine_user', default='softorch-engine',
               help='Digest user of the engine\'s ZooKeeper identity, which '
                    'has every right on the nodes it creates.'),
    cfg.StrOpt('engine_password', secret=True, default='',
               help='Digest password of the engine\'s ZooKeeper identity. '
                    'Required.'),
    cfg.FloatOpt('connect_timeout', default=10.0, min=1.0,
                 help='Seconds to wait for ZooKeeper before a resource '
                      'action fails with an error naming the endpoints.'),
    cfg.FloatOpt('session_timeout', default=10.0, min=1.0, max=60.0,
                 help='The engine\'s ZooKeeper session timeout, in seconds '
                      '(ZooKeeper bounds it by its own minSessionTimeout and '
                      'maxSessionTimeout). A connection that comes back '
                      'within it keeps its session; after it, the engine '
                      'carries on with a new session. Also the longest a '
                      'single ZooKeeper request of the engine may wait for '
                      'its answer before it counts as a connection loss.'),
    cfg.IntOpt('outage_limit', default=300, min=1,
               help='Seconds ZooKeeper may stay out of reach of an engine '
                    'process before the resource actions waiting on it '
                    'fail (with an error naming ZooKeeper, its endpoints '
                    'and how long it was gone). Until then a lost '
                    'connection or an expired session is retried with a '
                    'new session, unseen by Heat.'),
    cfg.FloatOpt('agent_session_timeout', default=10.0, min=1.0, max=60.0,
                 help='ZooKeeper session timeout, in seconds, written into '
                      'the configuration of each new agent. An agent whose '
                      'connection is gone longer than this loses its '
                      'liveness node and its lock: its components are '
                      'counted as lost after agent_grace_period. Agents '
                      'created before a change keep their value.'),
    cfg.FloatOpt('check_slice', default=1.0, min=0.05, max=5.0,
                 help='Longest time, in seconds, a resource check blocks on '
                      'ZooKeeper watches before returning to Heat, which '
                      'can cancel it between checks.'),
    cfg.IntOpt('agent_grace_period', default=60, min=1,
               help='Seconds an agent may be gone (no liveness zNode) '
                    'before its pending components fail, and, on delete, '
                    'before they are removed without their DELETE config.'),
    cfg.IntOpt('agent_boot_timeout', default=900, min=1,
               help='Seconds a new agent has to come up after its Agent '
                    'resource was created before its components fail.'),
    cfg.StrOpt('agent_install', default='pip',
               choices=[('pip', 'pip install agent_package into a virtual '
                                'environment on the VM'),
                        ('preinstalled', 'run agent_command, already in '
                                         'the image'),
                        ('local', 'run agent_command on this host; for '
                                  'OS::SoftOrch::LocalServer')],
               help='How the user_data of OS::SoftOrch::Agent gets the '
                    'agent onto its VM.'),
    cfg.StrOpt('agent_package', default='heat-softorch',
               help='What pip installs on the VM when agent_install=pip: '
                    'a requirement or an URL.'),
    cfg.StrOpt('agent_pip_index', default='',
               help='Package index for agent_install=pip; empty for pip\'s '
                    'default.'),
    cfg.StrOpt('agent_command', default='softorch',
               help='The softorch command on the VM (agent_install='
                    'preinstalled) or on this host (local).'),
    cfg.IntOpt('max_outputs_bytes', default=quotas.OUTPUTS_BYTES,
               min=1024, max=quotas.OUTPUTS_BYTES,
               help='Most bytes a component\'s published outputs may take '
                    'in ZooKeeper: a hard quota ZooKeeper enforces on the '
                    'VM\'s writes (zookeeper.enforceQuota), so a hostile '
                    'VM cannot fill the ensemble. Applies to components '
                    'registered after a change.'),
    cfg.BoolOpt('enable_local_servers', default=False,
                help='Offer OS::SoftOrch::LocalServer, which runs user_data '
                     'as a local process on the engine\'s host. For demos, '
                     'development and tests only: never on a shared cloud.'),
    cfg.StrOpt('local_server_dir', default='/var/lib/heat-softorch/servers',
               help='Where LocalServer processes get their working '
                    'directories.'),
    cfg.StrOpt('native_agent_venv', default='',
               help='For LocalServers with user_data_format '
                    'SOFTWARE_CONFIG (Heat\'s own software deployments): a '
                    'virtual environment with os-collect-config, '
                    'os-apply-config, os-refresh-config and heat-agents\' '
                    'files under heat-config/, as tools/native-agent.sh '
                    'makes it. Empty: such servers are refused.'),
    cfg.FloatOpt('native_polling_interval', default=30.0, min=1.0,
                 help='os-collect-config\'s polling_interval on those '
                      'LocalServers, in seconds (30, its default in an '
                      'image), unless the server\'s os-collect-config '
                      'metadata sets polling_interval.'),
]


def register(conf=cfg.CONF):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return [(GROUP, opts)]


def agent_endpoints(conf=cfg.CONF):
    group = conf[GROUP]
    return ','.join(group.agent_zookeeper_hosts or group.zookeeper_hosts)


def tls(conf=cfg.CONF):
    """The engine's connection.TLS, or None for plain TCP."""
    group = conf[GROUP]
    if group.zookeeper_plaintext:
        return None
    return connection.TLS(group.zookeeper_ca_file, group.zookeeper_cert_file,
                          group.zookeeper_key_file,
                          group.zookeeper_check_hostname)


def agent_ca_file(conf=cfg.CONF):
    group = conf[GROUP]
    return group.agent_zookeeper_ca_file or group.zookeeper_ca_file
