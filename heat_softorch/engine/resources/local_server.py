"""OS::SoftOrch::LocalServer."""

import email
import os
import shlex
import shutil
import signal
import subprocess
import sys
import uuid

import psutil
from heat.common import exception
from heat.engine import attributes
from heat.engine import properties
from heat.engine.resources.openstack.nova import server as nova_server
from heat.engine.resources import server_base
from heat.engine import support
from oslo_config import cfg
from oslo_log import log as logging

from heat_softorch.engine import options

LOG = logging.getLogger(__name__)

ADDRESS = '127.0.0.1'
NETWORK = 'local'
STOP_SECONDS = 10
# A VM's PATH, after the image's own tools: not the engine host's.
IMAGE_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'


Nova = nova_server.Server


def _nova_properties():
    # Every property OS::Nova::Server has, as a plain value of the same
    # type without Nova's constraints: a cloud template runs unchanged.
    schemas = {name: properties.Schema(schema.type, schema.description,
                                       default=schema.default,
                                       update_allowed=True)
               for name, schema in Nova.properties_schema.items()}
    # Heat's own default transport (POLL_SERVER_CFN) needs heat-api-cfn;
    # the native API's is the one every Heat serves.
    schemas[Nova.SOFTWARE_CONFIG_TRANSPORT] = properties.Schema(
        properties.Schema.STRING,
        'How os-collect-config reaches the deployments of a '
        'SOFTWARE_CONFIG server: only POLL_SERVER_HEAT here.',
        default=Nova.POLL_SERVER_HEAT, update_allowed=True)
    return schemas


def _scripts(user_data):
    """The shell scripts in user_data: itself, or the x-shellscript parts
    of a MIME multipart (OS::Heat::MultipartMime), in order."""
    if not user_data.lstrip().lower().startswith(('content-type:',
                                                  'mime-version:')):
        return [user_data]
    message = email.message_from_string(user_data)
    return [part.get_payload(decode=True).decode()
            for part in message.walk()
            if part.get_content_type() == 'text/x-shellscript']


MARKER = 'SOFTORCH_LOCAL_SERVER'

# Starts a server's process and exits at once: the server is re-parented to
# init instead of being a child of the engine worker that created it (which
# may restart, or be another worker than the one deleting the server: a
# child of one worker killed by the other stays a zombie). Prints the pid,
# which leads the server's session and process group.
_DETACH = """
import subprocess, sys
with open(sys.argv[1], 'ab') as log:
    p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True,
                         close_fds=True)
print(p.pid)
"""


def launch(argv, workdir, env, log):
    """Start argv in workdir, detached from this process; its pid."""
    out = subprocess.run([sys.executable, '-c', _DETACH, log] + argv,
                         cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60,
                         check=True)
    return int(out.stdout)


def stop_tree(pid, workdir, timeout=STOP_SECONDS):
    """Stop a server's process and everything it started: its descendants,
    and whatever carries its marker in its environment (a service a script
    started in the background has left the tree for init)."""
    procs = []
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        pass
    pids = {p.pid for p in procs}
    for p in psutil.process_iter():
        try:
            if p.pid not in pids and p.environ().get(MARKER) == workdir:
                procs.append(p)
        except (psutil.Error, OSError):
            continue
    for p in procs:
        try:
            p.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=timeout)


