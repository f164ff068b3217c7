"""Job-window and system-window features on a synthetic monitoring dump, beside two baselines.

Writes a samples folder (hosts x days at 1-minute samples x 20 metrics, one Parquet file per day)
and a jobs table, then times, each in a fresh process (so peak memory is its own):

- floor: a DuckDB scan summing every metric of the Parquet (nothing can read the data faster);
- system-window features (``system_features``, submit horizon: 7 roles x 3 windows);
- job-window features (``job_window_features``): means by prefix sums only, and mean + max + p95;
- a straightforward per-job pandas loop (samples held in a DataFrame, one boolean mask per job)
  for both families, on a subset of jobs, extrapolated to all jobs.

Prints a Markdown table: time, peak RSS, and ratios to the floor and to the loop.

With ``--blocks N`` it times instead job-window mean + max + p95 three ways: all jobs in one
block, blocks of ``N`` jobs (each reading only its days), and the same blocks on a Dask
``LocalCluster`` of 2 workers (cluster start included) — peak RSS of the process and all its
children, ratios to the one-block run.

    python benchmarks/bench_features_monitoring.py                 # 2,000 hosts x 7 days, 20,000 jobs
    python benchmarks/bench_features_monitoring.py --hosts 200 --days 2 --jobs 2000   # a quick look
    python benchmarks/bench_features_monitoring.py --blocks 2500 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import tree_rss  # noqa: E402

T0 = pd.Timestamp("2024-01-01", tz="UTC")
# 20 metrics: 13 feed the seven roles, 7 are other gauges/rates
METRICS = {
    "read_bytes_fs1_per_s": "fs_read_bytes",
    "read_bytes_fs2_per_s": "fs_read_bytes",
    "write_bytes_fs1_per_s": "fs_write_bytes",
    "write_bytes_fs2_per_s": "fs_write_bytes",
    "open_per_s": "fs_metadata_ops",
    "close_per_s": "fs_metadata_ops",
    "getattr_per_s": "fs_metadata_ops",
    "AR_NIC_REQ_FLITS_per_s": "net_flits",
    "AR_NIC_RSP_FLITS_per_s": "net_flits",
    "AR_NIC_REQ_STALLED_per_s": "net_stalls",
    "AR_NIC_RSP_STALLED_per_s": "net_stalls",
    "cpu_busy_frac": "cpu_busy",
    "mem_used_bytes": "mem_used",
    "context_switches_per_s": None,
    "procs_running": None,
    "MemFree": None,
    "Cached": None,
    "pgmajfault_per_s": None,
    "load1min": None,
    "Active": None,
}


def make_data(folder: Path, *, hosts: int, days: int, jobs: int, seed: int = 0) -> None:
    """Write ``folder/samples/`` (one Parquet per day + _metrics.json) and ``folder/jobs.parquet``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hpcpredict._atomic import write_json, write_parquet

    rng = np.random.default_rng(seed)
    samples = folder / "samples"
    samples.mkdir(parents=True, exist_ok=True)
    names = np.array([f"nid{i:05d}" for i in range(hosts)])
    minutes = 1440
    for d in range(days):
        t = (T0 + pd.Timedelta(days=d)).value // 1000 + np.arange(minutes, dtype=np.int64) * 60_000_000 + 2_000_000
        cols = {
            "timestamp": pa.array(np.tile(t, hosts), pa.timestamp("us", tz="UTC")),
            "component": pa.DictionaryArray.from_arrays(np.repeat(np.arange(hosts, dtype=np.int32), minutes), pa.array(names)),
        }
        n = hosts * minutes
        for name in METRICS:
            cols[name] = pa.array(rng.random(n, dtype=np.float32).astype(np.float64) * 1e6)
        pq.write_table(pa.table(cols), samples / f"samples-{(T0 + pd.Timedelta(days=d)):%Y-%m-%d}.parquet", row_group_size=1 << 20)
    infos = [{"column": c, "source": c, "sampler": "", "kind": "gauge", "unit": "", "role": r} for c, r in METRICS.items()]
    write_json({"table": "samples", "metrics": infos}, samples / "_metrics.json")
    span = days * 86400
    submit = np.sort(rng.uniform(0, span * 0.95, jobs))
    start = submit + rng.exponential(600, jobs)
    end = np.minimum(start + np.minimum(rng.exponential(3600, jobs), 12 * 3600) + 60, span)
    nodes = np.minimum(np.exp(rng.uniform(0, np.log(16), jobs)).astype(int), hosts)
    first = rng.integers(0, hosts, jobs)
    nodelist = [list(names[(f + np.arange(k)) % hosts]) for f, k in zip(first, nodes)]
    frame = pd.DataFrame(
        {
            "job_id": np.arange(jobs).astype(str),
            "submit_time": T0 + pd.to_timedelta(submit.round(), unit="s"),
            "start_time": T0 + pd.to_timedelta(start.round(), unit="s"),
            "end_time": T0 + pd.to_timedelta(end.round(), unit="s"),
            "req_nodes": nodes,
            "alloc_nodes": nodes,
            "time_limit_s": 2 * (end - start).round(),
            "nodelist": nodelist,
        }
    )
    write_parquet(frame, folder / "jobs.parquet")


