#!/bin/sh
# Two srun steps inside a batch job.
srun -n1 hostname
srun -n2 sleep 1
