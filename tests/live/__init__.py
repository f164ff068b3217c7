"""Tests against the live Slurm of ``make test-slurm`` (marked ``slurm``)."""
