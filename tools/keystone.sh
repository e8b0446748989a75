#!/bin/bash
# A private Keystone (PyPI `keystone`, fernet tokens) on loopback, served by
# gunicorn, no systemd.
#
#   tools/keystone.sh start DIR    write DIR/keystone.conf, db_sync, keys,
#                                  bootstrap (user admin, project admin, role
#                                  admin, region RegionOne, the identity
#                                  endpoint), serve; wait until /v3 answers.
#                                  Prints the URL (…/v3); DIR/url holds it.
#   tools/keystone.sh stop DIR     stop what `start DIR` started
#   tools/keystone.sh status DIR   exit 0 when gunicorn runs
#
# Settings (environment), for start:
#   KEYSTONE_DB_URL        SQLAlchemy URL of an empty or Keystone database
#                          (required; tools/mariadb.sh database DIR keystone)
#   KEYSTONE_PORT          0 or unset: a free port
#   KEYSTONE_ADMIN_PASSWORD  the admin's password (default: random, kept in
#                          DIR/admin_password)
#   KEYSTONE_WORKERS       gunicorn workers (2)
#   KEYSTONE_TIMEOUT       seconds to wait for /v3 (90)
#   VENV                   the venv with keystone and gunicorn (.venv)
#   SOFTORCH_RUN_DIR       marker put in every process's environment (DIR)
#
# Each step prints its duration.
set -euo pipefail
cmd=${1:?usage: $0 start|stop|status DIR}
dir=${2:?usage: $0 start|stop|status DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=tools/lib-run.sh
. "$here/lib-run.sh"
run=${SOFTORCH_RUN_DIR:-$dir}
venv=$(cd "${VENV:-$repo/.venv}" 2>/dev/null && pwd) || venv=${VENV:-$repo/.venv}
conf=$dir/keystone.conf

T0=$(now)
TS=$T0
step() { printf '[keystone %5ss %5ss] %s\n' "$(since "$TS")" "$(since "$T0")" "$1"; TS=$(now); }

pid() { [ -f "$dir/gunicorn.pid" ] && tr -dc '0-9' < "$dir/gunicorn.pid"; }

status() { local p; p=$(pid) && alive "$p"; }

# gunicorn's master (setsid: it leads its group) stops its workers on
# SIGTERM; stop_pids also takes any worker left behind.
stop() { stop_pidfile 15 "$run" "$dir/gunicorn.pid"; }

fail() {
    echo "keystone: $1" >&2
    local f
    for f in "$dir"/log/*.out "$dir"/log/keystone.log; do
        [ -s "$f" ] || continue
        echo "---- tail of $f" >&2
        tail -20 "$f" >&2
    done
    stop
    exit 1
}

start() {
    local port url pw km fernet_pid cred_pid end
    [ -x "$venv/bin/keystone-manage" ] || { echo "no keystone-manage in $venv: make venv" >&2; exit 1; }
    : "${KEYSTONE_DB_URL:?KEYSTONE_DB_URL is required}"
    stop
    mkdir -p "$dir/log"
    port=$(free_port "${KEYSTONE_PORT:-0}")
    url=http://127.0.0.1:$port/v3
    if [ -n "${KEYSTONE_ADMIN_PASSWORD:-}" ]; then
        (umask 077; echo "$KEYSTONE_ADMIN_PASSWORD" > "$dir/admin_password")
    fi
    [ -s "$dir/admin_password" ] || { (umask 077; python3 -c 'import secrets; print(secrets.token_hex(12))' > "$dir/admin_password"); }
    pw=$(cat "$dir/admin_password")
    (umask 077; cat > "$conf" <<CONF
# Written by tools/keystone.sh: a private Keystone for development and tests.
[DEFAULT]
debug = ${KEYSTONE_DEBUG:-false}
log_dir = $dir/log
[database]
connection = $KEYSTONE_DB_URL
[identity]
# bcrypt's cost is paid on every password login, and every
# os-collect-config poll is one (a LocalServer polling each second would
# cost Keystone a quarter of a core at the default 12 rounds). The minimum
# is enough for a cloud on loopback that lives for one test run.
password_hash_rounds = 4
[token]
provider = fernet
[fernet_tokens]
key_repository = $dir/fernet-keys
[fernet_receipts]
key_repository = $dir/fernet-keys
[credential]
key_repository = $dir/credential-keys
[oslo_policy]
# as heat.conf: the legacy policy defaults
enforce_scope = false
enforce_new_defaults = false
CONF
    )
    km=("$venv/bin/keystone-manage" --config-file "$conf")
    # The keys are files only: made while db_sync fills the database.
    "${km[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" \
        > "$dir/log/fernet_setup.out" 2>&1 &
    fernet_pid=$!
    "${km[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)" \
        > "$dir/log/credential_setup.out" 2>&1 &
    cred_pid=$!
    "${km[@]}" db_sync > "$dir/log/db_sync.out" 2>&1 || fail "keystone-manage db_sync failed"
    wait "$fernet_pid" || fail "keystone-manage fernet_setup failed"
    wait "$cred_pid" || fail "keystone-manage credential_setup failed"
    step "db_sync, fernet and credential keys"
    # gunicorn imports Keystone (~2 s) while bootstrap writes the first
    # objects: it reads them only when asked.
    (cd "$dir" && SOFTORCH_RUN_DIR=$run OS_KEYSTONE_CONFIG_DIR=$dir OS_KEYSTONE_CONFIG_FILES=keystone.conf \
        exec setsid "$venv/bin/gunicorn" --bind "127.0.0.1:$port" --workers "${KEYSTONE_WORKERS:-2}" \
        --timeout 120 --no-control-socket --access-logfile "$dir/log/access.log" \
        --pythonpath "$here" keystone_wsgi:application \
        > "$dir/log/gunicorn.out" 2>&1 < /dev/null) &
    echo $! > "$dir/gunicorn.pid"
    "${km[@]}" bootstrap --bootstrap-password "$pw" --bootstrap-username admin \
        --bootstrap-project-name admin --bootstrap-role-name admin \
        --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "$url" --bootstrap-public-url "$url" --bootstrap-internal-url "$url" \
        > "$dir/log/bootstrap.out" 2>&1 || fail "keystone-manage bootstrap failed"
    step "bootstrap: admin, RegionOne, identity endpoint $url"
    # The master listens before any worker can answer, and keeps respawning
    # workers that crash: wait for a real answer, with a deadline, and give
    # up when the master is gone.
    end=$(deadline "${KEYSTONE_TIMEOUT:-90}")
    until python3 -c "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('$url', timeout=2)" 2>/dev/null; do
        status || fail "gunicorn died"
        past "$end" && fail "not serving $url after ${KEYSTONE_TIMEOUT:-90} s"
        sleep 0.2
    done
    echo "$url" > "$dir/url"
    step "gunicorn serves $url"
    echo "$url"
}

case $cmd in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status DIR" >&2; exit 2 ;;
esac
