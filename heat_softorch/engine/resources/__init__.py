"""heat-softorch's resource types, one class a module."""

from heat_softorch.engine import options
from heat_softorch.engine.resources import agent
from heat_softorch.engine.resources import component_link
from heat_softorch.engine.resources import local_deployment
from heat_softorch.engine.resources import local_scaling_policy
from heat_softorch.engine.resources import local_server
from heat_softorch.engine.resources import software_component

MODULES = (agent, component_link, local_deployment, local_scaling_policy,
           local_server, software_component)


def resource_mapping():
    options.register()
    mapping = {}
    for module in MODULES:
        mapping.update(module.resource_mapping())
    return mapping
