#!/bin/sh
# app (in every member of the app tier): CREATE and UPDATE. Starts (or
# restarts) the app server on address:port (port 0: any free one); it
# reads db_url on every request.
# Inputs: service_lib, service_py, address, port, db_url, data_version
# (shown on the page: an update of the db's content changes it, and so
# re-runs this config), app_name (optional).
# Outputs: url.
# Inputs arrive as environment variables (heat-agents script hook).
# shellcheck disable=SC2154
set -eu
printf '%s\n' "$service_lib" > service-lib.sh
# shellcheck source=/dev/null
. ./service-lib.sh

# Its name on the page: app_name when given (three-tier-flat.yaml,
# three-tier-native.yaml), else app-<the first digits of its member
# stack's id>.
name=${app_name:-app-$(printf %s "${deploy_stack_id##*/}" | cut -c1-6)}
# Port 0 (any free one): a restart keeps the port it had, so that its url,
# and what the load balancer reads, stay the same.
if [ "$port" = 0 ] && [ -s service.port ]; then
    port=$(tr -dc 0-9 < service.port)
fi
rm -f service.port
svc_start --name "$name" --address "$address" --port "$port" \
    --portfile service.port --db-url "$db_url" --data-version "$data_version"
port=$(svc_port)
url="http://$address:$port/"
# The page names the app and needs the db: answering means both work.
svc_wait "$url" "Served by $name"

printf %s "$url" > "$heat_outputs_path.url"
echo "$name $deploy_action: serving $url with db $db_url, data_version $data_version (pid $(svc_pid))"
