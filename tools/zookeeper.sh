#!/bin/bash
# A private ZooKeeper (Debian's `zookeeper` package) on loopback, no systemd:
# TLS only, unauthenticated sessions refused, hard quotas enforced.
#
#   tools/zookeeper.sh start DIR [PORT]   start; PORT 0 or absent picks a free one.
#                                         Prints the endpoints ("127.0.0.1:P[,...]");
#                                         DIR/endpoint holds them, DIR/tls/ca.pem the CA.
#   tools/zookeeper.sh stop DIR           stop what `start DIR` started (every member at
#                                         once: SIGTERM; KILL=1: SIGKILL)
#   tools/zookeeper.sh restart DIR        start every member again from its zoo.cfg: the
#                                         same ports, data, certificates and super-user
#   tools/zookeeper.sh pause DIR [N]      SIGSTOP every member, or member N: up, answering
#                                         nobody (a long GC pause, a frozen VM)
#   tools/zookeeper.sh resume DIR [N]     SIGCONT what pause stopped
#   tools/zookeeper.sh stop-node DIR N    stop member N (1..) of the ensemble (SIGTERM;
#                                         KILL=1: SIGKILL); start-node DIR N starts it again
#   tools/zookeeper.sh leader DIR         the number of the member that leads
#   tools/zookeeper.sh pids DIR           the members' process ids, one a line
#
# Settings (environment), for start:
#   ZK_NODES=3       an ensemble of that many members on loopback (default 1)
#   ZK_SUPER=u:pw    a digest identity that passes every ACL check (ZooKeeper's
#                    superDigest): heat-softorch's engine, which must be able to
#                    remove whatever a hostile host created
#   ZK_PLAINTEXT=1   plain TCP (clientPort) instead of TLS: for trusted networks only
#
# TLS: a CA and a server certificate for 127.0.0.1/localhost are made in
# DIR/tls on the first start and kept (clients trust DIR/tls/ca.pem).
# Debian's zkServer.sh insists on /etc/zookeeper/conf, so run QuorumPeerMain
# ourselves; the admin server is off (Jetty would take port 8080).
set -euo pipefail
usage="usage: $0 start|stop|restart|pause|resume|stop-node|start-node|leader|pids DIR [PORT|N]"
cmd=${1:?$usage}
dir=${2:?$usage}
J=/usr/share/java
# Netty's separate jars: with netty-all.jar the server listens but every TLS
# handshake dies (ClassNotFoundException: ByteToMessageDecoder).
CLASSPATH=$J/zookeeper.jar:$J/slf4j-simple.jar:$J/netty-buffer.jar:$J/netty-codec.jar:$J/netty-common.jar:$J/netty-handler.jar:$J/netty-resolver.jar:$J/netty-transport.jar:$J/netty-transport-native-unix-common.jar

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

nodes() { cat "$dir/nodes" 2>/dev/null || echo 1; }
node_dir() { echo "$dir/n$1"; }
client_port() { sed -n 's/^\(secureClientPort\|clientPort\)=//p' "$(node_dir "$1")/zoo.cfg"; }
tls_on() { [ "$(cat "$dir/tls/mode" 2>/dev/null)" = tls ]; }

member_pid() { cat "$(node_dir "$1")/zk.pid" 2>/dev/null; }

stop_nodes() {   # stop_nodes SIGNAL N...: signal every member at once, then wait for each
    local sig=$1 n pid
    shift
    local pids=()
    for n in "$@"; do
        pid=$(member_pid "$n") || continue
        # A paused member would never act on SIGTERM.
        kill -CONT "$pid" 2>/dev/null || true
        kill "-$sig" "$pid" 2>/dev/null || true
        pids+=("$pid")
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null || true
        # Reaped by whoever started it; wait until it is gone from the port.
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    done
    for n in "$@"; do rm -f "$(node_dir "$n")/zk.pid"; done
}

stop_node() {   # stop_node N [SIGNAL]
    stop_nodes "${2:-TERM}" "$1"
}

stop() {
    stop_nodes "${1:-TERM}" $(seq 1 "$(nodes)")
    return 0
}

signal_members() {   # signal_members SIGNAL [N]: every member, or member N
    local n pid
    for n in ${2:-$(seq 1 "$(nodes)")}; do
        pid=$(member_pid "$n") || { echo "ZooKeeper member $n is not running" >&2; return 1; }
        kill "-$1" "$pid"
    done
}

