"""The Heat plugin: resource types, the pre-processor, configuration.
The only layer that imports heat."""
