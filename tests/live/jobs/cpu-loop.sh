#!/bin/sh
# Busy loops for DURATION seconds (default 15): four per CPU of the allocation, so that on a machine
# shared with other work the job's share of the CPUs, all in user mode, shows in the node's counters.
for _ in $(seq $((4 * ${SLURM_CPUS_ON_NODE:-1}))); do
  timeout "${DURATION:-15}" sh -c 'while :; do :; done' &
done
wait
