"""OS::SoftOrch::Agent."""

from heat.common import exception
from heat.engine import attributes
from heat.engine import constraints
from heat.engine import properties
from heat.engine import resource
from heat.engine import support
from oslo_config import cfg

from heat_softorch.engine import bootstrap
from heat_softorch.engine import options
from heat_softorch.engine import preprocessor
from heat_softorch.engine import riding
from heat_softorch.fabric import acls
from heat_softorch.fabric import paths


class Agent(riding.RidesOut, resource.Resource):
    """The heat-softorch agent of one VM.

    Gives the VM its own identity and ZooKeeper credential, and a
    ``user_data`` script that installs, configures and starts the agent.
    Pass that attribute to the server's ``user_data`` with
    ``user_data_format: RAW``. Components name their agent with
    ``agent: {get_resource: <this resource>}``.

    The script carries ZooKeeper's endpoints and CA certificate and a
    one-time enroll token, not the credential. The token can do one thing:
    claim the host. The agent claims it with a secret made on the VM and
    receives the host's credential through a grant only that secret reads,
    then keeps it on the VM and drops the token; so the credential appears
    in no property, attribute, event or log. Anyone who reads the
    user_data can claim too, but any second claim fails the host's
    components at once ("the Agent's user_data may have leaked: replace the
    Agent"). ``user_data`` never changes after creation (Nova would replace
    a server whose ``user_data`` changes).

    ``openstack stack check`` fails the Agent when its agent has been gone
    longer than the grace period; the next ``openstack stack update
    --existing`` then replaces it with a new identity.
    """

    support_status = support.SupportStatus(version='2026.2')
    default_client_name = 'softorch'
    softorch_kind = preprocessor.AGENT

    PROPERTIES = (INSTALL,) = ('install',)

    ATTRIBUTES = (USER_DATA, HOST) = ('user_data', 'host')

    properties_schema = {
        INSTALL: properties.Schema(
            properties.Schema.STRING,
            'How the user_data installs the agent: pip (from a package '
            'index), preinstalled (in the image) or local (this host, for '
            'OS::SoftOrch::LocalServer). Defaults to heat.conf\'s '
            '[softorch] agent_install. Read when the agent is created.',
            constraints=[constraints.AllowedValues(['pip', 'preinstalled',
                                                    'local'])],
            update_allowed=True),
    }

    attributes_schema = {
        USER_DATA: attributes.Schema(
            'Script that boots the agent; the server\'s user_data.',
            type=attributes.Schema.STRING),
        HOST: attributes.Schema(
            'The agent\'s host identity in ZooKeeper.',
            type=attributes.Schema.STRING),
    }

    def handle_create(self):
        conf = cfg.CONF[options.GROUP]
        # Chosen once: a retry after a ZooKeeper fault must write the same
        # host (add_host finds it there), not leave a stray one behind.
        host = paths.new_host(self.name)
        password, token = acls.new_secret(), acls.new_secret()
        plan = preprocessor.analysis(self.stack.defn)
        servers = sorted(plan.servers_of(self.name)) if plan else []

        def add(fabric):
            fabric.registry.ensure_stack()
            fabric.registry.add_host(host, password, {
                'agent': self.name, 'server': servers[0] if servers else None,
                'servers': servers, 'stack_name': self.stack.name},
                enroll_token=token)
            fabric.progress.enrollment.watch(host)

        self._zk('registering agent', add)
        self.data_set('user_data', bootstrap.user_data(
            self.properties[self.INSTALL] or conf.agent_install, host,
            self.stack.id, self.stack.name, options.agent_endpoints(),
            conf.root_path, token, command=conf.agent_command,
            package=conf.agent_package, index=conf.agent_pip_index,
            tls=not conf.zookeeper_plaintext, ca_pem=self._agent_ca(),
            check_hostname=conf.zookeeper_check_hostname,
            session_timeout=conf.agent_session_timeout))
        self.resource_id_set(host)

    @staticmethod
    def _agent_ca():
        path = options.agent_ca_file()
        if not path:
            return None
        try:
            with open(path) as f:
                return f.read()
        except OSError as exc:
            raise exception.Error('cannot read the ZooKeeper CA file %s '
                                  '([softorch] zookeeper_ca_file) for the '
                                  'agent\'s user_data: %s'
                                  % (path, exc.strerror))

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        # user_data must stay as created: nothing to do.
        return None

    def handle_delete(self):
        if self.resource_id:
            self._zk('removing agent', lambda fabric:
                     fabric.registry.remove_host(self.resource_id))

    def _check_host(self):
        return self.resource_id

    def _check_watched(self, fabric, host):
        return [], [fabric.paths.liveness(host)]

    def _resolve_attribute(self, name):
        if name == self.USER_DATA:
            return self.data().get('user_data')
        if name == self.HOST:
            return self.resource_id


def resource_mapping():
    return {'OS::SoftOrch::Agent': Agent}
