"""Train and explain on a Slurm cluster: dask-jobqueue starts Dask workers as Slurm jobs.

Needs ``pip install 'hpcpredict[dask]' dask-jobqueue`` on the login node and the compute nodes
(a shared file system and the same Python environment). Edit the SLURMCluster arguments for your
site (partition, account, walltime, memory), then, on a login node:

    python examples/dask_slurm.py features.parquet model/ --workers 4

The scheduler runs in this process; each worker is one Slurm job running one Dask worker
process. The hpcpredict commands connect to it with ``--dask <address>`` and the workers are
cancelled when this script ends.
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def main() -> None:
    from dask_jobqueue import SLURMCluster

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("features", help="feature table from `hpcpredict features`")
    ap.add_argument("model", help="model bundle folder to write")
    ap.add_argument("--workers", type=int, default=4, help="Slurm jobs, one Dask worker each")
    ap.add_argument("--queue", default="regular", help="Slurm partition")
    ap.add_argument("--account", default=None)
    args = ap.parse_args()

    cluster = SLURMCluster(
        queue=args.queue,
        account=args.account,
        cores=16,                 # threads of the worker = XGBoost threads on that node
        processes=1,              # one worker process per job: XGBoost parallelises inside it
        memory="64GB",
        walltime="01:00:00",
        job_extra_directives=["--exclusive"],
        scheduler_options={"dashboard_address": ":0"},
    )
    try:
        cluster.scale(jobs=args.workers)
        from distributed import Client

        with Client(cluster) as client:
            client.wait_for_workers(args.workers, timeout=1800)  # the jobs wait in the queue first
        address = cluster.scheduler_address
        print(f"scheduler {address}, {args.workers} workers", file=sys.stderr)
        hp = [sys.executable, "-m", "hpcpredict"]
        subprocess.run([*hp, "train", args.features, "-o", args.model, "--dask", address], check=True)
        subprocess.run([*hp, "explain", args.model, args.features, "--all", "--dask", address], check=True)
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
