"""OS::SoftOrch::SoftwareComponent."""

from heat.common import exception
from heat.engine import attributes
from heat.engine import constraints
from heat.engine import properties
from heat.engine import resource
from heat.engine import support
from kazoo import exceptions as kz_exc
from oslo_log import log as logging

from heat_softorch.engine import client_plugin
from heat_softorch.engine import crossing
from heat_softorch.engine import preprocessor
from heat_softorch.engine import registrations
from heat_softorch.engine import riding
from heat_softorch.engine import specs
from heat_softorch.engine import waiting
from heat_softorch.fabric import progress
from heat_softorch.fabric import records
from heat_softorch.graph import names

LOG = logging.getLogger(__name__)

MASK = '******'


class SoftwareComponent(riding.RidesOut, resource.Resource):
    """A piece of software on one agent's VM, in a DAG of components.

    Configs are given per action as in OS::Heat::SoftwareComponent and run
    through the heat-agents hook protocol (``tool: script`` built in:
    inputs as environment variables, outputs written to
    ``$heat_outputs_path.<name>``). ``input_values`` works as in
    OS::Heat::SoftwareDeployment, with one difference: a value that is
    exactly ``{get_attr: [<component>, <output>]}`` is a wire carried by
    ZooKeeper, and so are ``depends_on`` between components and
    OS::SoftOrch::ComponentLink. Wires do not make Heat wait: each
    component runs on its VM as soon as its inputs exist.

    The resource is CREATE_COMPLETE when its CREATE config succeeded on its
    VM and its outputs are published, and FAILED with the host, exit code
    and stderr when it failed; downstream components then fail at once
    with that root cause. Every stack update reaches every component: it
    re-runs its UPDATE config when its definition or the value of an input
    changed, and otherwise confirms it is unchanged. Moving it to another
    agent replaces it. DELETE configs run in reverse DAG order, with the
    inputs they last ran with, while the VMs are still up.

    Each declared output is an attribute, read from ZooKeeper when asked;
    so are ``deploy_stdout``, ``deploy_stderr`` and ``deploy_status_code``.
    Inputs marked ``hidden`` are masked in events, logs and status.

    Names are checked with the whole stack, before anything runs. An input
    name must be a shell variable name (a letter or underscore, then
    letters, digits or underscores) and must not replace what scripts rely
    on: ``deploy_*`` (set by the agent for every run), ``heat_*``
    (heat-agents' ``heat_outputs_path``), ``LD_*``, ``PYTHON*``, ``PATH``,
    ``HOME``, ``SHELL``, the variables the shell sets itself (``IFS``,
    ``PWD``, ``OLDPWD``, ``PPID``, ``OPTIND``) and those it acts on at
    start (``ENV``, ``BASH_ENV``, ``SHELLOPTS``, ``BASHOPTS``). An output
    name must be a plain name of the same form (it ends a file name) and
    not ``deploy_stdout``, ``deploy_stderr`` or ``deploy_status_code``.
    Each action has at most one config.

    ``openstack stack check`` fails the component when its agent has been
    gone longer than the grace period, when its last run for its current
    definition did not succeed, or when its Heat action never finished.
    """

    support_status = support.SupportStatus(version='2026.2')
    default_client_name = 'softorch'
    softorch_kind = preprocessor.COMPONENT

    PROPERTIES = (
        AGENT, CONFIGS, INPUTS, OUTPUTS, INPUT_VALUES, OPTIONS, TIMEOUT,
    ) = (
        'agent', 'configs', 'inputs', 'outputs', 'input_values', 'options',
        'timeout',
    )

    _CONFIG_KEYS = (CONFIG_ACTIONS, CONFIG_CONFIG, CONFIG_TOOL,
                    CONFIG_OPTIONS) = ('actions', 'config', 'tool',
                                       'options')
    _IO_KEYS = (IO_NAME, IO_DESCRIPTION, IO_TYPE, IO_DEFAULT, IO_HIDDEN,
                IO_ERROR_OUTPUT) = ('name', 'description', 'type',
                                    'default', 'hidden', 'error_output')

    ACTIONS_ALLOWED = ('CREATE', 'UPDATE', 'DELETE', 'SUSPEND', 'RESUME')
    TYPES = ('String', 'Number', 'CommaDelimitedList', 'Json', 'Boolean')

    ATTRIBUTES = (STDOUT, STDERR, STATUS_CODE) = (
        'deploy_stdout', 'deploy_stderr', 'deploy_status_code')

    _io_common = {
        IO_NAME: properties.Schema(properties.Schema.STRING, 'Name.',
                                   required=True),
        IO_DESCRIPTION: properties.Schema(properties.Schema.STRING,
                                          'Description.'),
        IO_TYPE: properties.Schema(
            properties.Schema.STRING, 'Type of the value.',
            default='String', constraints=[constraints.AllowedValues(TYPES)]),
    }

    properties_schema = {
        AGENT: properties.Schema(
            properties.Schema.STRING,
            'The OS::SoftOrch::Agent of the VM this runs on, as '
            '{get_resource: <agent>}. Changing it replaces the component.',
            required=True),
        CONFIGS: properties.Schema(
            properties.Schema.LIST,
            'Configs per action, as in OS::Heat::SoftwareComponent; at most '
            'one config per action.',
            required=True, update_allowed=True,
            schema=properties.Schema(properties.Schema.MAP, schema={
                CONFIG_ACTIONS: properties.Schema(
                    properties.Schema.LIST, 'Actions this config runs for.',
                    default=['CREATE', 'UPDATE'],
                    constraints=[constraints.Length(min=1)],
                    schema=properties.Schema(
                        properties.Schema.STRING, constraints=[
                            constraints.AllowedValues(ACTIONS_ALLOWED)])),
                CONFIG_CONFIG: properties.Schema(
                    properties.Schema.STRING, 'The config: for tool '
                    'script, the script.', required=True),
                CONFIG_TOOL: properties.Schema(
                    properties.Schema.STRING, 'The heat-agents hook that '
                    'runs it; script is built into the agent.',
                    default='script'),
                CONFIG_OPTIONS: properties.Schema(
                    properties.Schema.MAP, 'Options for the hook.'),
            })),
        INPUTS: properties.Schema(
            properties.Schema.LIST, 'Declared inputs. Each becomes an '
            'environment variable of the script: a name is %s, and none '
            'of these reserved names: %s.' % (
                names.IDENTIFIER_TEXT, names.RESERVED_TEXT), default=[],
            update_allowed=True,
            schema=properties.Schema(properties.Schema.MAP, schema=dict(
                _io_common, **{
                    IO_DEFAULT: properties.Schema(
                        properties.Schema.ANY, 'Value when input_values '
                        'gives none.'),
                    IO_HIDDEN: properties.Schema(
                        properties.Schema.BOOLEAN, 'Mask the value in '
                        'events, logs and status.', default=False),
                }))),
        OUTPUTS: properties.Schema(
            properties.Schema.LIST, 'Declared outputs: each is an '
            'attribute, and what other components may wire. The script '
            'writes output <name> to $heat_outputs_path.<name>: a name is '
            '%s, and not %s.' % (names.IDENTIFIER_TEXT,
                                 ', '.join(names.RUN_ATTRIBUTES)),
            default=[],
            update_allowed=True,
            schema=properties.Schema(properties.Schema.MAP, schema=dict(
                _io_common, **{
                    IO_ERROR_OUTPUT: properties.Schema(
                        properties.Schema.BOOLEAN, 'A non-empty value '
                        'fails the component with it as the reason.',
                        default=False),
                }))),
        INPUT_VALUES: properties.Schema(
            properties.Schema.MAP, 'Input values. {get_attr: [<component>, '
            '<output>]} as a whole value is a wire through ZooKeeper.',
            default={}, update_allowed=True),
        OPTIONS: properties.Schema(
            properties.Schema.MAP, 'Options passed to the hooks.',
            default={}, update_allowed=True),
        TIMEOUT: properties.Schema(
            properties.Schema.INTEGER, 'Seconds a config may run before it '
            'is stopped and the component fails.', default=3600,
            constraints=[constraints.Range(min=1)], update_allowed=True),
    }

    attributes_schema = {
        STDOUT: attributes.Schema(
            'Standard output of the last run (its tail).',
            type=attributes.Schema.STRING,
            cache_mode=attributes.Schema.CACHE_NONE),
        STDERR: attributes.Schema(
            'Standard error of the last run (its tail).',
            type=attributes.Schema.STRING,
            cache_mode=attributes.Schema.CACHE_NONE),
        STATUS_CODE: attributes.Schema(
            'Exit code of the last run.', type=attributes.Schema.INTEGER,
            cache_mode=attributes.Schema.CACHE_NONE),
    }

    # -- validation and wiring ------------------------------------------

    def validate(self):
        # The checks of the whole stack, one config per action and the
        # input and output names included, live in the graph layer, so
        # that `softorch validate` refuses the same templates with the
        # same words.
        super(SoftwareComponent, self).validate()
        result = preprocessor.analysis(self.stack.defn)
        if not result.ok:
            raise exception.StackValidationFailed(
                message=preprocessor.problems_text(result))
        problems = self._crossing.parent_problems(result)
        if problems:
            raise exception.StackValidationFailed(
                message=preprocessor.problems_text(problems))

    def add_explicit_dependencies(self, deps):
        """Heat dependencies without the component-to-component edges:
        those are ZooKeeper wires. What this component and its upstreams
        read of other resources, and the server that boots its agent,
        remain; so every spec can be registered as soon as this one's Heat
        action starts, without waiting for another Heat resource. A
        convergence create leaves out the upstreams' agents that their
        servers already depend on (Analysis.create_dependencies)."""
        # Even when the graph has problems: validate() reports them in
        # full, which it could not if Heat found a cycle among components
        # first.
        result = preprocessor.analysis(self.stack.defn)
        if self.stack.convergence and self.stack.action == self.stack.CREATE:
            wanted = result.create_dependencies(self.name)
        else:
            wanted = result.heat_dependencies(self.name)
        for name in sorted(wanted):
            if name in self.stack:
                res = self.stack[name]
                if getattr(res, 'strict_dependency', True):
                    deps += (self, res)
        deps += (self, None)

    # -- create and update ------------------------------------------------

    def _register(self):
        stack_defn = preprocessor.new_definition(self.stack, self.context)
        result = preprocessor.analysis(stack_defn)
        if not result.ok:
            raise exception.Error(preprocessor.problems_text(result))
        epoch = waiting.epoch_of(self.stack)

        def register(fabric):
            # Run again after a ZooKeeper fault: what this epoch already
            # wrote is found unchanged and not written twice.
            across = self._crossing.plan(stack_defn, result, fabric)
            with registrations.turn(self.stack.id, epoch) as known:
                if not known.manifest:
                    fabric.registry.ensure_stack(specs.manifest(
                        result, self.stack, epoch, self.stack.action))
                    known.manifest = True
                built = self._build_specs(stack_defn, result, known, fabric,
                                          across)
                if across is not None:
                    self._crossing.wire(fabric, built, across)
                written = fabric.registry.register(built, epoch)
                exported = across is not None and self._crossing.publish(
                    fabric, result, built, across, epoch, known)
                known.hosts.update((s['name'], s['host']) for s in built)
                return known.hosts[self.name], written, exported, across

        host, written, exported, across = self._zk(
            'registering component', register)
        LOG.info('%s: registered %d spec(s) for epoch %s: %s', self.name,
                 len(written), epoch, ', '.join(written) or 'none changed')
        self.data_set('host', host)
        self.resource_id_set('%s/%s' % (host, self.name))
        token = {'host': host, 'epoch': epoch}
        if exported:
            token['exported'] = True
        if across is not None:
            ups = sorted(u for n, u in across.deferred if n == self.name)
            if ups:
                token['deferred'] = ups
            if self.data().get('across') != '1':
                # Its DELETE may reach other stacks: read when the stack's
                # template is gone (a convergence delete has none).
                self.data_set('across', '1')
        return token

    @property
    def _crossing(self):
        # One per resource object: a delete's cache of members lasts its
        # action.
        return self.__dict__.setdefault('_softorch_crossing',
                                        crossing.Crossing(self))

    def _build_specs(self, stack_defn, result, known, fabric, across=None):
        """The specs this component registers that ``known`` (registered
        this epoch) lacks, upstream first: its registration order, then
        what Heat can resolve ahead of it (best effort: a spec that cannot
        be built here is its own resource's to report)."""
        model = result.model
        servers = {a: sorted(result.servers_of(a))[0]
                   for a in model.agents if result.servers_of(a)}
        hosts, built = dict(known.hosts), []

        def agent_host(agent):
            if agent not in known.agents:
                known.agents.update(fabric.registry.agent_hosts())
            return known.agents.get(agent)

        def build(name):
            comp_defn = stack_defn.resource_definition(name)
            props = comp_defn.properties(self.properties_schema, self.context)
            spec = specs.component_spec(name, props, result, hosts, servers,
                                        self.stack, agent_host, across)
            hosts[name] = spec['host']
            built.append(spec)

        for name in result.registration_order(self.name):
            if name not in known.hosts:
                build(name)
        for name in result.ahead_of(self.name):
            if name in known.hosts:
                continue
            try:
                build(name)
            except Exception as exc:  # noqa: see the docstring
                LOG.debug('%s: not registering %s ahead: %s', self.name,
                          name, exc)
                break  # what follows may read it
        return built

    def handle_create(self):
        return self._register()

    def check_create_complete(self, token):
        return self._check(token, records.DEPLOY)

    def _needs_update(self, after, before, after_props, before_props,
                      prev_resource, check_init_complete=True):
        # Heat's property diff cannot see values that travel through
        # ZooKeeper: take part in every update and let the digests decide.
        super(SoftwareComponent, self)._needs_update(
            after, before, after_props, before_props, prev_resource,
            check_init_complete)
        return True

    def needs_replace_failed(self):
        # A failed component re-runs in place (same agent, same zNodes).
        return False

    # A failed check too: a replacement on the same agent would share the
    # zNodes of the one it replaces, whose DELETE would then remove them.
    always_replace_on_check_failed = False

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        return self._register()

    def check_update_complete(self, token):
        return self._check(token, records.DEPLOY)

    def _check(self, token, action):
        host, epoch = token['host'], token['epoch']
        readers = [] if token.get('exported') else None
        # Waiting for a component of the parent stack that its Heat action
        # has not registered yet would hold this engine thread for another
        # resource's action: with as many members as threads, nothing
        # would move. Such a component completes once its agent has taken
        # it up; the parent's component waits for it instead
        # (Crossing.readers_settled), and fails with it.
        deferred = token.get('deferred')

        def wait(fabric):
            def watched():
                data, children = fabric.progress.watched(host, self.name)
                return data + (readers or []), children

            def check():
                out = fabric.progress.outcome(host, self.name, epoch, action)
                if out.state == progress.PENDING:
                    status = out.status or {}
                    if deferred and status.get('epoch') == epoch and \
                            status.get('state') != records.PENDING:
                        return progress.Outcome(progress.DONE, (
                            'taken up by its agent; runs once %s of the '
                            'parent stack has published, and the parent '
                            'stack completes only then' % ', '.join(
                                '../%s' % u for u in deferred)), status)
                    return None
                if out.state == progress.DONE and readers is not None:
                    settled = self._crossing.readers_settled(
                        fabric, epoch, readers)
                    if settled is not True:
                        return settled
                return out

            return waiting.until(fabric, self.stack, watched, check)

        try:
            out = self._zk('waiting for component', wait,
                           within=self._slice())
        except client_plugin.StillDown:
            return False
        return self._settled(out)

    def _settled(self, out, note=''):
        """A check's answer to Heat from the outcome of a wait (None while
        pending); a note on the way (a lost host) becomes an event."""
        if out is None:
            return False
        if out.state == progress.FAILED:
            raise exception.Error(out.message)
        if out.message:
            self._add_event(self.action, self.IN_PROGRESS,
                            note + out.message)
        return True

    # -- stack check ------------------------------------------------------

    def _check_host(self):
        return self.data().get('host')

    def _health(self, fabric, host):
        """Whether the last run for the component's current definition
        succeeded."""
        spec, _ = fabric.registry._read_spec(host, self.name)
        if spec is None:
            return 'component %s has no spec on host %s in ZooKeeper' % (
                self.name, host)
        status = fabric.progress.read_status(host, self.name) or {}
        label = progress.where(dict(status, host=host,
                                    server=spec.get('server')))
        if status.get('epoch') != spec.get('epoch'):
            return ('%s on %s has not run its current definition (generation '
                    '%s): its agent has not taken it up' % (
                        self.name, label, spec.get('generation')))
        state = status.get('state')
        if state == records.COMPLETE:
            return True
        if state in (records.FAILED, records.ABANDONED):
            return 'last run failed: ' + fabric.progress.describe(status)
        return '%s on %s has not finished its last run (%s)' % (
            self.name, label, state)

    # -- suspend and resume -----------------------------------------------

    def handle_suspend(self):
        return self._reverse(records.SUSPEND)

    def check_suspend_complete(self, token):
        return self._check_reverse(token)

    def handle_resume(self):
        host = self.data().get('host')
        if not host:
            return None
        epoch = waiting.epoch_of(self.stack)

        def resume(fabric):
            for up_host, up_name in [(host, self.name)] + self._upstreams(
                    fabric, host, self.name):
                fabric.registry.set_action(up_host, up_name, records.RESUME,
                                           epoch, armed=True)

        self._zk('resuming component', resume)
        return {'host': host, 'epoch': epoch}

    def check_resume_complete(self, token):
        return token is None or self._check(token, records.RESUME)

    def _upstreams(self, fabric, host, name, seen=None):
        seen = set() if seen is None else seen
        spec, _ = fabric.registry._read_spec(host, name)
        for wire in (spec or {}).get('wires', ()):
            key = (wire['host'], wire['component'])
            if key not in seen:
                seen.add(key)
                self._upstreams(fabric, key[0], key[1], seen)
        return sorted(seen)

    # -- delete -----------------------------------------------------------

    def handle_delete(self):
        return self._reverse(records.DELETE)

    def check_delete_complete(self, token):
        return self._check_reverse(token)

    def _live_components(self):
        """Components that stay after this operation: their DELETE is not
        ours to order. Only an update (or its rollback) removes some
        components and keeps others; a stack delete or suspend takes all."""
        if self.stack.action not in (self.stack.UPDATE, self.stack.ROLLBACK):
            return set()
        try:
            return set(preprocessor.analysis(
                self.stack.defn).model.components)
        except Exception:  # noqa: no template to read: order nothing
            return set()

    def _across_stacks(self):
        """Whether a DELETE here may reach other stacks: this stack had a
        parent or groups when the component registered. Every other stack
        orders its DELETE configs as before, at no cost."""
        return bool(self.stack.owner_id) or \
            self.data().get('across') == '1'

    def _readers(self, fabric, key, across):
        """(stack, host, name) of what reads ``key``: its readers in its
        own stack and, ``across`` stacks, the others'."""
        stack, host, name = key
        found = [(stack, h, n) for h, n in
                 fabric.of(stack).registry.readers(host, name)]
        if across:
            found += self._crossing.readers(fabric, key)
        return found

    def _doomed(self, fabric, host, live, across=False):
        """This component and, transitively, the components reading it that
        go too, each with the doomed ones reading it; keys are (stack,
        host, name)."""
        doomed, todo, stacks = {}, [(fabric.paths.stack_id, host,
                                     self.name)], {}
        while todo:
            key = todo.pop()
            if key in doomed:
                continue
            readers = [r for r in self._readers(fabric, key, across)
                       if not self._crossing.survives(
                           fabric, r, live, stacks)]
            doomed[key] = readers
            todo.extend(readers)
        return doomed

    def _reverse(self, action):
        host = self.data().get('host')
        if not host:
            return None
        epoch = waiting.epoch_of(self.stack)
        live = self._live_components()
        across = action == records.DELETE and self._across_stacks()

        def point(fabric):
            if across:
                # Leaving first, so that the consumers start reconfiguring
                # while whatever reads this within its stack is deleted.
                self._crossing.leave(
                    fabric, (fabric.paths.stack_id, host, self.name))
            for s, h, n in self._doomed(fabric, host, live, across):
                fabric.of(s).registry.set_action(h, n, action, epoch,
                                                 armed=False)

        self._zk('starting %s of component' % action, point)
        return {'host': host, 'epoch': epoch, 'action': action,
                'live': sorted(live), 'across': across}

    def _check_reverse(self, token):
        if token is None:
            return True
        host, epoch, action = token['host'], token['epoch'], token['action']
        live = set(token['live'])
        across = token.get('across', False)
        try:
            out = self._zk('waiting for the %s of component' % action,
                           lambda fabric: self._wait_reverse(
                               fabric, host, epoch, action, live, across),
                           within=self._slice())
        except client_plugin.StillDown:
            return False
        if not self._settled(out, '%s config not run: ' % action):
            return False
        if action == records.DELETE:
            def remove(fabric):
                if across:
                    self._crossing.forget(fabric, host)
                fabric.registry.remove_component(host, self.name)
                fabric.feed.forget(*fabric.progress.watched(host, self.name))
            self._zk('removing component', remove)
        return True

    def _wait_reverse(self, fabric, host, epoch, action, live, across=False):
        me = (fabric.paths.stack_id, host, self.name)
        watch = []

        def watched():
            data, children = list(watch), []
            for s, h, n in self._doomed(fabric, host, live, across):
                d, c = fabric.of(s).progress.watched(h, n)
                data += d
                children += c
            return data, children

        def check():
            doomed = self._doomed(fabric, host, live, across)
            done, lost = set(), None
            for key in doomed:
                out = fabric.of(key[0]).progress.outcome(key[1], key[2],
                                                         epoch, action)
                if out.state == progress.DONE:
                    done.add(key)
                    if key == me:
                        lost = out.message
                elif out.state == progress.FAILED:
                    if out.status is None:
                        done.add(key)  # removed meanwhile
                        continue
                    if key == me:
                        return out
                    return progress.Outcome(progress.FAILED, (
                        'not run: %s of downstream %s failed: %s' % (
                            action, key[2], out.message)), None)
            del watch[:]
            for key, readers in doomed.items():
                if key not in done and all(r in done for r in readers):
                    if across:
                        released = self._crossing.released(fabric, key, live,
                                                           watch)
                        if released is not True:
                            if released is not None:
                                return released
                            continue
                    fabric.of(key[0]).registry.set_action(
                        key[1], key[2], action, epoch, armed=True)
            if me in done:
                return progress.Outcome(progress.DONE, lost, None)
            return None

        return waiting.until(fabric, self.stack, watched, check)

    # -- attributes ---------------------------------------------------------

    def _declared_outputs(self):
        try:
            return {o[self.IO_NAME] for o in self.properties[self.OUTPUTS]}
        except Exception:  # noqa: unresolvable properties: no outputs
            return set()

    def _read(self, what):
        host = self.data().get('host')
        if not host:
            return None

        def read(fabric):
            path = (fabric.paths.status if what == 'status' else
                    fabric.paths.outputs)(host, self.name)
            try:
                raw, _ = fabric.client.get(path)
                return records.decode(raw, path)
            except (kz_exc.NoNodeError, records.RecordError):
                return None  # gone or unreadable: no value

        # Under convergence the values dependents and stack outputs see
        # are read once, when the resource completes: a ZooKeeper blip then
        # must not turn them into None, so this waits it out too.
        return self._zk('reading the %s of component' % what, read)

    def get_attribute(self, key, *path):
        # Declared outputs are attributes too (as in SoftwareDeployment),
        # read from ZooKeeper at each call so they are never stale.
        if key in self._declared_outputs():
            return attributes.select_from_attribute(
                self._resolve_attribute(key), path)
        if key not in self.attributes_schema and \
                key not in self.base_attributes_schema:
            raise exception.InvalidTemplateAttribute(resource=self.name,
                                                     key=key)
        return super(SoftwareComponent, self).get_attribute(key, *path)

    def _resolve_attribute(self, name):
        if name not in self.ATTRIBUTES:
            pub = self._read('outputs') or {}
            return (pub.get('values') or {}).get(name)
        status = self._read('status') or {}
        if name == self.STDOUT:
            return status.get('stdout')
        if name == self.STDERR:
            return status.get('stderr')
        if name == self.STATUS_CODE:
            return status.get('exit_code')

    # -- secrets -------------------------------------------------------------

    def _update_stored_properties(self):
        # Heat stores resolved properties with every event; hidden inputs
        # must not be there.
        super(SoftwareComponent, self)._update_stored_properties()
        stored = self._stored_properties_data or {}
        hidden = {i.get(self.IO_NAME) for i in stored.get(self.INPUTS) or []
                  if i.get(self.IO_HIDDEN)}
        values = stored.get(self.INPUT_VALUES)
        if hidden and isinstance(values, dict):
            stored[self.INPUT_VALUES] = {
                k: (MASK if k in hidden else v) for k, v in values.items()}


def resource_mapping():
    return {'OS::SoftOrch::SoftwareComponent': SoftwareComponent}
