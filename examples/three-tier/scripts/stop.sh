#!/bin/sh
# Every tier: DELETE. Stops the component's service through its pidfile
# (runs with the inputs of the component's last run).
# Inputs arrive as environment variables (heat-agents script hook).
# shellcheck disable=SC2154
set -eu
printf '%s\n' "$service_lib" > service-lib.sh
# shellcheck source=/dev/null
. ./service-lib.sh

svc_stop
echo "$deploy_resource_name $deploy_action: service stopped"
