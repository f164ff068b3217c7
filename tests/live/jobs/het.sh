#!/bin/sh
# The parts of a het job never share a node, and Debian's slurmd cannot run twice on one host
# (no multiple-slurmd build): this job stays pending (Resources) until the workload cancels it.
#SBATCH -n1 --mem=200
#SBATCH hetjob
#SBATCH -n1 --mem=200
srun --het-group=0,1 true
