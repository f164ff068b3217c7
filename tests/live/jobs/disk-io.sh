#!/bin/sh
# Disk traffic for DURATION seconds (default 15): every second, write and fsync 100 MB in the job's
# temporary folder and read it back past the page cache (~100 MB/s each way, far above what
# anything else on a test machine does, without saturating a shared disk). The last 2 seconds are
# quiet: a 1-second rate is stamped at the end of its second, so traffic up to the very end would
# show in the first sample of the job that runs next.
set -e
end=$(( $(date +%s) + ${DURATION:-15} ))
dir=$(mktemp -d "${TMPDIR:-/tmp}/disk-io.XXXXXX")
trap 'rm -rf "$dir"' EXIT
while [ "$(date +%s)" -lt $((end - 2)) ]; do
  round=$(date +%s)
  dd if=/dev/zero of="$dir/data" bs=1M count=100 conv=fsync status=none
  dd if="$dir/data" of=/dev/null bs=1M iflag=direct status=none || dd if="$dir/data" of=/dev/null bs=1M status=none
  rm -f "$dir/data"
  while [ "$(date +%s)" -eq "$round" ]; do sleep 0.1; done
done
while [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
