#!/bin/bash
# A private local Heat with the heat-softorch plugin and everything it needs,
# on loopback ports chosen free at start, all under one run directory.
#
#   tools/localheat.sh up RUN       start (or say it is already up)
#   tools/localheat.sh down RUN     stop exactly what `up RUN` started
#   tools/localheat.sh status RUN   exit 0 when everything runs
#
# `up` starts, each under RUN/<name>:
#   zk      ZooKeeper             tools/zookeeper.sh
#   rabbit  RabbitMQ (own EPMD)   tools/rabbitmq.sh   (boots in the background)
#   mysql   MariaDB, dbs `heat`, `keystone`   tools/mariadb.sh
#   keystone  Keystone under gunicorn, fernet tokens   tools/keystone.sh,
#           then the objects Heat needs (tools/keystone_setup.py): user
#           heat, domain heat and its admin, the orchestration endpoint
#           (boots in the background while Heat starts)
#   heat    heat-wsgi-api and heat-engine (convergence, 2 workers) with
#           keystonemiddleware, trusts and a stack user domain,
#           heat-softorch's plugin_dir and a [softorch] section
#           (LocalServers enabled, their processes under RUN/servers)
# then writes RUN/openrc (password auth as admin, for the openstack client
# and the softorch commands) and RUN/env (KEY=value, shell-quoted: RUN_DIR,
# ZK_ENDPOINT, KEYSTONE_URL, HEAT_API_URL, HEAT_CONF, OPENRC, ...).
#
# Fixed ports instead of free ones: ZK_PORT, DB_PORT, RABBIT_PORT,
# KEYSTONE_PORT, HEAT_API_PORT. Venvs: VENV (.venv), AGENT_VENV
# (.venv-agent), NATIVE_AGENT_VENV (.venv-native-agent: os-collect-config
# and heat-agents' hooks for LocalServers with user_data_format
# SOFTWARE_CONFIG; NATIVE_POLLING_INTERVAL, 30 s by default, is theirs).
# ZooKeeper: TLS only (a CA made for the run, RUN/zk/tls/ca.pem), digest
# sessions only, hard quotas; ZK_NODES=3 for an ensemble on loopback,
# ZK_PLAINTEXT=1 for plain TCP (the engine then warns in its log).
#
# Every process started carries SOFTORCH_RUN_DIR=RUN in its environment
# (inherited by engine workers, LocalServers and their agents): `down` checks
# each pidfile's process against it, and afterwards lists and kills any
# process still carrying it, reporting it as a survivor. Nothing is killed by
# name.
set -euo pipefail
cmd=${1:?usage: $0 up|down|status RUN}
run=${2:?usage: $0 up|down|status RUN}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
venv=$(cd "${VENV:-$repo/.venv}" 2>/dev/null && pwd) || venv=${VENV:-$repo/.venv}
# shellcheck source=tools/lib-run.sh
. "$here/lib-run.sh"
mkdir -p "$(dirname "$run")"
run=$(cd "$(dirname "$run")" && pwd)/$(basename "$run")
MARK=.localheat   # a run dir this script created: safe to wipe

T0=$(now)
TS=$T0
step() {   # step DONE_MESSAGE: print the time the step took, then start the next
    printf '[%5ss %5ss] %s\n' "$(since "$TS")" "$(since "$T0")" "$1"
    TS=$(now)
}

pidfiles() {
    find "$run" -maxdepth 3 -name '*.pid' -type f 2>/dev/null \
        | grep -v -e '/mysql/mariadbd.pid$' || true   # mariadbd's own, stale after a crash
}

status() {
    [ -f "$run/env" ] || return 1
    local f
    for f in zk/n1/zk.pid mysql/mysqld.pid rabbit/rabbit.launcher.pid rabbit/epmd.pid; do
        [ -f "$run/$f" ] && alive "$(tr -dc '0-9' < "$run/$f")" || return 1
    done
    "$here/keystone.sh" status "$run/keystone" || return 1
    "$here/heat.sh" status "$run/heat" || return 1
    http_get "$(cat "$run/keystone/url")" >/dev/null || return 1
    http_get "$(cat "$run/heat/api_url")/healthcheck" >/dev/null
}

down() {
    local quiet=${1:-} s
    [ -d "$run" ] || return 0
    rm -f "$run/env" "$run/openrc"
    # This shell must not look like one of the processes it hunts.
    export -n SOFTORCH_RUN_DIR
    cd /
    if [ -z "$(pidfiles)" ] && [ -z "$(survivors "$run")" ]; then
        return 0   # nothing up: quiet
    fi
    [ -n "$quiet" ] || echo "stopping the local Heat in $run"
    SOFTORCH_RUN_DIR=$run "$here/heat.sh" stop "$run/heat"
    step "heat: API, engine and its workers, LocalServers stopped"
    SOFTORCH_RUN_DIR=$run "$here/keystone.sh" stop "$run/keystone"
    step "keystone stopped"
    SOFTORCH_RUN_DIR=$run "$here/rabbitmq.sh" stop "$run/rabbit"
    step "rabbitmq and its epmd stopped"
    SOFTORCH_RUN_DIR=$run "$here/mariadb.sh" stop "$run/mysql"
    step "mariadb stopped"
    "$here/zookeeper.sh" stop "$run/zk"
    step "zookeeper stopped"
    s=$(survivors "$run")
    if [ -n "$s" ]; then
        echo "WARNING: processes of $run survived the orderly stop; killing them:" >&2
        printf '  %s\n' "${s//$'\n'/$'\n  '}" >&2
        # shellcheck disable=SC2046
        stop_pids 5 "$run" $(echo "$s" | cut -d' ' -f1)
        s=$(survivors "$run")
        if [ -n "$s" ]; then
            echo "ERROR: still alive:" >&2
            printf '  %s\n' "${s//$'\n'/$'\n  '}" >&2
            return 1
        fi
    fi
    step "down: no process of $run left"
}