four() {   # four PORT WORD: a four-letter command's answer (over TLS when on)
    python3 - "$1" "$2" "$dir/tls/ca.pem" "$(tls_on && echo tls)" <<'PY' 2>/dev/null
import socket, ssl, sys
port, word, ca, tls = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(('127.0.0.1', port), 2)
s.settimeout(2)
if tls:
    s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname='127.0.0.1')
s.sendall(word.encode())
out = b''
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode())
PY
}

# ruok: while it starts, ZooKeeper can accept the connection and not answer
# (zkDb null); four() gives up after 2 s.
ruok() { [ "$(four "$1" ruok)" = imok ]; }
serving() { four "$1" srvr | grep -q '^Mode: '; }

certs() {
    local t=$dir/tls
    [ -s "$t/server.pem" ] && return 0
    mkdir -p "$t"
    (
        cd "$t"
        umask 077
        # The extensions a strict verifier wants (Python 3.13 sets
        # VERIFY_X509_STRICT): a CA marked as one, a server certificate for
        # serving TLS only.
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 365 \
            -subj "/CN=heat-softorch local ZooKeeper CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -addext "subjectKeyIdentifier=hash" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
            -subj "/CN=localhost" 2>/dev/null
        printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=critical,CA:FALSE' \
            'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' \
            'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' > ext.cnf
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out server.crt -days 365 -extfile ext.cnf 2>/dev/null
        # ZooKeeper's PEM key store: the key (PKCS#8) and the certificate in one file.
        cat server.key server.crt > server.pem
        rm -f server.csr ext.cnf
        chmod 644 ca.pem
    )
}

write_cfg() {   # write_cfg N: DIR/nN/zoo.cfg from DIR/ports
    local n=$1 d i client peers
    d=$(node_dir "$n")
    mkdir -p "$d/data" "$d/log"
    echo "$n" > "$d/data/myid"
    client=$(sed -n "${n}p" "$dir/ports" | cut -d' ' -f1)
    # A short tick for short session timeouts (sessions may be as short as
    # 2 ticks), with the ensemble's limits in seconds as ZooKeeper's
    # defaults and devstack have them (2 s ticks: initLimit 10, syncLimit 5):
    # 20 s to join, 10 s of silence before a follower drops its leader. A
    # whole ensemble frozen for less resumes as it was, expiring the
    # sessions that timed out meanwhile; frozen for longer, it elects a
    # leader again, which gives every session a new lease.
    {
        echo "tickTime=500"
        echo "initLimit=40"
        echo "syncLimit=20"
        echo "minSessionTimeout=1000"
        echo "maxSessionTimeout=60000"
        echo "dataDir=$d/data"
        echo "maxClientCnxns=0"
        echo "admin.enableServer=false"
        echo "4lw.commands.whitelist=ruok,srvr,stat,mntr,cons"
        echo "autopurge.purgeInterval=0"
        if tls_on; then
            echo "secureClientPort=$client"
            echo "secureClientPortAddress=127.0.0.1"
            echo "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory"
            echo "ssl.keyStore.location=$dir/tls/server.pem"
            echo "ssl.keyStore.type=PEM"
            echo "ssl.trustStore.location=$dir/tls/ca.pem"
            echo "ssl.trustStore.type=PEM"
            # Hosts authenticate by digest over TLS; no client certificates.
            echo "ssl.clientAuth=none"
        else
            echo "clientPort=$client"
            echo "clientPortAddress=127.0.0.1"
        fi
        if [ "$(nodes)" -gt 1 ]; then
            i=0
            while read -r client peers; do
                i=$((i + 1))
                echo "server.$i=127.0.0.1:${peers% *}:${peers#* }"
            done < "$dir/ports"
        fi
    } > "$d/zoo.cfg"
}

