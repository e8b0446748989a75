"""Running a component's config through the heat-agents hook protocol.

``tool: script`` is built in and behaves like heat-agents' script hook:
inputs arrive as environment variables (with the ``deploy_*`` ones), an
output ``<name>`` is read from the file ``$heat_outputs_path.<name>``, and a
non-zero exit fails the run. Any other tool runs the heat-agents hook of
that name (JSON config on stdin, JSON result on stdout), found in the
configured hook directories, as heat-agents' 55-heat-config runs it for
Heat's own deployments: the same request fields (``creation_time``
included: the puppet hook names its logs with it), and the result's
``deploy_stdout``, ``deploy_stderr`` and ``deploy_status_code`` are the
run's. The hook's own log (its stderr) stays in the run's working
directory, as 55-heat-config keeps it in its own log, out of
``deploy_stderr``.

heat-agents' hooks keep their files under /var/lib/heat-config and
/var/run/heat-config unless ``HEAT_<TOOL>_WORKING`` and
``HEAT_<TOOL>_OUTPUTS`` say otherwise: each run gets its component's
working directory for them, so that two agents on one host (LocalServers)
or two components with one name never share a file, and no hook needs
root for its state.

Every run gets its own process group, so a timeout or an agent shutdown
stops the script and everything it started. A script that starts a service
in the background may leave it running: its output goes to files, not
pipes, so a daemon holding them open does not hold up the run.
"""

import json
import os
import signal
import stat
import subprocess
import threading
import time

DEFAULT_HOOK_DIRS = ('/var/lib/heat-config/hooks',
                     '/usr/libexec/heat-config/hooks')
# An output must fit a zNode beside the others; checked before publishing.
MAX_OUTPUT_BYTES = 900 * 1000
KEEP_CHARS = 16 * 1024


class Result(object):

    def __init__(self, exit_code, stdout='', stderr='', outputs=None,
                 error=None):
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.outputs = outputs or {}
        self.error = error  # a sentence: why the run failed besides exit

    @property
    def ok(self):
        return self.exit_code == 0 and self.error is None


def _env_value(value):
    if value is None:
        return ''
    if isinstance(value, str):
        return value
    return json.dumps(value)


def find_hook(tool, hook_dirs):
    for d in hook_dirs:
        path = os.path.join(d, tool)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def kill_group(pgid, sig=signal.SIGKILL):
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


