# shellcheck shell=bash
# heat-softorch devstack plugin: a ZooKeeper for software orchestration, the
# plugin installed where heat-engine runs, and heat.conf pointed at it.
#
# Sourced by devstack as `plugin.sh stack pre-install|install|post-config|
# extra|test-config`, `plugin.sh unstack` and `plugin.sh clean`, in the order
# of the enable_plugin lines; devstack/settings was sourced before.
#
# Order with Heat (enable_plugin heat must come BEFORE enable_plugin
# heat-softorch; pre-install checks it):
#   post-config  heat: deletes /etc/heat, writes a new heat.conf
#                ours: writes ZooKeeper's config and (re)starts ZooKeeper,
#                      appends our shim directory to [DEFAULT] plugin_dirs,
#                      writes [softorch]
#   (local.conf's [[post-config|$HEAT_CONF]] is merged here: a plugin_dirs
#    set there replaces ours)
#   extra        heat: starts heat-engine, which finds ZooKeeper running
#
# No shebang: devstack sources this file (hence the "shell=bash" directive
# above). Devstack's functions (iniget, iniset, install_package,
# setup_develop, pip_install, restart_service, die, ...) and the SOFTORCH_*
# variables of settings come from that shell.

# Save trace setting
_XTRACE_SOFTORCH=$(set +o | grep xtrace)
set -o xtrace

# Heat's default [DEFAULT] plugin_dirs (heat/common/config.py): what an empty
# plugin_dirs means, kept when we add ours to it.
SOFTORCH_HEAT_DEFAULT_PLUGIN_DIRS=/usr/lib64/heat,/usr/lib/heat,/usr/local/lib/heat,/usr/local/lib64/heat

# Functions
# ---------