write_files() {
    local zk=$1 db=$2 rabbit=$3 api_url api_port ks_url
    api_url=$(cat "$run/heat/api_url")
    api_port=$(cat "$run/heat/api_port")
    ks_url=$(cat "$run/keystone/url")
    (umask 077; {
        echo "# The local cloud of heat-softorch (tools/localheat.sh up $run),"
        echo "# started $(date -Is)."
        echo "#   ZooKeeper $zk   MariaDB $db   RabbitMQ $rabbit"
        echo "#   Keystone $ks_url   Heat API 127.0.0.1:$api_port (in the catalog)"
        echo "#   heat.conf $run/heat/heat.conf   logs $run/heat/log, $run/keystone/log"
        echo "#   LocalServers $run/servers"
        echo "# Use:  . $run/openrc; openstack stack list"
        echo "unset OS_CLOUD OS_TOKEN OS_ENDPOINT OS_URL OS_AUTH_TYPE OS_PROJECT_ID OS_USER_ID OS_DOMAIN_NAME OS_DOMAIN_ID"
        echo "export OS_AUTH_URL=$ks_url"
        echo "export OS_IDENTITY_API_VERSION=3"
        echo "export OS_USERNAME=admin"
        echo "export OS_PASSWORD=$(cat "$run/keystone/admin_password")"
        echo "export OS_PROJECT_NAME=admin"
        echo "export OS_USER_DOMAIN_NAME=Default"
        echo "export OS_PROJECT_DOMAIN_NAME=Default"
        echo "export OS_REGION_NAME=RegionOne"
        echo "export OS_INTERFACE=public"
        echo "# softorch status/graph/plan/timeline read ZooKeeper as set here:"
        echo "export SOFTORCH_CONFIG_FILE=$run/heat/heat.conf"
    } > "$run/openrc")
    {
        printf 'RUN_DIR=%q\n' "$run"
        printf 'ZK_ENDPOINT=%q\n' "$zk"
        printf 'ZK_CA=%q\n' "${SOFTORCH_ZK_CA:-}"
        printf 'KEYSTONE_URL=%q\n' "$ks_url"
        printf 'HEAT_API_URL=%q\n' "$api_url"
        printf 'HEAT_API_PORT=%q\n' "$api_port"
        printf 'HEAT_CONF=%q\n' "$run/heat/heat.conf"
        printf 'HEAT_LOG_DIR=%q\n' "$run/heat/log"
        printf 'SERVERS_DIR=%q\n' "$run/servers"
        printf 'DB_ENDPOINT=%q\n' "$db"
        printf 'DB_URL=%q\n' "$(cat "$run/mysql/url")"
        printf 'RABBIT_ENDPOINT=%q\n' "$rabbit"
        printf 'TRANSPORT_URL=%q\n' "$(cat "$run/rabbit/url")"
        printf 'OPENRC=%q\n' "$run/openrc"
    } > "$run/env.tmp"
    mv "$run/env.tmp" "$run/env"   # last: its presence means "up"
}

up_failed() {
    local job
    echo "up failed: stopping what was started" >&2
    for job in $rabbit_job $keystone_job; do
        if kill -0 "$job" 2>/dev/null; then
            kill "$job" 2>/dev/null || true
            wait "$job" 2>/dev/null || true
        fi
    done
    down quiet || true
    exit 1
}

