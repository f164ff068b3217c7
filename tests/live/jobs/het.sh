#!/bin/sh
#SBATCH -p debug -n1 --mem=200
#SBATCH hetjob
#SBATCH -p second -n1 --mem=200
srun --het-group=0,1 true
