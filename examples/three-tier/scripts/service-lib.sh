# Helpers for the three-tier example's configs, sourced by db.sh, app.sh,
# lb.sh and stop.sh (each receives this file as its input `service_lib`).
# POSIX sh, coreutils and python3: nothing else is assumed on the VM.
#
# A component's service lives in the component's working directory on its
# VM, the config's current directory, which is the same for every action of
# that component:
#   service.py    the program (the input `service_py`)
#   service.pid   its pid, written by the program itself once it listens
#   service.log   its stdout and stderr, appended to by every start

# service_py and deploy_action are inputs: environment variables.
# shellcheck disable=SC2154
svc_dir=$PWD
svc_program=$svc_dir/service.py
svc_pidfile=$svc_dir/service.pid
svc_log=$svc_dir/service.log

svc_alive() {   # svc_alive PID: the process exists and is not a zombie
    [ -r "/proc/$1/stat" ] || return 1
    case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) in
        Z|X|'') return 1 ;;
    esac
}

svc_pid() {     # the pid in the pidfile, when it is our program that runs
    [ -f "$svc_pidfile" ] || return 1
    _pid=$(tr -dc 0-9 < "$svc_pidfile")
    [ -n "$_pid" ] && svc_alive "$_pid" || return 1
    tr '\0' '\n' < "/proc/$_pid/cmdline" 2>/dev/null | grep -qxF "$svc_program" || return 1
    echo "$_pid"
}

svc_stop() {    # stop the running service (TERM, then KILL after 10 s)
    if _pid=$(svc_pid); then
        kill -TERM "$_pid" 2>/dev/null || true
        _i=0
        while svc_alive "$_pid"; do
            _i=$((_i + 1))
            [ "$_i" -ne 100 ] || kill -KILL "$_pid" 2>/dev/null || true
            if [ "$_i" -ge 150 ]; then
                echo "service pid $_pid does not stop" >&2
                return 1
            fi
            sleep 0.1
        done
        echo "stopped service pid $_pid"
    fi
    rm -f "$svc_pidfile"
}

svc_start() {   # svc_start ARGS...: (re)start service.py ARGS, detached
    svc_stop
    printf '%s\n' "$service_py" > "$svc_program"
    echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) $deploy_action $*" >> "$svc_log"
    # Its own session, output to a file and stdin from /dev/null: it
    # outlives this script and holds none of the agent's pipes.
    setsid nohup python3 "$svc_program" "$@" --pidfile "$svc_pidfile" \
        >> "$svc_log" 2>&1 < /dev/null &
    svc_started=$!
}

svc_get() {     # svc_get URL [KEY]: the body (or its JSON field KEY); fails unless 2xx
    python3 - "$@" <<'PY'
import json, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(sys.argv[1], timeout=2) as r:
        body = r.read().decode('utf-8', 'replace')
except Exception as exc:
    sys.stderr.write('%s: %s\n' % (sys.argv[1], exc))
    sys.exit(1)
print(json.loads(body)[sys.argv[2]] if len(sys.argv) > 2 else body)
PY
}

svc_running() { # the service svc_start started still runs; if not, say so with its log
    svc_alive "$svc_started" && return 0
    echo "the service exited; the end of $svc_log:" >&2
    tail -n 20 "$svc_log" >&2
    return 1
}

svc_port() {    # the port the service listens on, once it wrote service.port (30 s)
    _i=0
    until [ -s "$svc_dir/service.port" ]; do
        svc_running || return 1
        _i=$((_i + 1))
        if [ "$_i" -ge 150 ]; then
            echo "the service wrote no port within 30 s" >&2
            return 1
        fi
        sleep 0.2
    done
    tr -dc 0-9 < "$svc_dir/service.port"
}

svc_wait() {    # svc_wait URL TEXT: until our service holds its pidfile and URL answers with TEXT (30 s)
    _i=0
    while :; do
        if svc_pid > /dev/null && _body=$(svc_get "$1" 2>/dev/null); then
            case $_body in *"$2"*) return 0 ;; esac
        fi
        svc_running || return 1
        _i=$((_i + 1))
        if [ "$_i" -ge 150 ]; then
            echo "$1 did not answer with '$2' within 30 s; the end of $svc_log:" >&2
            tail -n 20 "$svc_log" >&2
            return 1
        fi
        sleep 0.2
    done
}
