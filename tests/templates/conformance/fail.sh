#!/bin/sh
# The failing config of the conformance test.
echo "checking the disk"
echo "initdb: could not create directory: No space left on device" >&2
exit 3
