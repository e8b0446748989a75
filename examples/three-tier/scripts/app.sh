#!/bin/sh
# app1, app2: CREATE and UPDATE. Starts (or restarts) the app server on
# address:port; it reads db_url on every request.
# Inputs: service_lib, service_py, app_name, address, port, db_url,
# data_version (shown on the page: an update of the db's content changes
# it, and so re-runs this config).
# Outputs: url.
# Inputs arrive as environment variables (heat-agents script hook).
# shellcheck disable=SC2154
set -eu
printf '%s\n' "$service_lib" > service-lib.sh
# shellcheck source=/dev/null
. ./service-lib.sh

svc_start --name "$app_name" --address "$address" --port "$port" \
    --db-url "$db_url" --data-version "$data_version"
url="http://$address:$port/"
# The page names the app and needs the db: answering means both work.
svc_wait "$url" "Served by $app_name"

printf %s "$url" > "$heat_outputs_path.url"
echo "$app_name $deploy_action: serving $url with db $db_url, data_version $data_version (pid $(svc_pid))"
