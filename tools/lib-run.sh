# shellcheck shell=bash
# Helpers shared by tools/mariadb.sh, tools/rabbitmq.sh, tools/heat.sh and
# tools/localheat.sh. Sourced, not run. Needs only bash, coreutils, grep,
# find and python3 (no bc, curl or procps: a fresh CI machine may lack them).
#
# Every process these scripts start carries SOFTORCH_RUN_DIR=<run dir> in its
# environment (children inherit it: engine workers, LocalServer processes and
# their agents too). That is how a pid read from a pidfile is checked to
# still be ours before it is signalled, and how `localheat.sh down` finds
# survivors. Nothing is ever killed by name.

# A free TCP port on loopback (the kernel's choice), or $1 when it is set and
# not 0.
free_port() {
    if [ -n "${1:-}" ] && [ "$1" != 0 ]; then
        echo "$1"
        return
    fi
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_listening() {   # port_listening PORT: something accepts on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# http_get URL: the body (no proxy, no token); fails on an HTTP error.
http_get() {
    python3 - "$1" <<'PY'
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    sys.stdout.write(opener.open(sys.argv[1], timeout=5).read().decode())
except Exception:
    sys.exit(1)
PY
}

now() { local t; t=$(date +%s%N); echo $(( t / 1000000 )); }       # ms
since() { local d=$(( $(now) - $1 )); printf '%d.%d' $(( d / 1000 )) $(( d % 1000 / 100 )); }
# deadline SECONDS: now + SECONDS (may be fractional: 0.5) in ms
deadline() { python3 -c 'import sys; print(int(sys.argv[1]) + int(float(sys.argv[2]) * 1000))' "$(now)" "$1"; }
past() { [ "$(now)" -gt "$1" ]; }

# stat_fields PID: "state ppid pgrp session" of a live process (builtins
# only: this runs for every process in loops).
stat_fields() {
    local s
    { read -r s < "/proc/$1/stat"; } 2>/dev/null || return 1
    s=${s##*) }              # after the command name, which may hold spaces
    # shellcheck disable=SC2086
    set -- $s
    echo "$1 $2 $3 $4"
}

# alive PID: the process exists and is not a zombie (an orphan waits for init
# to reap it, which can take a while on some machines).
alive() {
    local s
    [ -n "${1:-}" ] || return 1
    { read -r s < "/proc/$1/stat"; } 2>/dev/null || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}

# has_marker PID RUN_DIR: the process carries SOFTORCH_RUN_DIR=RUN_DIR, or its
# cwd is RUN_DIR or below it.
has_marker() {
    local pid=$1 run=$2 cwd
    [ -r "/proc/$pid/environ" ] || return 1
    if { tr '\0' '\n' < "/proc/$pid/environ"; } 2>/dev/null | grep -qxF "SOFTORCH_RUN_DIR=$run"; then
        return 0
    fi
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
    [ "$cwd" = "$run" ] || [ "${cwd#"$run"/}" != "$cwd" ]
}

# proc_table: "pid ppid pgrp" of every live process, one a line.
proc_table() {
    local p s
    for p in /proc/[0-9]*; do
        { read -r s < "$p/stat"; } 2>/dev/null || continue
        s=${s##*) }
        # shellcheck disable=SC2086
        set -- $s
        [ "$1" = Z ] && continue
        echo "${p#/proc/} $2 $3"
    done
}

# descendants PID...: every live descendant pid.
descendants() {
    local table
    table=$(proc_table)
    awk -v roots="$*" '
        { parent[$1] = $2; pids[NR] = $1 }
        END {
            n = split(roots, r, " "); for (i = 1; i <= n; i++) mark[r[i]] = 1
            do {
                changed = 0
                for (i = 1; i <= NR; i++) {
                    p = pids[i]
                    if (!(p in mark) && (parent[p] in mark)) { mark[p] = 2; changed = 1 }
                }
            } while (changed)
            for (p in mark) if (mark[p] == 2) print p
        }' <<< "$table"
}

# group_members PGID: live members of a process group.
group_members() {
    local table
    table=$(proc_table)
    awk -v g="$1" '$3 == g { print $1 }' <<< "$table"
}

# wait_gone TIMEOUT_S PID...: wait until none of the pids is alive.
wait_gone() {
    local end p any
    end=$(deadline "$1")
    shift
    while :; do
        any=
        for p in "$@"; do
            if alive "$p"; then any=1; break; fi
        done
        [ -z "$any" ] && return 0
        past "$end" && return 1
        sleep 0.05
    done
}

# stop_pids TIMEOUT_S RUN_DIR PID...: stop the pids that are still ours (a
# recycled pid is left alone) and all their descendants, whatever their
# session: SIGTERM the pids, wait up to TIMEOUT_S for them, SIGTERM the
# descendants still there, wait 5 s, SIGKILL whatever is left.
stop_pids() {
    local timeout=$1 run=$2 p roots=() all=() left=()
    shift 2
    for p in "$@"; do
        if alive "$p" && has_marker "$p" "$run"; then roots+=("$p"); fi
    done
    [ ${#roots[@]} -eq 0 ] && return 0
    # Snapshot the tree first: once a parent dies its children are re-parented.
    mapfile -t all < <(descendants "${roots[@]}")
    all+=("${roots[@]}")
    kill -TERM "${roots[@]}" 2>/dev/null || true
    wait_gone "$timeout" "${roots[@]}" || true
    for p in "${all[@]}"; do
        if alive "$p"; then left+=("$p"); fi
    done
    [ ${#left[@]} -eq 0 ] && return 0
    kill -TERM "${left[@]}" 2>/dev/null || true
    wait_gone 5 "${left[@]}" && return 0
    for p in "${left[@]}"; do
        if alive "$p"; then echo "  pid $p did not stop on SIGTERM: SIGKILL" >&2; fi
    done
    kill -KILL "${left[@]}" 2>/dev/null || true
    wait_gone 5 "${left[@]}" || true
}

# stop_pidfile TIMEOUT_S RUN_DIR PIDFILE: stop_pids on the pid it holds, then
# remove it.
stop_pidfile() {
    local timeout=$1 run=$2 file=$3 pid
    [ -f "$file" ] || return 0
    pid=$(tr -dc '0-9' < "$file")
    if [ -n "$pid" ]; then stop_pids "$timeout" "$run" "$pid"; fi
    rm -f "$file"
}

# survivors RUN_DIR: live processes (other than this shell and its
# ancestors) carrying SOFTORCH_RUN_DIR=RUN_DIR or with a cwd in RUN_DIR, one
# "pid cmdline" a line. Call it from a shell that does not export the marker
# itself, with a cwd outside RUN_DIR.
survivors() {
    local run=$1 p f self=" " q=$$
    while [ -n "$q" ] && [ "$q" != 0 ]; do
        self="$self$q "
        f=$(stat_fields "$q") || break
        f=${f#* }
        q=${f%% *}
    done
    for p in $( { grep -lszxF "SOFTORCH_RUN_DIR=$run" /proc/[0-9]*/environ
                  find /proc/[0-9]*/cwd -maxdepth 0 \( -lname "$run" -o -lname "$run/*" \) 2>/dev/null
                } | cut -d/ -f3 | sort -un); do
        case "$self" in *" $p "*) continue ;; esac
        [ "$p" = "${BASHPID:-$$}" ] && continue
        alive "$p" || continue
        echo "$p $({ tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | cut -c1-200)"
    done
}
