#!/bin/sh
# A busy loop on every CPU of the allocation for DURATION seconds (default 15).
for _ in $(seq "${SLURM_CPUS_ON_NODE:-1}"); do
  timeout "${DURATION:-15}" sh -c 'while :; do :; done' &
done
wait