def _jobs(folder: Path) -> pd.DataFrame:
    from hpcpredict.schema import conform_jobs

    jobs = pd.read_parquet(folder / "jobs.parquet")
    jobs["nodelist"] = jobs["nodelist"].map(list)
    return conform_jobs(jobs)


def _role_frame(folder: Path) -> pd.DataFrame:
    files = sorted((folder / "samples").glob("samples-*.parquet"))
    cols = ["timestamp", "component"] + [c for c, r in METRICS.items() if r]
    frame = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
    frame["component"] = frame["component"].astype("category")
    return frame


def _roles_of(frame: pd.DataFrame) -> dict[str, pd.Series]:
    roles: dict[str, list[str]] = {}
    for c, r in METRICS.items():
        if r:
            roles.setdefault(r, []).append(c)
    return {r: frame[cs].sum(axis=1, min_count=1) for r, cs in roles.items()}


def run_floor(folder: Path):
    import duckdb

    files = sorted(str(f) for f in (folder / "samples").glob("samples-*.parquet"))
    sums = ", ".join(f'sum("{c}")' for c in METRICS)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con.execute(f"SELECT {sums} FROM read_parquet({files!r})").fetchall()


def run_system(folder: Path):
    from hpcpredict.features.system import system_features

    return system_features(_jobs(folder), folder / "samples", horizon="submit")


def run_job_means(folder: Path):
    from hpcpredict.features.jobwindow import job_window_features

    return job_window_features(_jobs(folder), folder / "samples", stats=("mean",))


def run_job_all(folder: Path):
    from hpcpredict.features.jobwindow import job_window_features

    return job_window_features(_jobs(folder), folder / "samples")


def run_job_blocks(folder: Path, jobs_per_block: int, dask: str | None):
    from hpcpredict.features.jobwindow import job_window_features

    return job_window_features(_jobs(folder), folder / "samples", jobs_per_block=jobs_per_block, dask=dask)


