"""Time and peak memory of the backfilling replay: the largest shared trace end to end, and growth with jobs.

Usage: python benchmarks/bench_schedule.py [--sizes 10000 28000 100000] [--policy easy conservative]

1. ``hpcpredict schedule KTH-SP2.swf.gz --predictor limit`` (28,475 jobs; read the SWF, predict, replay,
   report) as a fresh process: wall time and peak RSS; then the same with all four heuristics.
2. Synthetic workloads of N jobs drawn from KTH-SP2's rows (size, runtime, limit, user) with
   Poisson arrivals at KTH's mean rate on the same 100-processor machine, so the load stays
   comparable while N grows: replay time (limit predictor) and peak RSS, each in a fresh process.
Every measurement runs in its own process; peak RSS is that process's ``ru_maxrss``. CPU seconds
(user + system) are given beside wall time: on a shared machine they do not grow with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _machine import describe_machine

REPO = Path(__file__).resolve().parents[1]
KTH = [REPO.parent / "shared" / "data" / "real" / "pwa-kth-sp2-1996" / "KTH-SP2-1996-2.1-cln.swf.gz", REPO / "data" / "kth-sp2" / "KTH-SP2-1996-2.1-cln.swf.gz"]


def _trace() -> Path:
    return next(p for p in KTH if p.is_file())


def end_to_end(predictors: list[str]) -> dict:
    args = [sys.executable, "-m", "hpcpredict", "schedule", str(_trace()), "--json"]
    for p in predictors:
        args += ["--predictor", p]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"predictors": predictors, "seconds": wall, "cpu_s": cpu, "peak_rss_mb": after.ru_maxrss / 1024, "jobs": json.loads(out.stdout)["jobs"]}


def one_synthetic(n: int, policy: str) -> None:
    """Run in a child process: build N synthetic jobs, replay, print JSON (time, memory)."""
    import numpy as np
    import pandas as pd

    from hpcpredict.schedule import load_workload, replay_schedule, workload_from_jobs

    kth = load_workload(_trace())
    rng = np.random.default_rng(0)
    rows = rng.integers(0, len(kth), n)
    rate = len(kth) / kth.submit_s[-1]
    submit = np.cumsum(rng.exponential(1 / rate, n))
    jobs = pd.DataFrame({
        "job_id": np.arange(n).astype(str),
        "user": kth.jobs["user"].to_numpy()[rows],
        "submit_time": pd.to_datetime(submit, unit="s", utc=True),
        "runtime_s": kth.runtime_s[rows],
        "time_limit_s": kth.limit_s[rows],
        "req_cpus": kth.size[rows],
    })
    workload = workload_from_jobs(jobs, nodes=kth.machine_size)
    t0, c0 = time.perf_counter(), time.process_time()
    run = replay_schedule(workload, workload.limit_s, policy=policy)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"jobs": n, "policy": policy, "replay_s": seconds, "cpu_s": cpu, "peak_rss_mb": peak, "mean_wait_s": float(np.mean(run.wait_s))}))


def synthetic(n: int, policy: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(n), "--policy", policy], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", type=int, default=[10_000, 28_000, 100_000])
    parser.add_argument("--policy", nargs="*", default=["easy", "conservative"])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_synthetic(args.one, args.policy[0])
        return
    print(f"load average at start: {os.getloadavg()[0]:.1f}\n")
    print("| run | jobs | wall time (s) | CPU time (s) | peak RSS (MB) |\n|---|---:|---:|---:|---:|")
    for predictors in (["limit"], ["limit", "last2", "alea", "oracle"]):
        r = end_to_end(predictors)
        print(f"| `hpcpredict schedule` KTH-SP2, {', '.join(predictors)} (EASY) | {r['jobs']:,} | {r['seconds']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:,.0f} |", flush=True)
    print("\n| synthetic jobs | policy | replay wall (s) | replay CPU (s) | CPU s per 1,000 jobs | peak RSS (MB) | mean wait (h) |\n|---:|---|---:|---:|---:|---:|---:|")
    for policy in args.policy:
        for n in args.sizes:
            r = synthetic(n, policy)
            print(f"| {n:,} | {policy} | {r['replay_s']:.1f} | {r['cpu_s']:.1f} | {1000 * r['cpu_s'] / n:.2f} | {r['peak_rss_mb']:,.0f} | {r['mean_wait_s'] / 3600:,.2f} |", flush=True)
    print(f"\nMachine: {describe_machine()}; load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
