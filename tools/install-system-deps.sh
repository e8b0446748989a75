#!/bin/bash
# Install the Debian packages heat-softorch runs against, when they are missing:
# ZooKeeper (the fabric), MariaDB and RabbitMQ (Heat's convergence engine and RPC),
# Graphviz (softorch graph), OpenSSL (the CA and certificate of a TLS-only
# ZooKeeper made per run), Puppet (heat-agents' puppet hook, which the
# tests run both ways: ~37 packages, 10 MB, most of it Ruby). Nothing is
# started or enabled here.
set -euo pipefail
want=(zookeeper mariadb-server rabbitmq-server graphviz openssl puppet)
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Packages must not start their services: the project starts private instances itself.
policy_rc=/usr/sbin/policy-rc.d
created_policy=
if [ ! -e $policy_rc ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy_rc >/dev/null
    $SUDO chmod +x $policy_rc
    created_policy=1
fi
trap '[ -n "$created_policy" ] && $SUDO rm -f $policy_rc' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
