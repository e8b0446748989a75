"""What heat-engine loads: the resource mapping, guarded so that a missing
dependency disables heat-softorch with a logged reason instead of stopping
heat-engine (an ImportError in a plugin module does)."""

import logging

LOG = logging.getLogger(__name__)


def available_resource_mapping():
    try:
        from heat_softorch.engine import resources
    except ImportError as exc:
        LOG.error('heat-softorch disabled: %s (install heat-softorch with '
                  'its "engine" extra where heat-engine runs)', exc)
        return {}
    return resources.resource_mapping()