class Run(object):
    """One config run: start() spawns the process, wait() collects it."""

    def __init__(self, config, inputs, outputs, workdir, timeout=None,
                 hook_dirs=DEFAULT_HOOK_DIRS, derived=None):
        self.config = config          # {'tool', 'config', 'options'}
        self.inputs = inputs          # {name: value}
        self.outputs = outputs        # [{'name', 'error_output'}]
        self.workdir = workdir
        self.timeout = timeout
        self.hook_dirs = hook_dirs
        self.derived = derived or {}  # deploy_* inputs
        self.proc = None
        self._stdin = None

    @property
    def tool(self):
        return self.config.get('tool') or 'script'

    def start(self):
        """Spawn the process; a Result (failed) when it cannot start."""
        os.makedirs(self.workdir, exist_ok=True)
        inputs = dict(self.inputs, **self.derived)
        if self.tool == 'script':
            argv, env = self._prepare_script(inputs)
        else:
            hook = find_hook(self.tool, self.hook_dirs)
            if hook is None:
                return Result(None, error=(
                    "no hook for tool '%s': install the heat-agents hook "
                    "'%s' in one of %s, or use tool: script"
                    % (self.tool, self.tool, ', '.join(self.hook_dirs))))
            argv, env = [hook], self._hook_environ()
            self._stdin = json.dumps(self._hook_request(inputs))
        self._out_path = os.path.join(self.workdir, 'stdout')
        self._err_path = os.path.join(self.workdir, 'stderr')
        try:
            with open(self._out_path, 'wb') as out, \
                    open(self._err_path, 'wb') as err:
                self.proc = subprocess.Popen(
                    argv, cwd=self.workdir, env=env, text=True,
                    stdin=(subprocess.PIPE if self._stdin
                           else subprocess.DEVNULL),
                    stdout=out, stderr=err, start_new_session=True)
        except OSError as exc:
            return Result(None, error='cannot start %s: %s' % (argv[0], exc))
        return None

    @property
    def pgid(self):
        return self.proc.pid if self.proc else None

    def _prepare_script(self, inputs):
        script = os.path.join(self.workdir, 'config')
        with open(script, 'w') as f:
            f.write(self.config.get('config') or '')
        os.chmod(script, stat.S_IRWXU)
        self.outputs_base = os.path.join(self.workdir, 'outputs')
        for o in self.outputs:
            try:
                os.unlink('%s.%s' % (self.outputs_base, o['name']))
            except FileNotFoundError:
                pass
        env = dict(os.environ)
        env.update({k: _env_value(v) for k, v in inputs.items()})
        env['heat_outputs_path'] = self.outputs_base
        with open(script, 'rb') as f:
            shebang = f.read(2) == b'#!'
        return ([script] if shebang else ['/bin/sh', script]), env

    def _hook_environ(self):
        env = dict(os.environ)
        tool = self.tool.upper().replace('-', '_')
        for kind in ('WORKING', 'OUTPUTS'):
            env.setdefault('HEAT_%s_%s' % (tool, kind), os.path.join(
                self.workdir, 'hook-' + kind.lower()))
        # An output the previous run wrote must not pass for this run's
        # (the hooks read <outputs>/<id>.<name> and never remove it).
        outputs_dir = env['HEAT_%s_OUTPUTS' % tool]
        for o in self.outputs:
            try:
                os.unlink(os.path.join(outputs_dir, '%s.%s' % (
                    self.derived.get('deploy_resource_name'), o['name'])))
            except OSError:
                pass
        # The puppet hook's stdout and stderr files (its default is shared
        # by every deployment of the host).
        env.setdefault('HEAT_PUPPET_LOGDIR', os.path.join(self.workdir,
                                                          'log'))
        return env

    def _hook_request(self, inputs):
        # What Heat puts in a server's metadata for one deployment
        # (heat.engine.api.format_software_config of the derived config).
        return {
            'id': self.derived.get('deploy_resource_name'),
            'name': self.derived.get('deploy_resource_name'),
            'group': self.tool,
            'creation_time': time.strftime('%Y-%m-%dT%H:%M:%SZ',
                                           time.gmtime()),
            'config': self.config.get('config'),
            'options': self.config.get('options') or {},
            'inputs': [{'name': k, 'value': v, 'type': 'String'}
                       for k, v in inputs.items()],
            'outputs': self.outputs,
        }

    def _read(self, path):
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait(self):
        # A blocking waitpid sees the exit at once; Popen's own timeout
        # polls with sleeps growing to 50 ms, which every edge of a chain
        # would pay. The timeout is a timer that kills the group instead.
        expired = threading.Event()

        def expire():
            expired.set()
            kill_group(self.proc.pid)
        timer = None
        if self.timeout:
            timer = threading.Timer(self.timeout, expire)
            timer.daemon = True
            timer.start()
        try:
            self.proc.communicate(self._stdin)
        finally:
            if timer:
                timer.cancel()
        if expired.is_set():
            return Result(self.proc.returncode, self._read(self._out_path),
                          self._read(self._err_path),
                          error='timed out after %d s' % self.timeout)
        out, err = self._read(self._out_path), self._read(self._err_path)
        if self.tool == 'script':
            return self._script_result(out, err)
        return self._hook_result(out, err)

    def _script_result(self, out, err):
        code = self.proc.returncode
        values, error = {}, None
        for o in self.outputs:
            path = '%s.%s' % (self.outputs_base, o['name'])
            try:
                size = os.path.getsize(path)
            except OSError:
                values[o['name']] = None
                continue
            if size > MAX_OUTPUT_BYTES:
                error = ("output '%s' is %d bytes, over the %d bytes an "
                         "output may carry through ZooKeeper"
                         % (o['name'], size, MAX_OUTPUT_BYTES))
                break
            with open(path, 'rb') as f:
                raw = f.read()
            try:
                values[o['name']] = raw.decode('utf-8')
            except UnicodeDecodeError as exc:
                error = "output '%s' is not UTF-8 text (%s)" % (
                    o['name'], exc)
                break
        return self._finish(code, out, err, values, error)

    def _hook_result(self, out, err):
        code = self.proc.returncode
        try:
            reply = json.loads(out) if out.strip() else {}
            if not isinstance(reply, dict):
                raise ValueError('not a JSON object')
        except ValueError as exc:
            return Result(code, out, err, error=(
                "hook '%s' did not answer with JSON (%s)" % (self.tool, exc)))
        stdout = reply.pop('deploy_stdout', '') or ''
        # The hook's own log (err) is not the config's stderr: it stays in
        # the run's directory, as 55-heat-config keeps it in its log.
        stderr = reply.pop('deploy_stderr', '') or ''
        status = reply.pop('deploy_status_code', code)
        try:
            status = int(status)
        except (TypeError, ValueError):
            status = 1
        values = {o['name']: reply.get(o['name']) for o in self.outputs}
        error = None
        size = len(json.dumps(values))
        if size > MAX_OUTPUT_BYTES:
            error = ('outputs are %d bytes, over the %d bytes that may go '
                     'through ZooKeeper' % (size, MAX_OUTPUT_BYTES))
        return self._finish(status if code == 0 else code, stdout,
                            stderr, values, error)

    def _finish(self, code, out, err, values, error):
        if error is None and code == 0:
            for o in self.outputs:
                if o.get('error_output') and values.get(o['name']):
                    error = 'error output %s: %s' % (o['name'],
                                                     values[o['name']])
                    break
        return Result(code, out, err, values, error)


def run(config, inputs, outputs, workdir, timeout=None, **kw):
    """Run a config to completion (for tests and one-shot use)."""
    r = Run(config, inputs, outputs, workdir, timeout, **kw)
    failed = r.start()
    if failed:
        return failed
    started = time.time()
    result = r.wait()
    result.duration = time.time() - started
    return result
