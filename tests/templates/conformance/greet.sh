#!/bin/sh
# The script config of the conformance test: stdout, stderr, an output.
echo "hello $who from $deploy_resource_name ($deploy_action)"
echo "a warning from the script" >&2
printf '%s' "script greets $who" > "$heat_outputs_path.greeting"
