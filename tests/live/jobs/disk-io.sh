#!/bin/sh
# Write and fsync ~500 MB in the job's temporary folder, read it back past the page cache, until
# DURATION seconds (default 15) have passed.
set -e
end=$(( $(date +%s) + ${DURATION:-15} ))
dir=$(mktemp -d "${TMPDIR:-/tmp}/disk-io.XXXXXX")
trap 'rm -rf "$dir"' EXIT
dd if=/dev/zero of="$dir/data" bs=1M count=500 conv=fsync status=none
dd if="$dir/data" of=/dev/null bs=1M iflag=direct status=none || dd if="$dir/data" of=/dev/null bs=1M status=none
now=$(date +%s)
[ "$now" -ge "$end" ] || sleep $((end - now))
