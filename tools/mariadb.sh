#!/bin/bash
# A private MariaDB (Debian's `mariadb-server`) on loopback, no systemd.
#
#   tools/mariadb.sh start DIR [PORT]   start; PORT 0 or absent picks a free one.
#                                       Creates databases `heat` and
#                                       `heat_legacy` (the tests' legacy
#                                       engine) and their user.
#                                       Prints "127.0.0.1:PORT"; DIR/endpoint
#                                       holds it and DIR/url the SQLAlchemy URL.
#   tools/mariadb.sh stop DIR           stop what `start DIR` started
#   tools/mariadb.sh database DIR NAME  create database NAME (utf8mb4) and a
#                                       user NAME with a random password
#                                       (DIR/NAME.password); prints its
#                                       SQLAlchemy URL. Idempotent; DB_FRESH=1
#                                       drops it first (a test's own Heat).
#
# The datadir, socket, pidfile and logs all live under DIR. The user and
# password are DB_USER (heat) and DB_PASSWORD (random, kept in DIR/password).
# Heat's convergence engine needs a database with concurrent writers: SQLite
# answers "database is locked".
set -euo pipefail
cmd=${1:?usage: $0 start|stop|database DIR [PORT|NAME]}
dir=${2:?usage: $0 start|stop DIR [PORT]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# shellcheck source=tools/lib-run.sh
. "$(dirname "$0")/lib-run.sh"
run=${SOFTORCH_RUN_DIR:-$dir}

# A unix socket path has at most 107 bytes: a deep DIR gets one in /tmp.
sock=$dir/mysqld.sock
if [ ${#sock} -gt 100 ]; then
    sock=/tmp/softorch-mysql-$(echo "$dir" | md5sum | cut -c1-12).sock
fi
admin() { mariadb-admin --no-defaults -S "$sock" -uroot "$@"; }

stop() {
    [ -f "$dir/mysqld.pid" ] || return 0
    local pid
    pid=$(tr -dc '0-9' < "$dir/mysqld.pid")
    if alive "$pid" && has_marker "$pid" "$run"; then
        admin shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        wait_gone 30 "$pid" || true
    fi
    stop_pidfile 5 "$run" "$dir/mysqld.pid"
}

start() {
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || {
        echo "MariaDB is not installed: apt-get install mariadb-server (make deps does it)" >&2; exit 1; }
    local port user password pid
    port=$(free_port "${1:-0}")
    user=${DB_USER:-heat}
    stop
    if [ ! -d "$dir/data/mysql" ]; then
        rm -rf "$dir/data"
        mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$dir/data" \
            --auth-root-authentication-method=normal --skip-test-db \
            > "$dir/install.log" 2>&1 || {
            echo "mariadb-install-db failed:" >&2; tail -20 "$dir/install.log" >&2; exit 1; }
    fi
    [ -s "$dir/password" ] || { umask 077; python3 -c 'import secrets; print(secrets.token_hex(12))' > "$dir/password"; }
    password=${DB_PASSWORD:-$(cat "$dir/password")}
    # exec: the pid recorded is mariadbd's own.
    SOFTORCH_RUN_DIR=$run nohup /usr/sbin/mariadbd --no-defaults --user="$(id -un)" \
        --datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 \
        --socket="$sock" --pid-file="$dir/mariadbd.pid" \
        --skip-name-resolve --skip-log-bin --innodb-flush-log-at-trx-commit=2 \
        --innodb-buffer-pool-size=128M --max-connections=500 \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
        --log-error="$dir/error.log" > "$dir/stdout" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$dir/mysqld.pid"
    for _ in $(seq 1 300); do
        admin ping >/dev/null 2>&1 && break
        alive "$pid" || { echo "MariaDB died:" >&2; tail -20 "$dir/error.log" >&2; exit 1; }
        sleep 0.1
    done
    admin ping >/dev/null 2>&1 || {
        echo "MariaDB not ready after 30 s:" >&2; tail -20 "$dir/error.log" >&2; stop; exit 1; }
    mariadb --no-defaults -S "$sock" -uroot -e "
        CREATE DATABASE IF NOT EXISTS heat CHARACTER SET utf8mb4;
        CREATE DATABASE IF NOT EXISTS heat_legacy CHARACTER SET utf8mb4;
        CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$password';
        ALTER USER '$user'@'127.0.0.1' IDENTIFIED BY '$password';
        GRANT ALL ON heat.* TO '$user'@'127.0.0.1';
        GRANT ALL ON heat_legacy.* TO '$user'@'127.0.0.1';"
    echo "127.0.0.1:$port" > "$dir/endpoint"
    echo "mysql+pymysql://$user:$password@127.0.0.1:$port/heat?charset=utf8mb4" > "$dir/url"
    echo "127.0.0.1:$port"
}

# Another service's database on the same server (Keystone's, for one).
database() {
    local name=$1 password
    [[ $name =~ ^[a-z_]+$ ]] || { echo "database name must be [a-z_]+: $name" >&2; exit 2; }
    [ -s "$dir/$name.password" ] || { (umask 077; python3 -c 'import secrets; print(secrets.token_hex(12))' > "$dir/$name.password"); }
    password=$(cat "$dir/$name.password")
    # A second Heat on the same server (tests that run their own) needs a
    # database of its own, empty: two Heats sharing one see each other's
    # engines.
    if [ -n "${DB_FRESH:-}" ] && [ "$DB_FRESH" != 0 ]; then
        mariadb --no-defaults -S "$sock" -uroot -e "DROP DATABASE IF EXISTS $name;"
    fi
    mariadb --no-defaults -S "$sock" -uroot -e "
        CREATE DATABASE IF NOT EXISTS $name CHARACTER SET utf8mb4;
        CREATE USER IF NOT EXISTS '$name'@'127.0.0.1' IDENTIFIED BY '$password';
        ALTER USER '$name'@'127.0.0.1' IDENTIFIED BY '$password';
        GRANT ALL ON $name.* TO '$name'@'127.0.0.1';"
    echo "mysql+pymysql://$name:$password@$(cat "$dir/endpoint")/$name?charset=utf8mb4"
}

case $cmd in
    start) start "${3:-0}" ;;
    stop) stop ;;
    database) database "${3:?usage: $0 database DIR NAME}" ;;
    *) echo "usage: $0 start|stop DIR [PORT] | database DIR NAME" >&2; exit 2 ;;
esac
