#!/bin/bash
# A private RabbitMQ (Debian's `rabbitmq-server`) on loopback, no systemd.
#
#   tools/rabbitmq.sh start DIR [PORT]  start; PORT 0 or absent picks a free one.
#                                       Prints "127.0.0.1:PORT"; DIR/endpoint
#                                       holds it, DIR/url the oslo.messaging
#                                       transport_url, DIR/rabbit.env the
#                                       variables rabbitmqctl needs.
#   tools/rabbitmq.sh stop DIR          stop what `start DIR` started
#   tools/rabbitmq.sh ctl DIR ARGS...   rabbitmqctl against this node
#   tools/rabbitmq.sh consumers DIR Q   number of consumers of queue Q (0 if none)
#
# Isolation from any other Erlang node on the machine (another engineer's
# broker, the system's rabbitmq-server):
# - an EPMD of its own on a free loopback port (ERL_EPMD_PORT), started here
#   and stopped by `stop`: the shared EPMD on 4369 is never used, never
#   started, never left behind;
# - a free Erlang distribution port (RABBITMQ_DIST_PORT), and CLI tools on
#   kernel-chosen ports (the default 35672-35682 is one range for everybody);
# - a node name of its own, HOME (the Erlang cookie), mnesia, logs, config
#   and an empty rabbitmq-env.conf under DIR (/etc/rabbitmq is not read).
# User guest/guest, which RabbitMQ accepts on loopback only. Log level:
# RABBIT_LOG_LEVEL (warning); logs in DIR/log.
set -euo pipefail
cmd=${1:?usage: $0 start|stop|ctl|consumers DIR [ARGS]}
dir=${2:?usage: $0 start|stop|ctl|consumers DIR [ARGS]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
shift 2
# shellcheck source=tools/lib-run.sh
. "$(dirname "$0")/lib-run.sh"
run=${SOFTORCH_RUN_DIR:-$dir}
SBIN=${RABBITMQ_SBIN:-/usr/lib/rabbitmq/bin}

load_env() {
    [ -f "$dir/rabbit.env" ] || return 1
    set -a
    # shellcheck source=/dev/null
    . "$dir/rabbit.env"
    set +a
}

ctl() { load_env && "$SBIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" "$@"; }

stop() {
    [ -f "$dir/rabbit.launcher.pid" ] || [ -f "$dir/rabbit.pid" ] || [ -f "$dir/epmd.pid" ] || return 0
    # beam.smp stops cleanly on SIGTERM (OTP >= 20): no CLI VM to boot.
    stop_pidfile 30 "$run" "$dir/rabbit.launcher.pid"
    # beam.smp's own pidfile: a broker whose launcher shell is gone
    stop_pidfile 30 "$run" "$dir/rabbit.pid"
    stop_pidfile 5 "$run" "$dir/epmd.pid"
}

start() {
    [ -x "$SBIN/rabbitmq-server" ] || {
        echo "RabbitMQ is not installed: apt-get install rabbitmq-server (make deps does it)" >&2; exit 1; }
    local port dist_port epmd_port node pid epmd_pid
    stop
    port=$(free_port "${1:-0}")
    dist_port=$(free_port 0)
    epmd_port=$(free_port 0)
    node="softorch-$port@localhost"
    # A fresh broker each time: queues left by a previous run are useless.
    rm -rf "$dir/mnesia" "$dir/log"
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$port
loopback_users.guest = true
log.file.level = ${RABBIT_LOG_LEVEL:-warning}
log.console = false
disk_free_limit.absolute = 50MB
CONF
    echo "[]." > "$dir/enabled_plugins"
    : > "$dir/rabbitmq-env.conf"
    cat > "$dir/rabbit.env" <<ENV
HOME=$dir/home
RABBITMQ_NODENAME=$node
RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf
RABBITMQ_CONFIG_FILE=$dir/rabbitmq
RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config
RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
RABBITMQ_MNESIA_BASE=$dir/mnesia
RABBITMQ_LOG_BASE=$dir/log
RABBITMQ_PID_FILE=$dir/rabbit.pid
RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
RABBITMQ_NODE_PORT=$port
RABBITMQ_DIST_PORT=$dist_port
RABBITMQ_CTL_DIST_PORT_MIN=0
RABBITMQ_CTL_DIST_PORT_MAX=0
ERL_EPMD_PORT=$epmd_port
ERL_EPMD_ADDRESS=127.0.0.1
RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
ENV
    load_env
    SOFTORCH_RUN_DIR=$run nohup epmd -port "$epmd_port" -address 127.0.0.1 \
        > "$dir/log/epmd.out" 2>&1 < /dev/null &
    epmd_pid=$!
    echo "$epmd_pid" > "$dir/epmd.pid"
    for _ in $(seq 1 100); do port_listening "$epmd_port" && break; sleep 0.05; done
    port_listening "$epmd_port" || {
        echo "epmd did not listen on 127.0.0.1:$epmd_port:" >&2; cat "$dir/log/epmd.out" >&2; stop; exit 1; }
    # rabbitmq-server execs erl, which execs beam.smp: $! is the broker's pid.
    SOFTORCH_RUN_DIR=$run nohup "$SBIN/rabbitmq-server" > "$dir/log/stdout" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$dir/rabbit.launcher.pid"
    # Ready when the AMQP listener accepts (it opens at the end of the boot)
    # and the node says so; polling the port avoids a CLI VM per attempt.
    for _ in $(seq 1 1200); do
        if port_listening "$port" && ctl -q await_startup --timeout 30 >/dev/null 2>&1; then
            echo "127.0.0.1:$port" > "$dir/endpoint"
            echo "rabbit://guest:guest@127.0.0.1:$port/" > "$dir/url"
            echo "127.0.0.1:$port"
            return 0
        fi
        alive "$pid" || {
            echo "RabbitMQ died:" >&2; tail -30 "$dir/log/stdout" >&2
            tail -30 "$dir/log/"*.log >&2 2>/dev/null || true; stop; exit 1; }
        sleep 0.05
    done
    echo "RabbitMQ not ready on 127.0.0.1:$port after 60 s:" >&2
    tail -30 "$dir/log/stdout" >&2
    stop
    exit 1
}

consumers() {
    local q=${1:?queue} out
    out=$(ctl -q list_queues name consumers 2>/dev/null) || out=
    awk -v q="$q" '$1 == q { print $2; f=1 } END { if (!f) print 0 }' <<< "$out"
}

# A port picked free can be taken by another process before the broker
# binds it (a busy machine starts many services at once): the broker then
# dies with dist_port_already_used or eaddrinuse. Pick again, twice at most,
# unless the AMQP port was given.
start_retrying() {
    local attempt
    for attempt in 1 2 3; do
        if (start "$1"); then return 0; fi
        [ "${1:-0}" = 0 ] && grep -qs -e already_used -e eaddrinuse "$dir/log/stdout" || exit 1
        echo "RabbitMQ lost a port race (attempt $attempt): picking other ports" >&2
    done
    exit 1
}

case $cmd in
    start) start_retrying "${1:-0}" ;;
    stop) stop ;;
    ctl) ctl "$@" ;;
    consumers) consumers "$@" ;;
    *) echo "usage: $0 start|stop|ctl|consumers DIR [ARGS]" >&2; exit 2 ;;
esac
