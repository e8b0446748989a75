#!/bin/bash
# The in-VM side of Heat's own software deployments, for LocalServers with
# user_data_format SOFTWARE_CONFIG: what a Heat-ready image holds.
#
#   tools/native-agent.sh install VENV
#
# Makes VENV with, from PyPI: os-collect-config, os-apply-config and
# os-refresh-config (which run the deployments), python-heatclient and
# python-keystoneclient (the `heat` collector and heat-config-notify),
# ansible-core (the ansible hook); and lays out heat-agents' files from its
# sdist (its wheel has no hooks) under VENV/heat-config:
#
#   bin/heat-config-notify                 signals a deployment's result
#   bin/refresh                            os-collect-config's command
#   hooks/script, hooks/ansible, hooks/puppet
#   os-refresh-config/configure.d/20-os-apply-config, 55-heat-config
#   os-apply-config/var/run/heat-config/heat-config
#
# Unchanged but for two shims of ours (tools/native-agent/: os-apply-config's
# output and os-refresh-config's lock per server instead of per host). The
# puppet hook needs `puppet` on PATH (Debian's package), which is not
# installed here. Versions: upper-constraints.txt (PIP_FLAGS for pip).
set -euo pipefail
cmd=${1:?usage: $0 install VENV}
venv=${2:?usage: $0 install VENV}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
uc=$repo/upper-constraints.txt
PYTHON=${PYTHON:-python3}
read -r -a pip_flags <<< "${PIP_FLAGS:--q --disable-pip-version-check}"

install() {
    local version src dest
    [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
    venv=$(cd "$venv" && pwd)
    "$venv/bin/pip" install "${pip_flags[@]}" -c "$uc" os-collect-config os-apply-config \
        os-refresh-config python-heatclient python-keystoneclient ansible-core
    version=$(sed -n 's/^heat-agents==//p' "$uc")
    dl=$(mktemp -d)
    trap 'rm -rf "$dl"' EXIT
    "$venv/bin/pip" download "${pip_flags[@]}" --no-binary :all: --no-deps -d "$dl" "heat-agents==$version"
    tar -xzf "$dl"/heat_agents-*.tar.gz -C "$dl"
    src=$(echo "$dl"/heat_agents-*/)
    dest=$venv/heat-config
    rm -rf "$dest"
    mkdir -p "$dest/bin" "$dest/hooks" "$dest/os-refresh-config/configure.d" \
        "$dest/os-apply-config/var/run/heat-config"
    cp "$src/heat-config/bin/heat-config-notify" "$dest/bin/"
    cp "$src/heat-config/os-refresh-config/configure.d/55-heat-config" "$dest/os-refresh-config/configure.d/"
    cp "$src/heat-config/os-apply-config/var/run/heat-config/heat-config" "$dest/os-apply-config/var/run/heat-config/"
    cp "$src/heat-config-script/install.d/hook-script.py" "$dest/hooks/script"
    cp "$src/heat-config-ansible/install.d/hook-ansible.py" "$dest/hooks/ansible"
    cp "$src/heat-config-puppet/install.d/hook-puppet.py" "$dest/hooks/puppet"
    cp "$here/native-agent/20-os-apply-config" "$dest/os-refresh-config/configure.d/"
    cp "$here/native-agent/refresh" "$dest/bin/"
    chmod 755 "$dest"/bin/* "$dest"/hooks/* "$dest"/os-refresh-config/configure.d/*
    echo "heat-agents $version" > "$dest/VERSION"
}

case $cmd in
    install) install ;;
    *) echo "usage: $0 install VENV" >&2; exit 2 ;;
esac