up() {
    local zk db rabbit rabbit_port api_url
    if status; then
        echo "already up in $run: . $run/openrc"
        return 0
    fi
    if [ -n "$(pidfiles)" ]; then
        echo "partly up in $run: restarting it"
        down quiet
    fi
    if [ -d "$run" ] && [ ! -f "$run/$MARK" ] && [ -n "$(ls -A "$run")" ]; then
        echo "$run exists and was not made by $0: not touching it" >&2
        return 1
    fi
    rm -rf "$run"
    mkdir -p "$run/log" "$run/servers"
    touch "$run/$MARK"
    export SOFTORCH_RUN_DIR=$run
    rabbit_job=
    keystone_job=
    trap 'up_failed' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    rabbit_port=$(free_port "${RABBIT_PORT:-0}")
    # RabbitMQ takes the longest (~8 s of Erlang boot): it starts first and
    # boots while the others start.
    "$here/rabbitmq.sh" start "$run/rabbit" "$rabbit_port" > "$run/log/rabbitmq-start.out" 2>&1 &
    rabbit_job=$!
    step "rabbitmq: booting on 127.0.0.1:$rabbit_port (in the background)"
    db=$("$here/mariadb.sh" start "$run/mysql" "${DB_PORT:-0}" | tail -1)
    step "mariadb: $db, database heat"

    # Keystone boots (~10 s of keystone-manage and gunicorn) while
    # ZooKeeper and Heat start: Heat's configuration needs only Keystone's
    # URL and the two passwords made here, and Heat asks Keystone nothing
    # before a request.
    export HEAT_SERVICE_PASSWORD HEAT_DOMAIN_ADMIN_PASSWORD KEYSTONE_URL HEAT_API_PORT
    mkdir -p "$run/keystone"
    HEAT_SERVICE_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    HEAT_DOMAIN_ADMIN_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    HEAT_API_PORT=$(free_port "${HEAT_API_PORT:-0}")
    local ks_port; ks_port=$(free_port "${KEYSTONE_PORT:-0}")
    KEYSTONE_URL=http://127.0.0.1:$ks_port/v3
    local ks_db; ks_db=$("$here/mariadb.sh" database "$run/mysql" keystone)
    (
        KEYSTONE_DB_URL=$ks_db KEYSTONE_PORT=$ks_port VENV=$venv "$here/keystone.sh" start "$run/keystone" &&
        OS_AUTH_URL=$KEYSTONE_URL OS_USERNAME=admin OS_PASSWORD=$(cat "$run/keystone/admin_password") \
            OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default \
            "$venv/bin/python" "$here/keystone_setup.py" "http://127.0.0.1:$HEAT_API_PORT/v1/%(project_id)s"
    ) > "$run/log/keystone-start.out" 2>&1 &
    keystone_job=$!
    step "keystone: booting on $KEYSTONE_URL (in the background)"

    # The engine's ZooKeeper identity is the ensemble's super-user: it must
    # be able to remove whatever a hostile host created.
    mkdir -p "$run/heat"
    (umask 077; python3 -c 'import secrets; print(secrets.token_hex(16))' > "$run/heat/engine_password")
    zk=$(ZK_SUPER="softorch-engine:$(cat "$run/heat/engine_password")" \
        "$here/zookeeper.sh" start "$run/zk" "${ZK_PORT:-0}" | tail -1)
    step "zookeeper: $zk ($(cat "$run/zk/nodes") member(s), $(cat "$run/zk/tls/mode"))"

    export HEAT_DB_URL HEAT_TRANSPORT_URL RABBIT_DIR SOFTORCH_ZK SOFTORCH_ZK_CA SERVERS_DIR
    HEAT_DB_URL=$(cat "$run/mysql/url")
    HEAT_TRANSPORT_URL="rabbit://guest:guest@127.0.0.1:$rabbit_port/"
    RABBIT_DIR=$run/rabbit
    SOFTORCH_ZK=$zk
    SOFTORCH_ZK_CA=
    if [ "$(cat "$run/zk/tls/mode")" = tls ]; then SOFTORCH_ZK_CA=$run/zk/tls/ca.pem; fi
    SERVERS_DIR=$run/servers
    "$here/heat.sh" prepare "$run/heat"
    step "heat: heat.conf, db_sync; heat-wsgi-api and heat-engine started"
    "$venv/bin/softorch" zookeeper lockdown --config-file "$run/heat/heat.conf" > "$run/log/zk-lockdown.out" 2>&1 ||
        { cat "$run/log/zk-lockdown.out" >&2; false; }
    step "zookeeper: / and /zookeeper/quota locked to the engine"

    if ! wait "$rabbit_job"; then
        cat "$run/log/rabbitmq-start.out" >&2
        false
    fi
    rabbit=$(tail -1 "$run/log/rabbitmq-start.out")
    step "rabbitmq: $rabbit ready"
    if ! wait "$keystone_job"; then
        cat "$run/log/keystone-start.out" >&2
        false
    fi
    grep -v '^http' "$run/log/keystone-start.out" | sed 's/^/        /'
    step "keystone: ready, with Heat's user, domain and endpoint"

    api_url=$("$here/heat.sh" start "$run/heat" | tail -1)
    step "heat: the $(grep -m1 '^num_engine_workers' "$run/heat/heat.conf" | sed 's/.*= *//') engine workers consume, the API answers: $api_url"

    write_files "$zk" "$db" "$rabbit"
    trap - EXIT INT TERM
    step "up: $run/openrc and $run/env written"
    cat <<EOF

The local Heat is up (heat.conf: $run/heat/heat.conf, logs: $run/heat/log).
Use it with:
    . $run/openrc
    $venv/bin/openstack stack list
Stop it with: make down (or $0 down $run)
EOF
}

case $cmd in
    up) up ;;
    down) down ;;
    status) if status; then echo "up: . $run/openrc"; else echo "not up"; exit 1; fi ;;
    *) echo "usage: $0 up|down|status RUN" >&2; exit 2 ;;
esac
