"""The user_data that boots an agent: a shell script (cloud-init runs it as
is) writing the agent's configuration and starting it.

It carries the host's identity, the ZooKeeper endpoints, the CA that
signed ZooKeeper's certificate and a one-time enroll token, never the
host's password: user_data ends up in the server's
properties, which Heat shows in events. The agent trades the token for its
password once, then keeps the password on the VM only.
"""

import shlex

HEADER = '''#!/bin/bash
# heat-softorch agent for host {host} of stack {stack_name}
set -eu
state_dir=${{SOFTORCH_STATE_DIR:-/var/lib/softorch-agent}}
mkdir -p "$state_dir"
chmod 700 "$state_dir"
umask 077
cat > "$state_dir/agent.ini" <<'SOFTORCH_EOF'
[agent]
host = {host}
stack_id = {stack_id}
zookeeper = {zookeeper}
root = {root}
enroll_token = {token}
tls = {tls}
check_hostname = {check_hostname}
session_timeout = {session_timeout:g}
SOFTORCH_EOF
echo "state_dir = $state_dir" >> "$state_dir/agent.ini"
# Where the image keeps heat-agents' hooks, when not where Heat-ready
# images have them (/var/lib/heat-config/hooks and
# /usr/libexec/heat-config/hooks, the agent's default).
if [ -n "${{SOFTORCH_HOOK_DIRS:-}}" ]; then
    echo "hook_dirs = $SOFTORCH_HOOK_DIRS" >> "$state_dir/agent.ini"
fi
'''

# The CA that signed ZooKeeper's certificate: public, and what lets the
# agent know it talks to the real ZooKeeper before it sends its token.
CA = '''cat > "$state_dir/zookeeper-ca.pem" <<'SOFTORCH_EOF'
{ca}
SOFTORCH_EOF
echo "ca_file = $state_dir/zookeeper-ca.pem" >> "$state_dir/agent.ini"
'''

# The LocalServer's process is the agent itself: stopping the server stops
# the agent and, through it, every script it started.
LOCAL = '''exec {command} agent --config "$state_dir/agent.ini"
'''

# On a VM: a service that survives reboots when systemd is there.
SERVICE = '''agent={command}
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    cat > /etc/systemd/system/softorch-agent.service <<SOFTORCH_EOF
[Unit]
Description=heat-softorch agent
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=$agent agent --config $state_dir/agent.ini
# Services that configs start in the background live in this unit's cgroup:
# restarting the agent must not take them down.
KillMode=process
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
SOFTORCH_EOF
    systemctl daemon-reload
    systemctl enable --now softorch-agent.service
else
    nohup $agent agent --config "$state_dir/agent.ini" \\
        >> "$state_dir/agent.log" 2>&1 < /dev/null &
fi
'''

PIP = '''venv=/opt/softorch-agent
if [ ! -x "$venv/bin/softorch" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet {index} {package}
fi
'''


def user_data(install, host, stack_id, stack_name, zookeeper, root, token,
              command='softorch', package='heat-softorch', index='',
              tls=True, ca_pem=None, check_hostname=True,
              session_timeout=10.0):
    """The script; ``ca_pem`` is the CA certificate(s) to trust for
    ZooKeeper (None: the VM's system CAs), ``tls`` False for plain TCP."""
    script = HEADER.format(host=host, stack_id=stack_id,
                           stack_name=stack_name, zookeeper=zookeeper,
                           root=root, token=token,
                           tls=str(bool(tls)).lower(),
                           check_hostname=str(bool(check_hostname)).lower(),
                           session_timeout=session_timeout)
    if tls and ca_pem:
        script += CA.format(ca=ca_pem.strip())
    if install == 'local':
        return script + LOCAL.format(command=shlex.quote(command))
    if install == 'pip':
        script += PIP.format(
            package=shlex.quote(package),
            index='--index-url %s' % shlex.quote(index) if index else '')
        command = '/opt/softorch-agent/bin/softorch'
    return script + SERVICE.format(command=shlex.quote(command))
