"""Heat's template parsing as a library: a template and its environments
read into a StackDefinition without a running Heat, a database or a cloud,
for the command line's validate, graph and plan."""

import logging
import os

from heat_softorch.engine import preprocessor


class TemplateError(Exception):
    """A template or environment cannot be read; the message says where."""


_READY = []


def _heat():
    """Set up just enough of Heat: its configuration defaults and the
    global resource registry with heat-softorch's types in it."""
    if _READY:
        return
    from oslo_config import cfg
    from oslo_service import backend
    try:
        backend.init_backend(backend.BackendType.THREADING)
    except Exception:  # noqa: already chosen by whoever imported Heat
        pass
    import heat.common.config  # noqa: registers Heat's options
    from heat.engine import resources
    # Heat logs every hidden or deprecated type it registers.
    logging.getLogger('heat').setLevel(logging.ERROR)
    if not cfg.CONF._args:
        cfg.CONF([], project='heat', default_config_files=[])
    cfg.CONF.set_override('plugin_dirs', [])
    resources.initialise()
    from heat_softorch.engine import plugin
    for name, cls in plugin.available_resource_mapping().items():
        resources.global_env().register_class(name, cls)
    _READY.append(True)


def load(template_path, env_paths=(), params=None):
    """(StackDefinition, Analysis) of a template file, with ``get_file`` and
    nested templates resolved relative to it, like the openstack client."""
    _heat()
    from heat.common import context
    from heat.engine import environment
    from heat.engine import stack as stack_mod
    from heat.engine import template as tmpl_mod
    from heatclient.common import template_utils
    if not os.path.exists(template_path):
        raise TemplateError('template %s: no such file' % template_path)
    try:
        files, body = template_utils.get_template_contents(
            template_file=template_path)
        env_files, env = \
            template_utils.process_multiple_environments_and_files(
                list(env_paths))
    except Exception as exc:  # noqa: heatclient raises many kinds
        raise TemplateError('template %s: %s' % (template_path, exc))
    files.update(env_files)
    # heatclient reads files as bytes (base64 for binary ones) and they
    # reach Heat as JSON strings: get_file must resolve to text here too.
    files = {k: v.decode('utf-8') if isinstance(v, bytes) else v
             for k, v in files.items()}
    env.setdefault('parameters', {}).update(params or {})
    try:
        tmpl = tmpl_mod.Template(body, files=files,
                                 env=environment.Environment(env))
        ctx = context.RequestContext(project_id='offline', user_id='offline',
                                     is_admin=True)
        stk = stack_mod.Stack(ctx, os.path.splitext(
            os.path.basename(template_path))[0], tmpl)
        stack_defn = stk.defn
        stack_defn.enabled_rsrc_names()
    except Exception as exc:  # noqa: Heat's parsing errors are sentences
        raise TemplateError('template %s is invalid: %s' % (
            template_path, exc))
    return stack_defn, preprocessor.analysis(stack_defn)
