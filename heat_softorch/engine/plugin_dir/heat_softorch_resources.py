# heat-softorch's entry in heat.conf [DEFAULT] plugin_dirs: put this file's
# directory there, never the package's own (Heat would import a second copy
# of every module as heat.engine.plugins.*).
from heat_softorch.engine.plugin import available_resource_mapping  # noqa
