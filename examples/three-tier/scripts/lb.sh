#!/bin/sh
# lb: CREATE and UPDATE. Starts (or restarts) the round-robin proxy on
# address:port in front of app1_url and app2_url.
# Inputs: service_lib, service_py, address, port, app1_url, app2_url.
# Outputs: url.
# Inputs arrive as environment variables (heat-agents script hook).
# shellcheck disable=SC2154
set -eu
printf '%s\n' "$service_lib" > service-lib.sh
# shellcheck source=/dev/null
. ./service-lib.sh

svc_start --address "$address" --port "$port" \
    --backend "$app1_url" --backend "$app2_url"
url="http://$address:$port/"
svc_wait "$url" "Served by"
svc_get "${url}_lb/status" > /dev/null

printf %s "$url" > "$heat_outputs_path.url"
echo "lb $deploy_action: serving $url over $app1_url $app2_url (pid $(svc_pid))"
