#!/bin/sh
# The parts of a het job never share a node, and Debian's slurmd cannot run twice on one host
# (no multiple-slurmd build): this job stays pending (Resources) until the workload cancels it.
# Seen on 22.05.8: small components (-n1 --mem=200 each) stay Resources, backfill plans the second
# to start when the first ends; so with OverSubscribe=FORCE:2 and --oversubscribe; a second
# NodeName on the host (own NodeHostName, NodeAddr 127.0.0.2) stops slurmctld: "fatal: Duplicated
# NodeHostName node2 in config file".
#SBATCH -n1 --mem=200
#SBATCH hetjob
#SBATCH -n1 --mem=200
srun --het-group=0,1 true