def _subset(jobs: pd.DataFrame, n: int) -> pd.DataFrame:
    """``n`` jobs spread evenly over the table (the loops are timed on these and extrapolated)."""
    return jobs.iloc[:: max(1, len(jobs) // n)].head(n)


def run_loop_job(folder: Path, n: int):
    """Per job: one boolean mask over all samples, then mean/max/p95 per role (the naive way)."""
    jobs = _subset(_jobs(folder), n)
    frame = _role_frame(folder)
    roles = pd.DataFrame(_roles_of(frame))
    t = frame["timestamp"]
    start = time.perf_counter()
    for _, job in jobs.iterrows():
        rows = roles[frame["component"].isin(job["nodelist"]) & (t >= job["start_time"]) & (t < job["end_time"])]
        rows.mean(), rows.max(), rows.quantile(0.95)
    return time.perf_counter() - start


def run_loop_system(folder: Path, n: int):
    """Per job and window: one boolean mask over all samples, then per-minute totals and means."""
    jobs = _subset(_jobs(folder), n)
    frame = _role_frame(folder)
    roles = pd.DataFrame(_roles_of(frame))
    t = frame["timestamp"]
    start = time.perf_counter()
    for _, job in jobs.iterrows():
        for width in (900, 3600, 21600):
            inside = (t >= job["submit_time"] - pd.Timedelta(seconds=width)) & (t < job["submit_time"])
            sel = roles[inside]
            sel.groupby(t[inside].dt.floor("min")).sum().mean()
    return time.perf_counter() - start


def _child(name, args, queue):
    import duckdb  # noqa: F401  imports are not what is measured
    import pyarrow.parquet  # noqa: F401

    import hpcpredict.features  # noqa: F401

    import threading

    import psutil

    peak, done = [0], threading.Event()

    def watch():  # the process and its children (Dask workers): ru_maxrss sees only this process
        me = psutil.Process()
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(me))
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    fn = globals()[name]
    start = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - start
    done.set()
    if isinstance(result, float):  # loops time themselves, without loading the data
        elapsed = result
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    queue.put((elapsed, max(own, peak[0] / 1024**3)))


def measure(name, *args, repeats=3):
    """Median time and max peak RSS (GB) over ``repeats`` fresh processes."""
    print(f"measuring {name} x {repeats} ...", file=sys.stderr, flush=True)
    times, peaks = [], []
    ctx = mp.get_context("spawn")
    for _ in range(repeats):
        q = ctx.Queue()
        p = ctx.Process(target=_child, args=(name, args, q))
        p.start()
        elapsed, peak = q.get()
        p.join()
        times.append(elapsed)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=2000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=20000)
    ap.add_argument("--loop-jobs", type=int, default=10, help="jobs the per-job loop runs, extrapolated")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/hpcpredict-bench-monitoring"))
    ap.add_argument("--keep", action="store_true", help="reuse data already in --workdir")
    ap.add_argument("--blocks", type=int, default=0, help="time job-window features in one block, in blocks of this many jobs, and on Dask local:2")
    args = ap.parse_args()
    folder = args.workdir / f"h{args.hosts}-d{args.days}-j{args.jobs}"
    if not (args.keep and (folder / "jobs.parquet").is_file()):
        t = time.perf_counter()
        make_data(folder, hosts=args.hosts, days=args.days, jobs=args.jobs)
        print(f"generated data in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    n_samples = args.hosts * args.days * 1440
    if args.blocks:
        return blocks_table(folder, args, n_samples)
    floor = measure("run_floor", folder, repeats=args.repeats)
    rows = [
        ("DuckDB scan summing all 20 metrics (floor)", floor),
        ("system-window features (7 roles x 3 windows)", measure("run_system", folder, repeats=args.repeats)),
        ("job-window means (prefix sums)", measure("run_job_means", folder, repeats=args.repeats)),
        ("job-window mean + max + p95", measure("run_job_all", folder, repeats=args.repeats)),
    ]
    scale = args.jobs / args.loop_jobs
    loop_sys = measure("run_loop_system", folder, args.loop_jobs, repeats=1)
    loop_job = measure("run_loop_job", folder, args.loop_jobs, repeats=1)
    loops = {"system": (loop_sys[0] * scale, loop_sys[1]), "job": (loop_job[0] * scale, loop_job[1])}
    print(
        f"\n{n_samples / 1e6:.1f}M samples ({args.hosts:,} hosts x {args.days} days x 1 min) x 20 metrics, {args.jobs:,} jobs; "
        f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024**3:.0f} GiB, "
        f"{platform.processor() or platform.machine()}, load average {os.getloadavg()[0]:.1f}; "
        f"medians of {args.repeats} fresh processes\n"
    )
    print("| method | time (s) | peak RSS (GB) | x floor | speed-up vs per-job loop |")
    print("|---|---:|---:|---:|---:|")
    for label, (t, peak) in rows:
        loop = loops["system"][0] if label.startswith("system") else loops["job"][0]
        speed = "" if "floor" in label else f"{loop / t:,.0f}x"
        print(f"| {label} | {t:.2f} | {peak:.2f} | {t / floor[0]:.1f} | {speed} |")
    for fam, (t, peak) in loops.items():
        print(f"| per-job pandas loop, {fam} window ({args.loop_jobs} jobs, extrapolated) | {t:,.0f} | {peak:.2f} | {t / floor[0]:,.0f} | 1x |")
    print(json.dumps({"rows": rows, "loops": loops}), file=sys.stderr)



def blocks_table(folder: Path, args, n_samples: int) -> None:
    """Job-window mean + max + p95: one block, blocks of ``args.blocks`` jobs, the blocks on Dask."""
    rows = [
        ("one block (all jobs at once)", measure("run_job_blocks", folder, 10**9, None, repeats=args.repeats)),
        (f"blocks of {args.blocks:,} jobs, this process", measure("run_job_blocks", folder, args.blocks, None, repeats=args.repeats)),
        (f"blocks of {args.blocks:,} jobs, Dask local:2 (2 workers x 1 thread, start included)", measure("run_job_blocks", folder, args.blocks, "local:2", repeats=args.repeats)),
    ]
    print(
        f"\n{n_samples / 1e6:.1f}M samples ({args.hosts:,} hosts x {args.days} days x 1 min) x 20 metrics, {args.jobs:,} jobs; "
        f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024**3:.0f} GiB, "
        f"{platform.processor() or platform.machine()}, load average {os.getloadavg()[0]:.1f} at the end; "
        f"medians of {args.repeats} fresh processes; peak RSS of the process and its children\n"
    )
    base_t, base_m = rows[0][1]
    print("| job-window mean + max + p95 | time (s) | peak RSS (GB) | time / one block | memory / one block |")
    print("|---|---:|---:|---:|---:|")
    for label, (t, peak) in rows:
        print(f"| {label} | {t:.2f} | {peak:.2f} | {t / base_t:.2f} | {peak / base_m:.2f} |")
    print(json.dumps({"rows": rows}), file=sys.stderr)


if __name__ == "__main__":
    main()
