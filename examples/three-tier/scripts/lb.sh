#!/bin/sh
# lb: CREATE and UPDATE. Starts (or restarts) the round-robin proxy on
# address:port in front of every app of the group.
# Inputs: service_lib, service_py, address, port, backends (a JSON list of
# the members' urls, ordered by member name) or app1_url and app2_url.
# Outputs: url.
# Inputs arrive as environment variables (heat-agents script hook).
# shellcheck disable=SC2154
set -eu
printf '%s\n' "$service_lib" > service-lib.sh
# shellcheck source=/dev/null
. ./service-lib.sh

# One --backend per member url (urls hold no whitespace): from backends (a
# group's list), else from app1_url and app2_url (three-tier-flat.yaml and
# three-tier-native.yaml wire two apps by hand).
backends=${backends:-$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \
    ${app1_url:+"$app1_url"} ${app2_url:+"$app2_url"})}
# shellcheck disable=SC2046
set -- $(python3 -c 'import json, sys
for url in json.loads(sys.argv[1]):
    print("--backend", url)' "$backends")
[ $# -gt 0 ] || { echo "no app to balance over: backends is $backends" >&2; exit 1; }
svc_start --address "$address" --port "$port" "$@"
url="http://$address:$port/"
svc_wait "$url" "Served by"
svc_get "${url}_lb/status" > /dev/null

printf %s "$url" > "$heat_outputs_path.url"
echo "lb $deploy_action: serving $url over $(($# / 2)) apps: $backends (pid $(svc_pid))"