# _softorch_check_plugin_order: die unless Heat's plugin is enabled before
# ours. Heat's post-config deletes its config directory; run after ours, it
# would drop plugin_dirs and [softorch] without a word, and heat-engine would
# start without the plugin.
function _softorch_check_plugin_order {
    if ! is_plugin_enabled "$SOFTORCH_HEAT_PLUGIN_NAME"; then
        die $LINENO "heat-softorch needs Heat: add 'enable_plugin $SOFTORCH_HEAT_PLUGIN_NAME" \
            "https://opendev.org/openstack/heat' before 'enable_plugin $SOFTORCH_PLUGIN_NAME'" \
            "(or set SOFTORCH_HEAT_PLUGIN_NAME to the name Heat's plugin is enabled as)"
    fi
    local plugin
    for plugin in ${DEVSTACK_PLUGINS//,/ }; do
        if [[ $plugin == "$SOFTORCH_HEAT_PLUGIN_NAME" ]]; then
            return 0
        elif [[ $plugin == "$SOFTORCH_PLUGIN_NAME" ]]; then
            die $LINENO "heat-softorch: 'enable_plugin $SOFTORCH_HEAT_PLUGIN_NAME' must come" \
                "before 'enable_plugin $SOFTORCH_PLUGIN_NAME' in local.conf (Heat's post-config" \
                "rewrites heat.conf, ours edits it)"
        fi
    done
}

# _softorch_engine_requirements: the "engine" extra of setup.cfg without
# openstack-heat, one requirement a line. Devstack installs Heat from its own
# checkout (master or a stable branch): `setup_develop DIR engine` would make
# pip replace it with a release from PyPI whenever the checkout's version is
# outside the extra's range.
function _softorch_engine_requirements {
    "${PYTHON:-python3}" - "$SOFTORCH_DIR/setup.cfg" <<'EOF'
import configparser
import re
import sys

cfg = configparser.ConfigParser()
cfg.read(sys.argv[1])
for line in cfg.get('extras', 'engine', fallback='').splitlines():
    req = line.split('#')[0].strip()
    name = re.split(r'[\s<>=!~;\[]', req, maxsplit=1)[0]
    if req and re.sub(r'[-_.]+', '-', name).lower() != 'openstack-heat':
        print(req)
EOF
}

# install_softorch: ZooKeeper's package, the plugin in devstack's Python
# (the global venv when GLOBAL_VENV=True, as Heat) and what heat-engine needs
# of the "engine" extra.
function install_softorch {
    if [[ $SOFTORCH_MANAGE_ZOOKEEPER == True ]]; then
        if ! is_ubuntu; then
            die $LINENO "heat-softorch installs ZooKeeper from Debian/Ubuntu's" \
                "$SOFTORCH_ZK_PACKAGE only: elsewhere set SOFTORCH_MANAGE_ZOOKEEPER=False" \
                "and SOFTORCH_ZK_HOSTS to a ZooKeeper of yours"
        fi
        install_package "$SOFTORCH_ZK_PACKAGE"
    fi

    setup_develop "$SOFTORCH_DIR"

    local reqs_text
    local -a reqs=()
    reqs_text=$(_softorch_engine_requirements) ||
        die $LINENO "heat-softorch: cannot read the engine extra of $SOFTORCH_DIR/setup.cfg"
    if [[ -n $reqs_text ]]; then
        mapfile -t reqs <<< "$reqs_text"
        pip_install "${reqs[@]}"
    fi
}

# _softorch_zoo_cfg: ZooKeeper's configuration, on stdout.
function _softorch_zoo_cfg {
    cat <<EOF
# Written by heat-softorch's devstack plugin (devstack/plugin.sh) on every
# stack.sh: change the SOFTORCH_ZK_* variables in local.conf, not this file.
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$SOFTORCH_ZK_DATA_DIR
clientPort=$SOFTORCH_ZK_PORT
EOF
    if [[ -n $SOFTORCH_ZK_BIND_ADDRESS ]]; then
        echo "clientPortAddress=$SOFTORCH_ZK_BIND_ADDRESS"
    fi
    cat <<EOF
# VMs behind one Neutron router arrive from one (SNAT) address.
maxClientCnxns=$SOFTORCH_ZK_MAX_CLIENT_CNXNS
# The Jetty admin server would take port 8080, Swift's proxy in devstack.
admin.enableServer=false
# ruok: plugin.sh's readiness check; the others for people.
4lw.commands.whitelist=ruok,srvr,stat,mntr,cons
# Keep a long-lived devstack's data directory small.
autopurge.snapRetainCount=3
autopurge.purgeInterval=24
EOF
}

# configure_softorch_zookeeper: a data directory of ours, owned by the user
# the packaged service runs as, and our configuration directory selected as
# Debian's zookeeper-conf alternative (/etc/zookeeper/conf), which the
# packaged service reads (environment, zoo.cfg).
function configure_softorch_zookeeper {
    if [[ ! -f $SOFTORCH_ZK_CONF_EXAMPLE_DIR/environment ]]; then
        die $LINENO "heat-softorch: no $SOFTORCH_ZK_CONF_EXAMPLE_DIR/environment:" \
            "is $SOFTORCH_ZK_PACKAGE installed?"
    fi
    sudo install -d -o "$SOFTORCH_ZK_USER" -g "$SOFTORCH_ZK_GROUP" -m 0750 "$SOFTORCH_ZK_DATA_DIR"

    sudo install -d -m 0755 "$SOFTORCH_ZK_CONF_DIR"
    # The package's environment (classpath, log directory), log4j settings...
    sudo cp -a "$SOFTORCH_ZK_CONF_EXAMPLE_DIR/." "$SOFTORCH_ZK_CONF_DIR/"
    # ...and our zoo.cfg. myid only matters in an ensemble; the example's is
    # a placeholder sentence.
    _softorch_zoo_cfg | sudo tee "$SOFTORCH_ZK_CONF_DIR/zoo.cfg" > /dev/null
    echo 1 | sudo tee "$SOFTORCH_ZK_CONF_DIR/myid" > /dev/null

    # Registering again is harmless (update-alternatives updates the entry);
    # --set takes the alternative out of auto mode, so a package upgrade
    # cannot switch back to the example while we are installed.
    sudo update-alternatives --install "$SOFTORCH_ZK_CONF_LINK" zookeeper-conf \
        "$SOFTORCH_ZK_CONF_DIR" "$SOFTORCH_ZK_CONF_PRIORITY"
    sudo update-alternatives --set zookeeper-conf "$SOFTORCH_ZK_CONF_DIR"
}

# _softorch_zk_ruok HOST PORT: true if ZooKeeper answers "imok". `read -t`,
# not cat: a ZooKeeper still starting can accept the connection and never
# answer.
function _softorch_zk_ruok {
    local reply
    reply=$( (exec 3<>"/dev/tcp/$1/$2" && printf ruok >&3 && read -r -t 2 -n 4 r <&3 &&
              printf %s "$r") 2> /dev/null) || true
    [[ $reply == imok ]]
}

# start_softorch_zookeeper: restart the packaged service, which the package
# started with its example configuration on install, and wait until ours
# answers. Runs in post-config, before Heat's extra starts heat-engine.
function start_softorch_zookeeper {
    local host=$SOFTORCH_ZK_BIND_ADDRESS
    if [[ -z $host || $host == 0.0.0.0 || $host == :: ]]; then
        host=127.0.0.1
    fi
    restart_service "$SOFTORCH_ZK_SERVICE"

    local deadline=$((SECONDS + SOFTORCH_ZK_START_TIMEOUT))
    until _softorch_zk_ruok "$host" "$SOFTORCH_ZK_PORT"; do
        if ((SECONDS >= deadline)); then
            die $LINENO "heat-softorch: ZooKeeper does not answer on $host:$SOFTORCH_ZK_PORT" \
                "after ${SOFTORCH_ZK_START_TIMEOUT}s: see 'systemctl status $SOFTORCH_ZK_SERVICE'" \
                "and /var/log/zookeeper"
        fi
        sleep 1
    done
}

# stop_softorch_zookeeper: unstack. Nothing to stop when stack.sh never got
# as far as installing the package.
function stop_softorch_zookeeper {
    if is_package_installed "$SOFTORCH_ZK_PACKAGE"; then
        stop_service "$SOFTORCH_ZK_SERVICE"
    fi
}

# _softorch_shim_dir: the directory of the one-line shim module, inside the
# heat_softorch package that heat-engine's Python imports. Found without
# importing the package: its spec is enough.
function _softorch_shim_dir {
    local python
    python="$(get_python_exec_prefix)/python3"
    if [[ ! -x $python ]]; then
        python=${PYTHON:-python3}
    fi
    "$python" -c '
import importlib.util, os, sys
spec = importlib.util.find_spec("heat_softorch")
if spec is None:
    sys.exit("heat_softorch is not installed for " + sys.executable)
print(os.path.join(list(spec.submodule_search_locations)[0], "engine", "plugin_dir"))
'
}

# _softorch_add_plugin_dir CONF DIR: add DIR to CONF's [DEFAULT] plugin_dirs,
# read with iniget and written back with iniset: other entries (Heat's
# ENABLE_HEAT_PLUGINS directory, other plugins') stay, in their order. An
# empty value means Heat's default list, which is kept. Nothing changes when
# DIR is already there: post-config twice gives the same file.
function _softorch_add_plugin_dir {
    local conf=$1
    local dir=$2
    local current entry
    local -a entries=()
    local -a kept=()

    current=$(iniget "$conf" DEFAULT plugin_dirs)
    if [[ -z $current ]]; then
        current=$SOFTORCH_HEAT_DEFAULT_PLUGIN_DIRS
    fi
    IFS=',' read -r -a entries <<< "$current"
    for entry in "${entries[@]}"; do
        # trim the blanks oslo.config would ignore
        entry="${entry#"${entry%%[![:space:]]*}"}"
        entry="${entry%"${entry##*[![:space:]]}"}"
        if [[ -z $entry ]]; then
            continue
        fi
        if [[ ${entry%/} == "${dir%/}" ]]; then
            return 0
        fi
        kept+=("$entry")
    done
    kept+=("$dir")
    iniset "$conf" DEFAULT plugin_dirs "$(IFS=,; echo "${kept[*]}")"
}

# _softorch_engine_password: SOFTORCH_ENGINE_PASSWORD, or the one generated
# into SOFTORCH_ENGINE_PASSWORD_FILE by the first stack.sh (see settings).
function _softorch_engine_password {
    if [[ -n $SOFTORCH_ENGINE_PASSWORD ]]; then
        echo "$SOFTORCH_ENGINE_PASSWORD"
        return 0
    fi
    if [[ ! -s $SOFTORCH_ENGINE_PASSWORD_FILE ]]; then
        mkdir -p "$(dirname "$SOFTORCH_ENGINE_PASSWORD_FILE")"
        (umask 077 && "${PYTHON:-python3}" -c 'import secrets; print(secrets.token_hex(16))' \
            > "$SOFTORCH_ENGINE_PASSWORD_FILE")
    fi
    cat "$SOFTORCH_ENGINE_PASSWORD_FILE"
}

# _softorch_iniset_optional CONF OPTION VALUE: only when VALUE is set.
function _softorch_iniset_optional {
    if [[ -n $3 ]]; then
        iniset "$1" softorch "$2" "$3"
    fi
}

# configure_softorch_heat: heat.conf, after Heat's post-config wrote it.
function configure_softorch_heat {
    local heat_conf=${HEAT_CONF:-/etc/heat/heat.conf}
    if [[ ! -f $heat_conf ]]; then
        die $LINENO "heat-softorch: no $heat_conf. Is Heat enabled on this node, and" \
            "'enable_plugin $SOFTORCH_HEAT_PLUGIN_NAME' before 'enable_plugin $SOFTORCH_PLUGIN_NAME'?"
    fi

    local shim_dir
    shim_dir=$(_softorch_shim_dir) || die $LINENO "heat-softorch: cannot locate heat_softorch"
    if [[ ! -f $shim_dir/heat_softorch_resources.py ]]; then
        die $LINENO "heat-softorch: no shim module in $shim_dir"
    fi
    _softorch_add_plugin_dir "$heat_conf" "$shim_dir"

    local zk_hosts=${SOFTORCH_ZK_HOSTS:-$SERVICE_HOST:$SOFTORCH_ZK_PORT}
    local agent_zk_hosts=${SOFTORCH_AGENT_ZK_HOSTS:-$SERVICE_HOST:$SOFTORCH_ZK_PORT}
    iniset "$heat_conf" softorch zookeeper_hosts "$zk_hosts"
    iniset "$heat_conf" softorch agent_zookeeper_hosts "$agent_zk_hosts"
    iniset "$heat_conf" softorch root_path "$SOFTORCH_ROOT_PATH"
    iniset "$heat_conf" softorch engine_user "$SOFTORCH_ENGINE_USER"
    iniset "$heat_conf" softorch agent_install "$SOFTORCH_AGENT_INSTALL"

    # The password stays out of the xtrace log.
    local xtrace password
    xtrace=$(set +o | grep xtrace)
    set +o xtrace
    password=$(_softorch_engine_password)
    if [[ -z $password ]]; then
        die $LINENO "heat-softorch: no engine password (SOFTORCH_ENGINE_PASSWORD_FILE" \
            "$SOFTORCH_ENGINE_PASSWORD_FILE)"
    fi
    iniset "$heat_conf" softorch engine_password "$password"
    $xtrace

    _softorch_iniset_optional "$heat_conf" agent_package "$SOFTORCH_AGENT_PACKAGE"
    _softorch_iniset_optional "$heat_conf" agent_pip_index "$SOFTORCH_AGENT_PIP_INDEX"
    _softorch_iniset_optional "$heat_conf" agent_command "$SOFTORCH_AGENT_COMMAND"
    _softorch_iniset_optional "$heat_conf" connect_timeout "$SOFTORCH_CONNECT_TIMEOUT"
    _softorch_iniset_optional "$heat_conf" check_slice "$SOFTORCH_CHECK_SLICE"
    _softorch_iniset_optional "$heat_conf" agent_grace_period "$SOFTORCH_AGENT_GRACE_PERIOD"
    _softorch_iniset_optional "$heat_conf" agent_boot_timeout "$SOFTORCH_AGENT_BOOT_TIMEOUT"
    local servers_dir=$SOFTORCH_LOCAL_SERVER_DIR
    if [[ -n $SOFTORCH_ENABLE_LOCAL_SERVERS ]]; then
        local local_servers
        local_servers=$(trueorfalse False SOFTORCH_ENABLE_LOCAL_SERVERS)
        iniset "$heat_conf" softorch enable_local_servers "$local_servers"
        if [[ $local_servers == True ]]; then
            # The option's default (/var/lib/heat-softorch/servers) is not
            # writable by heat-engine, which runs as the stack user.
            servers_dir=${servers_dir:-$SOFTORCH_STATE_DIR/servers}
            mkdir -p "$servers_dir"
        fi
    fi
    _softorch_iniset_optional "$heat_conf" local_server_dir "$servers_dir"
}

# cleanup_softorch: clean.sh, after unstack stopped ZooKeeper. ZooKeeper's
# data and the engine password go together.
function cleanup_softorch {
    if [[ $SOFTORCH_MANAGE_ZOOKEEPER == True ]]; then
        if [[ -d $SOFTORCH_ZK_CONF_DIR ]]; then
            # Back to the package's example; fails only if an interrupted
            # stack.sh never registered it.
            sudo update-alternatives --remove zookeeper-conf "$SOFTORCH_ZK_CONF_DIR" || true
            sudo rm -rf "$SOFTORCH_ZK_CONF_DIR"
        fi
        sudo rm -rf "${SOFTORCH_ZK_DATA_DIR:?}"
    fi
    sudo rm -rf "${SOFTORCH_STATE_DIR:?}"
}

# Dispatcher
# ----------

if is_service_enabled softorch; then
    if [[ "$1" == "stack" && "$2" == "pre-install" ]]; then
        # Before anything is installed: a wrong order would only show when
        # heat-engine starts without the plugin.
        _softorch_check_plugin_order

    elif [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing heat-softorch"
        install_softorch

    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        mkdir -p "$SOFTORCH_STATE_DIR"
        if [[ $SOFTORCH_MANAGE_ZOOKEEPER == True ]]; then
            echo_summary "Configuring and starting ZooKeeper for heat-softorch"
            configure_softorch_zookeeper
            start_softorch_zookeeper
        fi
        echo_summary "Configuring Heat for heat-softorch"
        configure_softorch_heat
    fi

    if [[ "$1" == "unstack" ]]; then
        if [[ $SOFTORCH_MANAGE_ZOOKEEPER == True ]]; then
            stop_softorch_zookeeper
        fi
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_softorch
    fi
fi

# Restore xtrace
$_XTRACE_SOFTORCH
