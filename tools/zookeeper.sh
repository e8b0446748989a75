#!/bin/bash
# A private ZooKeeper (Debian's `zookeeper` package) on loopback, no systemd.
#
#   tools/zookeeper.sh start DIR [PORT]   start; PORT 0 or absent picks a free one.
#                                         Prints "127.0.0.1:PORT"; DIR/endpoint holds it.
#   tools/zookeeper.sh stop DIR           stop what `start DIR` started
#
# Debian's zkServer.sh insists on /etc/zookeeper/conf, so run QuorumPeerMain
# ourselves; the admin server is off (Jetty would take port 8080).
set -euo pipefail
cmd=${1:?usage: $0 start|stop DIR [PORT]}
dir=${2:?usage: $0 start|stop DIR [PORT]}

stop() {
    [ -f "$dir/zk.pid" ] || return 0
    pid=$(cat "$dir/zk.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/zk.pid"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ruok() {
    # read -t, not cat: while it starts, ZooKeeper can accept the connection
    # and fail to answer or close it ("Error closing a command socket",
    # zkDb null), and `cat` then waits forever.
    [ "$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf ruok >&3 && read -r -t 2 -n 4 reply <&3 &&
          printf %s "$reply") 2>/dev/null)" = imok ]
}

start() {
    [ -f /usr/share/java/zookeeper.jar ] || {
        echo "ZooKeeper is not installed: apt-get install zookeeper (make deps does it)" >&2; exit 1; }
    port=${1:-0}
    [ "$port" = 0 ] && port=$(free_port)
    stop
    mkdir -p "$dir/data" "$dir/log"
    cat > "$dir/zoo.cfg" <<CFG
tickTime=500
minSessionTimeout=1000
maxSessionTimeout=60000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr,cons
autopurge.purgeInterval=0
CFG
    # zookeeper.jar's manifest pulls in its dependencies; slf4j-simple gives it a log binding.
    nohup java -Xmx256m -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -Dzookeeper.log.dir="$dir/log" \
        -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
        > "$dir/log/zk.out" 2>&1 < /dev/null &
    echo $! > "$dir/zk.pid"
    for _ in $(seq 1 400); do
        if ruok "$port"; then
            echo "127.0.0.1:$port" > "$dir/endpoint"
            echo "127.0.0.1:$port"
            return 0
        fi
        kill -0 "$(cat "$dir/zk.pid")" 2>/dev/null || { echo "ZooKeeper died:" >&2; cat "$dir/log/zk.out" >&2; exit 1; }
        sleep 0.05
    done
    echo "ZooKeeper not ready on 127.0.0.1:$port after 20 s" >&2
    stop
    exit 1
}

case $cmd in
    start) start "${3:-0}" ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