class LocalServer(server_base.BaseServer):
    """A stand-in for OS::Nova::Server that runs user_data locally.

    Each server is a process on the Heat engine's host, in a working
    directory of its own (with a pidfile), detached from the engine. It
    accepts every property of OS::Nova::Server as a plain value, without
    Nova's constraints, and offers ``name``, ``first_address``,
    ``networks``, ``addresses`` (loopback) and ``os_collect_config``, so
    that::

        resource_registry:
          OS::Nova::Server: OS::SoftOrch::LocalServer

    runs a cloud template on one machine.

    With ``user_data_format`` RAW (or any format but SOFTWARE_CONFIG) the
    process runs the server's ``user_data`` (a script, or the shell-script
    parts of a MIME multipart), as cloud-init would: an
    OS::SoftOrch::Agent's ``user_data`` starts a heat-softorch agent.

    With ``user_data_format: SOFTWARE_CONFIG`` it is a server of Heat's own
    software deployments, as OS::Nova::Server makes one: a user of its own
    in the stack user domain, the ``deployments`` and ``os-collect-config``
    metadata, transport POLL_SERVER_HEAT; the process is os-collect-config
    with heat-agents' hooks (script, ansible, puppet), as in a Heat-ready
    image, from heat.conf's ``[softorch] native_agent_venv``, polling
    every ``native_polling_interval`` seconds (or the ``polling_interval``
    of the server's ``os-collect-config`` metadata). ``user_data``, if
    any, runs beside it. OS::Heat::SoftwareDeployment, StructuredDeployment
    and SoftwareDeploymentGroup then run unchanged.

    A new ``user_data`` (a replaced Agent's) replaces the server, as
    Nova's default ``user_data_update_policy`` (REPLACE) does: the new
    agent runs in a new process, the old one's DELETE configs run before
    its process stops. Deleting the server stops its process and
    everything it started (and deletes its stack-domain user).

    Refused unless heat.conf sets ``[softorch] enable_local_servers =
    true``: it is for demos, development and tests, never for a shared
    cloud.
    """

    support_status = support.SupportStatus(version='2026.2')

    # What BaseServer's software-config transport reads, as Nova names it.
    (NAME, USER_DATA, USER_DATA_FORMAT, SOFTWARE_CONFIG_TRANSPORT,
     DEPLOYMENT_SWIFT_DATA) = (
        Nova.NAME, Nova.USER_DATA, Nova.USER_DATA_FORMAT,
        Nova.SOFTWARE_CONFIG_TRANSPORT, Nova.DEPLOYMENT_SWIFT_DATA)
    CONTAINER, OBJECT = Nova.CONTAINER, Nova.OBJECT
    SOFTWARE_CONFIG = Nova.SOFTWARE_CONFIG
    (POLL_SERVER_CFN, POLL_SERVER_HEAT, POLL_TEMP_URL, ZAQAR_MESSAGE) = (
        Nova.POLL_SERVER_CFN, Nova.POLL_SERVER_HEAT, Nova.POLL_TEMP_URL,
        Nova.ZAQAR_MESSAGE)

    properties_schema = _nova_properties()

    ATTRIBUTES = (NAME_ATTR, FIRST_ADDRESS, NETWORKS, ADDRESSES,
                  OS_COLLECT_CONFIG) = (
        'name', 'first_address', 'networks', 'addresses',
        'os_collect_config')

    attributes_schema = {
        NAME_ATTR: attributes.Schema('Name of the server.',
                                     type=attributes.Schema.STRING),
        FIRST_ADDRESS: attributes.Schema('The server\'s address.',
                                         type=attributes.Schema.STRING),
        NETWORKS: attributes.Schema('{network: [addresses]}.',
                                    type=attributes.Schema.MAP),
        ADDRESSES: attributes.Schema(
            '{network: [{addr, version}]}, as Nova gives them.',
            type=attributes.Schema.MAP),
        OS_COLLECT_CONFIG: attributes.Schema(
            'The os-collect-config configuration of a SOFTWARE_CONFIG '
            'server (its credentials included, as Nova\'s server shows '
            'them).', type=attributes.Schema.MAP),
    }

    # No Nova: nothing to show or check through a client. (BaseServer's
    # 'servers' would make Heat ask the default client, and a default
    # client would make Heat look for its service in Keystone's catalog,
    # which a noauth Heat has not got.)
    entity = None

    def __init__(self, name, json_snippet, stack):
        super(LocalServer, self).__init__(name, json_snippet, stack)
        if self.user_data_software_config():
            # As OS::Nova::Server: on every load of the stack, let this
            # server's stack-domain user read its own metadata (Heat
            # answers os-collect-config 403 otherwise).
            self._register_access_key()

    def user_data_software_config(self):
        return (self.properties[self.USER_DATA_FORMAT] ==
                self.SOFTWARE_CONFIG)

    def validate(self):
        super(LocalServer, self).validate()
        conf = cfg.CONF[options.GROUP]
        if not conf.enable_local_servers:
            raise exception.StackValidationFailed(message=(
                '%s: OS::SoftOrch::LocalServer is disabled. It runs user_data '
                'as a process on the Heat engine\'s host, for demos and tests '
                'only; set [softorch] enable_local_servers = true in '
                'heat.conf to allow it.' % self.name))
        if not self.user_data_software_config():
            return
        transport = self.properties[self.SOFTWARE_CONFIG_TRANSPORT]
        if transport != self.POLL_SERVER_HEAT:
            raise exception.StackValidationFailed(message=(
                '%s: software_config_transport %s is not available on an '
                'OS::SoftOrch::LocalServer (it needs heat-api-cfn, Swift or '
                'Zaqar); use POLL_SERVER_HEAT, its default.'
                % (self.name, transport)))
        if not os.access(self._native_command('os-collect-config'),
                         os.X_OK):
            raise exception.StackValidationFailed(message=(
                '%s: user_data_format SOFTWARE_CONFIG needs os-collect-config '
                'and heat-agents\' hooks on the engine\'s host: set '
                '[softorch] native_agent_venv in heat.conf to a venv made by '
                'tools/native-agent.sh (now %r).'
                % (self.name, conf.native_agent_venv)))

    @staticmethod
    def _native_command(name):
        return os.path.join(cfg.CONF[options.GROUP].native_agent_venv or
                            '/nonexistent', 'bin', name)

    def _server_name(self):
        return self.properties.get(self.NAME) or self.physical_resource_name()

    def _get_region_name(self):
        # BaseServer asks its default client plugin, Nova's for a server.
        return (self.context.region_name or
                cfg.CONF.region_name_for_services)

    def handle_create(self):
        base = cfg.CONF[options.GROUP].local_server_dir
        if self.user_data_software_config():
            # Heat keeps a deployment's server id in a 36-character column:
            # a uuid, as Nova's. The working directory still starts with
            # the stack id, as every LocalServer's does.
            server_id = str(uuid.uuid4())
            workdir = os.path.join(base, '%s-%s-%s' % (
                self.stack.id, self.name, server_id))
        else:
            workdir = os.path.join(base, '%s-%s-%s' % (
                self.stack.id, self.name, uuid.uuid4().hex[:6]))
            server_id = os.path.basename(workdir)
        os.makedirs(workdir, mode=0o700)
        self.data_set('workdir', workdir)
        self.resource_id_set(server_id)
        user_data = self.properties.get(self.USER_DATA) or ''
        paths = []
        scripts = _scripts(user_data)
        if self.user_data_software_config() and not user_data.strip():
            scripts = []   # nothing to run beside os-collect-config
        for i, script in enumerate(scripts):
            path = os.path.join(workdir, 'user-data-%d' % i)
            with open(path, 'w') as f:
                f.write(script)
            os.chmod(path, 0o700)
            paths.append(path)
        # One shell runs the scripts in order, as cloud-init would.
        scripts = ' && '.join('/bin/bash %s' % shlex.quote(p)
                              for p in paths)
        env = dict(os.environ, HOME=workdir, **{
            'SOFTORCH_STATE_DIR': os.path.join(workdir, 'agent'),
            MARKER: workdir})
        env.pop('OS_AUTH_TYPE', None)
        venv = cfg.CONF[options.GROUP].native_agent_venv
        if venv and not self.user_data_software_config():
            # The "image" of these servers is Heat-ready: heat-agents'
            # hooks, and the tools they call (ansible-playbook) on an
            # image's PATH, for the configs a heat-softorch agent runs
            # through them; the same PATH as a SOFTWARE_CONFIG server's
            # (ansible finds its Python on it), not the engine's.
            env['PATH'] = '%s:%s' % (os.path.join(venv, 'bin'), IMAGE_PATH)
            env['SOFTORCH_HOOK_DIRS'] = os.path.join(venv, 'heat-config',
                                                     'hooks')
        if self.user_data_software_config():
            boot = self._native_boot(workdir, env, scripts)
        elif len(paths) == 1:
            # exec: the pidfile names the script's own process.
            boot = 'exec ' + scripts
        else:
            boot = scripts or 'true'
        with open(os.path.join(workdir, 'boot'), 'w') as f:
            f.write('#!/bin/bash\n%s\n' % boot)
        pid = launch(['/bin/bash', os.path.join(workdir, 'boot')], workdir,
                     env, os.path.join(workdir, 'console.log'))
        with open(os.path.join(workdir, 'server.pid'), 'w') as f:
            f.write('%d\n' % pid)
        LOG.info('LocalServer %s: pid %d in %s', self.name, pid, workdir)

    def _native_boot(self, workdir, env, scripts):
        """Heat's software-config transport, as OS::Nova::Server sets it
        up, and what a Heat-ready image makes of it: os-collect-config's
        configuration from the metadata, and its command line."""
        metadata = self.metadata_get(True) or {}
        self._create_transport_credentials(self.properties)
        self._populate_deployments_metadata(metadata, self.properties)
        occ = self.metadata_get()['os-collect-config']
        heat = occ['heat']
        conf = cfg.CONF[options.GROUP]
        # An image's os-collect-config.conf template takes polling_interval
        # from the server's os-collect-config metadata when the template
        # sets one (resource metadata, merged with Heat's), as here.
        interval = occ.get('polling_interval') or conf.native_polling_interval
        venv = conf.native_agent_venv
        agent = os.path.join(venv, 'heat-config')
        root = os.path.join(workdir, 'root')
        occ_conf = os.path.join(workdir, 'os-collect-config.conf')
        fd = os.open(occ_conf, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write('[DEFAULT]\n'
                    'command = %s\n'
                    'collectors = heat\n'
                    'polling_interval = %d\n'
                    'cachedir = %s\n'
                    'backup_cachedir = %s\n'
                    '[heat]\n' % (
                        os.path.join(agent, 'bin', 'refresh'),
                        int(interval),
                        os.path.join(workdir, 'occ-cache'),
                        os.path.join(workdir, 'occ-backup')))
            for key in ('auth_url', 'user_id', 'password', 'project_id',
                        'stack_id', 'resource_name', 'region_name'):
                if heat.get(key):
                    f.write('%s = %s\n' % (key, heat[key]))
        # heat-agents' paths default to /var/lib, /var/run and /usr/libexec,
        # shared by every server of the host: each server gets its own.
        env.update({
            'PATH': '%s:%s:%s' % (os.path.join(venv, 'bin'),
                                  os.path.join(agent, 'bin'), IMAGE_PATH),
            'SOFTORCH_NATIVE_ROOT': root,
            'OS_REFRESH_CONFIG_BASE_DIR': os.path.join(agent,
                                                       'os-refresh-config'),
            'OS_CONFIG_APPLIER_TEMPLATES': os.path.join(agent,
                                                        'os-apply-config'),
            'OS_CONFIG_FILES_PATH': os.path.join(workdir,
                                                 'os_config_files.json'),
            'HEAT_SHELL_CONFIG': os.path.join(root, 'var', 'run',
                                              'heat-config', 'heat-config'),
            'HEAT_CONFIG_DEPLOYED': os.path.join(workdir, 'deployed'),
            'HEAT_CONFIG_DEPLOYED_OLD': os.path.join(root, 'deployed-old'),
            'HEAT_CONFIG_HOOKS': os.path.join(agent, 'hooks'),
            'HEAT_CONFIG_NOTIFY': os.path.join(agent, 'bin',
                                               'heat-config-notify'),
        })
        for hook in ('script', 'ansible', 'puppet'):
            for kind in ('working', 'outputs'):
                env['HEAT_%s_%s' % (hook.upper(), kind.upper())] = (
                    os.path.join(workdir, hook, kind))
        env['HEAT_PUPPET_LOGDIR'] = os.path.join(workdir, 'puppet', 'log')
        os.makedirs(root, mode=0o700)
        boot = 'exec %s --config-file %s' % (
            shlex.quote(self._native_command('os-collect-config')),
            shlex.quote(occ_conf))
        if scripts:
            # user_data runs beside the agent, as cloud-init runs it on a
            # Nova server of this format.
            boot = '( %s ) &\n%s' % (scripts, boot)
        return boot

    def check_create_complete(self, token):
        return True

    def needs_replace_with_prop_diff(self, changed_properties_set,
                                     after_props, before_props):
        # A new user_data (a replaced Agent's, after mark-unhealthy) needs
        # a new process to run it, as Nova's default
        # user_data_update_policy (REPLACE) needs a new server; a local
        # process has nothing to rebuild, so REBUILD replaces it too.
        if self.USER_DATA not in changed_properties_set:
            return False
        policy = (after_props.get(Nova.USER_DATA_UPDATE_POLICY) or
                  before_props.get(Nova.USER_DATA_UPDATE_POLICY))
        return policy in ('REPLACE', 'REBUILD')

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        # Nova would rebuild or replace for most changes; a local process
        # has nothing to resize. BaseServer keeps a SOFTWARE_CONFIG
        # server's deployments and os-collect-config metadata across a
        # change of its template metadata.
        return super(LocalServer, self).handle_update(json_snippet,
                                                      tmpl_diff, prop_diff)

    def handle_delete(self):
        workdir = self.data().get('workdir')
        if workdir:
            try:
                with open(os.path.join(workdir, 'server.pid')) as f:
                    pid = int(f.read())
            except (OSError, ValueError):
                pid = None
            if pid:
                stop_tree(pid, workdir)
            shutil.rmtree(workdir, ignore_errors=True)
        # The stack-domain user of a SOFTWARE_CONFIG server (none else).
        self._delete_user()
        return None

    def handle_check(self):
        # What Nova's server check asks (is it there, is it running), for
        # the local process that stands in for the VM.
        workdir = self.data().get('workdir')
        try:
            with open(os.path.join(workdir, 'server.pid')) as f:
                proc = psutil.Process(int(f.read()))
            running = proc.status() != psutil.STATUS_ZOMBIE
        except (OSError, TypeError, ValueError, psutil.Error):
            running = False
        if not running:
            raise exception.Error('LocalServer %s (%s) is not running: its '
                                  'process is gone' % (self.name,
                                                       self.resource_id))

    def check_delete_complete(self, token):
        return True

    def handle_snapshot_delete(self, state):
        return self.handle_delete()

    # A RAW server has no stack-domain user to disable: Keystone is not
    # asked (it may not be there at all).
    def handle_suspend(self):
        if self._get_user_id():
            super(LocalServer, self).handle_suspend()

    def handle_resume(self):
        if self._get_user_id():
            super(LocalServer, self).handle_resume()

    def _show_resource(self):
        return {self.NAME_ATTR: self._server_name(),
                self.ADDRESSES: self._resolve_attribute(self.ADDRESSES),
                self.OS_COLLECT_CONFIG: (
                    self.metadata_get().get('os-collect-config', {}))}

    def _resolve_attribute(self, name):
        if name == self.NAME_ATTR:
            return self._server_name()
        if name == self.FIRST_ADDRESS:
            return ADDRESS
        if name == self.NETWORKS:
            return {NETWORK: [ADDRESS]}
        if name == self.ADDRESSES:
            return {NETWORK: [{'addr': ADDRESS, 'version': 4,
                               'OS-EXT-IPS:type': 'fixed'}]}
        if name == self.OS_COLLECT_CONFIG:
            return self.metadata_get().get('os-collect-config', {})


def resource_mapping():
    return {'OS::SoftOrch::LocalServer': LocalServer}
