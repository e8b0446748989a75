"""The zNode layout and the protocol between the engine and the agents.

Imports kazoo and the standard library only: the agent installs it on a VM
with nothing else.
"""
