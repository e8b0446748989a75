"""heat-softorch: software orchestration for OpenStack Heat, through
ZooKeeper."""
