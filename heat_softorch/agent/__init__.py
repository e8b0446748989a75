"""The in-VM agent. Imports kazoo and the standard library only: never heat,
oslo or networkx, so that ``pip install heat-softorch`` is all a VM needs."""