start_node() {   # start_node N: start member N (its zoo.cfg written by start)
    local n=$1 d super=()
    d=$(node_dir "$n")
    stop_node "$n"
    [ -s "$dir/super_digest" ] &&
        super=("-Dzookeeper.DigestAuthenticationProvider.superDigest=$(cat "$dir/super_digest")")
    # enforce.auth refuses sessions that present no digest credential;
    # enforceQuota makes the hard quotas the engine sets per host bind.
    (cd "$d" && exec nohup java -Xmx256m -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -Dzookeeper.log.dir="$d/log" \
        -Dzookeeper.enforce.auth.enabled=true -Dzookeeper.enforce.auth.schemes=digest \
        -Dzookeeper.enforceQuota=true "${super[@]}" \
        -cp "$CLASSPATH" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" \
        > "$d/log/zk.out" 2>&1 < /dev/null) &
    echo $! > "$d/zk.pid"
}

wait_serving() {   # wait_serving N...: until each member answers (and, in an ensemble, serves)
    local n port
    for _ in $(seq 1 600); do
        local all=1
        for n in "$@"; do
            port=$(client_port "$n")
            if ! ruok "$port" || { [ "$(nodes)" -gt 1 ] && ! serving "$port"; }; then
                all=
                kill -0 "$(cat "$(node_dir "$n")/zk.pid")" 2>/dev/null || {
                    echo "ZooKeeper member $n died:" >&2; cat "$(node_dir "$n")/log/zk.out" >&2; return 1; }
            fi
        done
        [ -n "$all" ] && return 0
        sleep 0.05
    done
    echo "ZooKeeper not serving after 30 s" >&2
    return 1
}

start() {
    local first=${1:-0} n i endpoints=
    [ -f $J/zookeeper.jar ] || {
        echo "ZooKeeper is not installed: apt-get install zookeeper (make deps does it)" >&2; exit 1; }
    n=${ZK_NODES:-1}
    stop
    mkdir -p "$dir/tls"
    echo "$n" > "$dir/nodes"
    if [ -n "${ZK_PLAINTEXT:-}" ] && [ "$ZK_PLAINTEXT" != 0 ]; then
        echo plaintext > "$dir/tls/mode"
    else
        echo tls > "$dir/tls/mode"
        certs
    fi
    rm -f "$dir/super_digest"
    if [ -n "${ZK_SUPER:-}" ]; then
        (umask 077; python3 -c 'import base64, hashlib, sys
u = sys.argv[1]
print(u.split(":", 1)[0] + ":" + base64.b64encode(hashlib.sha1(u.encode()).digest()).decode())' \
            "$ZK_SUPER" > "$dir/super_digest")
    fi
    : > "$dir/ports"
    for i in $(seq 1 "$n"); do
        if [ "$i" = 1 ] && [ "$first" != 0 ]; then p=$first; else p=$(free_port); fi
        echo "$p $(free_port) $(free_port)" >> "$dir/ports"
    done
    for i in $(seq 1 "$n"); do
        write_cfg "$i"
        start_node "$i"
        endpoints="$endpoints${endpoints:+,}127.0.0.1:$(client_port "$i")"
    done
    if ! wait_serving $(seq 1 "$n"); then stop; exit 1; fi
    echo "$endpoints" > "$dir/endpoint"
    echo "$endpoints"
}

restart() {   # every member from the zoo.cfg `start` wrote: the same ports and data
    local i
    [ -f "$dir/ports" ] || { echo "no ZooKeeper was started in $dir" >&2; exit 1; }
    stop
    for i in $(seq 1 "$(nodes)"); do start_node "$i"; done
    if ! wait_serving $(seq 1 "$(nodes)"); then stop; exit 1; fi
    cat "$dir/endpoint"
}

leader() {
    local i
    for i in $(seq 1 "$(nodes)"); do
        if four "$(client_port "$i")" srvr | grep -q '^Mode: \(leader\|standalone\)'; then
            echo "$i"; return 0
        fi
    done
    return 1
}

case $cmd in
    start) start "${3:-0}" ;;
    stop) stop "$([ -n "${KILL:-}" ] && echo KILL || echo TERM)" ;;
    restart) restart ;;
    pause) signal_members STOP "${3:-}" ;;
    resume) signal_members CONT "${3:-}" ;;
    pids) for i in $(seq 1 "$(nodes)"); do member_pid "$i"; done ;;
    stop-node) stop_node "${3:?N}" "$([ -n "${KILL:-}" ] && echo KILL || echo TERM)" ;;
    start-node) start_node "${3:?N}"; wait_serving "$3" ;;
    leader) leader ;;
    *) echo "$usage" >&2; exit 2 ;;
esac
