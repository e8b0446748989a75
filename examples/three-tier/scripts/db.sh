#!/bin/sh
# db: CREATE and UPDATE. Starts (or restarts) the data service on
# address:port with db_content loaded into its sqlite file.
# Inputs: service_lib, service_py, address, port, db_content.
# Outputs: db_url, data_version (a digest of the content, from the service).
# Inputs arrive as environment variables (heat-agents script hook).
# shellcheck disable=SC2154
set -eu
printf '%s\n' "$service_lib" > service-lib.sh
# shellcheck source=/dev/null
. ./service-lib.sh

printf '%s' "$db_content" > content.txt
svc_start --address "$address" --port "$port" \
    --db "$svc_dir/db.sqlite" --content-file "$svc_dir/content.txt"
url="http://$address:$port"
svc_wait "$url/health" '"ok": true'
version=$(svc_get "$url/health" data_version)

printf %s "$url" > "$heat_outputs_path.db_url"
printf %s "$version" > "$heat_outputs_path.data_version"
echo "db $deploy_action: serving $url, data_version $version (pid $(svc_pid))"
