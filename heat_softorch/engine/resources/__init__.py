"""heat-softorch's resource types, one class a module."""


def resource_mapping():
    return {}
