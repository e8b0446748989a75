#!/bin/bash
# A private Heat (heat-engine + Heat's API under gunicorn) with the heat-softorch plugin,
# on loopback, no systemd, authenticating through a Keystone as every real
# Heat does: keystonemiddleware on the API, trusts for deferred operations,
# a stack user domain for the users of servers and deployments.
#
#   tools/heat.sh prepare DIR   write DIR/heat.conf, db_sync, start the API
#                               and the engine (the broker and Keystone may
#                               still boot)
#   tools/heat.sh start DIR     prepare (unless done), then wait until the API
#                               answers its healthcheck and every engine
#                               worker consumes the `engine` queue.
#                               Prints the API URL; DIR/api_url holds it.
#   tools/heat.sh stop DIR      stop the API, the engine and its workers, then
#                               every LocalServer they started (pidfiles under
#                               the servers dir)
#   tools/heat.sh status DIR    exit 0 when API and engine are running
#
# Settings (environment), for prepare/start:
#   HEAT_DB_URL         SQLAlchemy URL (required; MariaDB: convergence needs
#                       concurrent writers)
#   HEAT_TRANSPORT_URL  oslo.messaging URL (required), e.g. rabbit://...
#   KEYSTONE_URL        Keystone's v3 URL (required; tools/keystone.sh)
#   HEAT_SERVICE_PASSWORD       password of Keystone user `heat` (project
#                       service): keystonemiddleware and the trustee
#   HEAT_DOMAIN_ADMIN_PASSWORD  password of `heat_domain_admin` (domain heat)
#                       (tools/keystone_setup.py makes both users)
#   RABBIT_DIR          the tools/rabbitmq.sh DIR of that broker: how the
#                       engine's queue consumers are counted (without it,
#                       readiness falls back to the engine's log)
#   SOFTORCH_ZK         ZooKeeper endpoint(s) for [softorch] zookeeper_hosts
#   SOFTORCH_ZK_CA      the CA of ZooKeeper's TLS certificate; empty: plain TCP
#   HEAT_API_PORT       0 or unset: a free port
#   HEAT_ENGINE_WORKERS num_engine_workers (2)
#   HEAT_API_WORKERS, HEAT_API_THREADS  the API's gunicorn workers (2) and
#                       threads per worker (4)
#   SERVERS_DIR         [softorch] local_server_dir (DIR/servers)
#   VENV, AGENT_VENV    the engine's and the agent's venvs (.venv, .venv-agent)
#   NATIVE_AGENT_VENV   os-collect-config and heat-agents' hooks, for
#                       LocalServers with user_data_format SOFTWARE_CONFIG
#                       (.venv-native-agent; optional)
#   NATIVE_POLLING_INTERVAL  their os-collect-config polling_interval (30,
#                       as in an image; the tests use 1)
#   HEAT_TIMEOUT        seconds to wait for readiness (120)
#   HEAT_GRACEFUL_SHUTDOWN  graceful_shutdown_timeout (3): how long stopping
#                       the engine takes
#   SOFTORCH_RUN_DIR    marker put in every process's environment (DIR)
set -euo pipefail
cmd=${1:?usage: $0 prepare|start|stop|status DIR}
dir=${2:?usage: $0 prepare|start|stop|status DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=tools/lib-run.sh
. "$here/lib-run.sh"
run=${SOFTORCH_RUN_DIR:-$dir}
venv=$(cd "${VENV:-$repo/.venv}" 2>/dev/null && pwd) || venv=${VENV:-$repo/.venv}
agent_venv=$(cd "${AGENT_VENV:-$repo/.venv-agent}" 2>/dev/null && pwd) || agent_venv=${AGENT_VENV:-$repo/.venv-agent}
native_venv=$(cd "${NATIVE_AGENT_VENV:-$repo/.venv-native-agent}" 2>/dev/null && pwd) ||
    native_venv=${NATIVE_AGENT_VENV:-$repo/.venv-native-agent}
conf=$dir/heat.conf
servers=$(grep -s -m1 '^local_server_dir *=' "$conf" | sed 's/^[^=]*= *//') || true
servers=${servers:-${SERVERS_DIR:-$dir/servers}}

pid_of() { [ -f "$dir/$1.pid" ] && tr -dc '0-9' < "$dir/$1.pid"; }
running() { local p; p=$(pid_of "$1") && alive "$p"; }

fail() {   # fail MESSAGE: show what the logs say, stop everything, exit 1
    local f
    echo "heat: $1" >&2
    for f in "$dir/log/api.out" "$dir/log/heat-api.log" "$dir/log/engine.out" "$dir/log/heat-engine.log" \
             "$dir/log/db_sync.out"; do
        [ -s "$f" ] || continue
        echo "---- tail of $f" >&2
        tail -25 "$f" >&2
    done
    stop
    exit 1
}

write_conf() {
    local plugin_dir api_port
    [ -x "$venv/bin/heat-engine" ] || { echo "no heat-engine in $venv: make venv" >&2; exit 1; }
    [ -x "$agent_venv/bin/softorch" ] || { echo "no softorch in $agent_venv: make agent-venv" >&2; exit 1; }
    : "${HEAT_DB_URL:?HEAT_DB_URL is required}" "${HEAT_TRANSPORT_URL:?HEAT_TRANSPORT_URL is required}"
    : "${KEYSTONE_URL:?KEYSTONE_URL is required}" "${HEAT_SERVICE_PASSWORD:?HEAT_SERVICE_PASSWORD is required}"
    : "${HEAT_DOMAIN_ADMIN_PASSWORD:?HEAT_DOMAIN_ADMIN_PASSWORD is required}"
    plugin_dir=$("$venv/bin/python" -c 'import heat_softorch.engine, os; print(os.path.join(os.path.dirname(heat_softorch.engine.__file__), "plugin_dir"))')
    api_port=$(free_port "${HEAT_API_PORT:-0}")
    mkdir -p "$dir/log" "$dir/lock" "$servers"
    [ -s "$dir/engine_password" ] || { (umask 077; python3 -c 'import secrets; print(secrets.token_hex(16))' > "$dir/engine_password"); }
    (umask 077; cat > "$conf" <<CONF
# Written by tools/heat.sh: a private Heat for development and tests.
[DEFAULT]
debug = ${HEAT_DEBUG:-false}
log_dir = $dir/log
host = localheat
transport_url = $HEAT_TRANSPORT_URL
# Deferred operations (convergence workers, signals, autoscaling) act for
# the stack's owner through a trust to the heat service user, as in every
# production Heat; no password is stored.
deferred_auth_method = trusts
reauthentication_auth_method = trusts
region_name_for_services = RegionOne
# Servers and deployments get users of their own in this domain (the
# os-collect-config of a SOFTWARE_CONFIG server, HEAT_SIGNAL deployments).
stack_user_domain_name = heat
stack_domain_admin = heat_domain_admin
stack_domain_admin_password = $HEAT_DOMAIN_ADMIN_PASSWORD
# Heat's own software deployments: this Heat runs no heat-api-cfn, so the
# in-VM side polls and signals through the native API (Heat's defaults,
# POLL_SERVER_CFN and CFN_SIGNAL, need the CFN API).
default_software_config_transport = POLL_SERVER_HEAT
default_deployment_signal_transport = HEAT_SIGNAL
plugin_dirs = /usr/lib64/heat,/usr/lib/heat,/usr/local/lib/heat,/usr/local/lib64/heat,$plugin_dir
environment_dir = $venv/etc/heat/environment.d
template_dir = $venv/etc/heat/templates
convergence_engine = true
num_engine_workers = ${HEAT_ENGINE_WORKERS:-2}
# On SIGTERM an engine worker stops its RPC servers (~3 s) and then waits
# for this alarm to exit (cotyledon's terminate thread cannot end the
# process): stopping takes this long. Never 0: the workers would not exit.
graceful_shutdown_timeout = ${HEAT_GRACEFUL_SHUTDOWN:-3}
max_resources_per_stack = -1
heat_metadata_server_url = http://127.0.0.1:$api_port
heat_waitcondition_server_url = http://127.0.0.1:$api_port/v1/waitcondition

[database]
connection = $HEAT_DB_URL

[paste_deploy]
api_paste_config = $venv/etc/heat/api-paste.ini

[keystone_authtoken]
auth_type = password
auth_url = $KEYSTONE_URL
www_authenticate_uri = $KEYSTONE_URL
username = heat
password = $HEAT_SERVICE_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne

[trustee]
auth_type = password
auth_url = $KEYSTONE_URL
username = heat
password = $HEAT_SERVICE_PASSWORD
user_domain_name = Default

[clients_keystone]
auth_uri = ${KEYSTONE_URL%/v3}

[ec2authtoken]
auth_uri = $KEYSTONE_URL

[oslo_messaging_notifications]
driver = noop

[oslo_messaging_rabbit]
# A broker started at the same time: retry every second, no backoff.
rabbit_retry_interval = 1
rabbit_retry_backoff = 0
rabbit_interval_max = 1

[oslo_concurrency]
lock_path = $dir/lock

[oslo_policy]
# The legacy policy defaults: the new secure-RBAC ones were not tried with
# stack-domain users (os-collect-config reading its server's metadata).
enforce_scope = false
enforce_new_defaults = false

[softorch]
zookeeper_hosts = ${SOFTORCH_ZK:-127.0.0.1:2181}
$(if [ -n "${SOFTORCH_ZK_CA:-}" ]; then echo "zookeeper_ca_file = $SOFTORCH_ZK_CA"; else echo "zookeeper_plaintext = true"; fi)
engine_password = $(cat "$dir/engine_password")
enable_local_servers = true
agent_install = local
agent_command = $agent_venv/bin/softorch
local_server_dir = $servers
agent_grace_period = 20
native_agent_venv = $native_venv
native_polling_interval = ${NATIVE_POLLING_INTERVAL:-30}
CONF
    )
    echo "$api_port" > "$dir/api_port"
    echo "http://127.0.0.1:$api_port" > "$dir/api_url"
    [ -n "${RABBIT_DIR:-}" ] && echo "$RABBIT_DIR" > "$dir/rabbit_dir"
    return 0
}

prepare() {
    if ! running api && ! running engine; then
        write_conf
        "$venv/bin/heat-manage" --config-file "$conf" db_sync > "$dir/log/db_sync.out" 2>&1 ||
            fail "heat-manage db_sync failed"
    fi
    # Each in a session of its own (setsid): heat-engine's forked workers
    # share its process group, which `stop` waits for as a whole.
    if ! running api; then
        # gunicorn, not heat-wsgi-api's one-request-at-a-time server
        # (tools/heat_wsgi.py says why); its access log is what
        # benchmarks/cloud_bench.py counts.
        (cd "$dir" && SOFTORCH_RUN_DIR=$run HEAT_CONFIG_FILE=$conf exec setsid "$venv/bin/gunicorn" \
            --bind "127.0.0.1:$(cat "$dir/api_port")" --workers "${HEAT_API_WORKERS:-2}" \
            --threads "${HEAT_API_THREADS:-4}" --timeout 120 --no-control-socket \
            --access-logfile "$dir/log/access.log" --pythonpath "$here" heat_wsgi:application \
            > "$dir/log/api.out" 2>&1 < /dev/null) &
        echo $! > "$dir/api.pid"
    fi
    # The engine spends its first seconds importing Heat and the plugins: it
    # may start while the broker still boots, and connects (retrying every
    # second) when the broker listens.
    if ! running engine; then
        (cd "$dir" && SOFTORCH_RUN_DIR=$run exec setsid "$venv/bin/heat-engine" --config-file "$conf" \
            > "$dir/log/engine.out" 2>&1 < /dev/null) &
        echo $! > "$dir/engine.pid"
    fi
}

engine_consumers() {   # how many consumers the engine's RPC queue has
    local rdir
    rdir=$(cat "$dir/rabbit_dir" 2>/dev/null) || rdir=
    if [ -n "$rdir" ]; then
        "$here/rabbitmq.sh" consumers "$rdir" engine 2>/dev/null || true
    else   # fake:// or an unknown broker: the workers' log lines
        local n
        n=$(grep -c 'Starting engine_worker' "$dir/log/heat-engine.log" 2>/dev/null) || true
        echo "${n:-0}"
    fi
}

healthy() {   # the API's healthcheck (200, no token needed)
    http_get "$(cat "$dir/api_url")/healthcheck" >/dev/null 2>&1
}

start() {
    local workers end n
    end=$(deadline "${HEAT_TIMEOUT:-120}")
    prepare
    workers=$(grep -m1 '^num_engine_workers' "$conf" | sed 's/.*= *//')
    # RPC calls sent before the engine's queue has a consumer are lost (the
    # API would time out after 60 s): wait for every worker's consumer.
    while :; do
        running api || fail "the API (gunicorn) died"
        running engine || fail "heat-engine died"
        n=$(engine_consumers)
        if [ "${n:-0}" -ge "$workers" ] && healthy; then
            cat "$dir/api_url"
            return 0
        fi
        past "$end" &&
            fail "not ready after ${HEAT_TIMEOUT:-120} s (engine queue consumers: ${n:-0}/$workers)"
        sleep 0.3
    done
}

servers_stopped=0
stop_servers() {   # every LocalServer: its process group and descendants
    local f pid p procs=()
    [ -d "$servers" ] || return 0
    while IFS= read -r f; do
        pid=$(tr -dc '0-9' < "$f" 2>/dev/null) || continue
        [ -n "$pid" ] || continue
        # A LocalServer runs in a session of its own (start_new_session), so
        # its pid leads a process group; an agent runs each script in a
        # further session, found as a descendant. Snapshot everything before
        # the first signal: once a parent dies its children are re-parented.
        for p in $(group_members "$pid"; if alive "$pid"; then echo "$pid"; descendants "$pid"; fi); do
            if has_marker "$p" "$run"; then procs+=("$p"); fi
        done
    done < <(find "$servers" -maxdepth 3 \( -name '*.pid' -o -name pid \) -type f 2>/dev/null)
    servers_stopped=${#procs[@]}
    [ ${#procs[@]} -eq 0 ] && return 0
    # shellcheck disable=SC2046
    stop_pids 10 "$run" $(printf '%s\n' "${procs[@]}" | sort -un)
}

stop_group() {   # stop_group NAME TIMEOUT_S: the daemon and its whole group
    local pid members end told
    pid=$(pid_of "$1") || return 0
    # setsid made it a group leader; its forked workers share its group. If
    # the leader died, its workers may still be there: the group is checked
    # and signalled through whichever member is left.
    members=$(group_members "$pid")
    if [ -n "$members" ] && has_marker "${members%%$'\n'*}" "$run"; then
        if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true
        else kill -TERM -- "-$pid" 2>/dev/null || true; fi
        end=$(deadline "$2")
        told=$(deadline 2)
        while [ -n "$(group_members "$pid")" ] && ! past "$end"; do
            # the leader gone, workers left behind: tell them directly
            if [ -n "$told" ] && past "$told" && ! alive "$pid"; then
                kill -TERM -- "-$pid" 2>/dev/null || true
                told=
            fi
            sleep 0.1
        done
        if [ -n "$(group_members "$pid")" ]; then
            echo "  $1: process group $pid still alive after $2 s: SIGKILL" >&2
            kill -KILL -- "-$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    rm -f "$dir/$1.pid"
}

stop() {
    local t a e
    t=$(now); stop_group api 10; a=$(since "$t")
    t=$(now); stop_group engine 15; e=$(since "$t")
    t=$(now); stop_servers
    [ "$cmd" = stop ] && echo "  API ${a}s, heat-engine ${e}s, LocalServers ($servers_stopped processes) $(since "$t")s"
    return 0
}

status() { running api && running engine; }

case $cmd in
    prepare) prepare ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 prepare|start|stop|status DIR" >&2; exit 2 ;;
esac
