"""Small synthetic monitoring data (samples + jobs + topology) shared by the feature tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hpcpredict.schema import conform_jobs

T0 = pd.Timestamp("2024-03-01", tz="UTC")
HOSTS = [f"n{i:02d}" for i in range(6)]
SPAN_S = 10 * 3600


def make_samples(seed: int = 0) -> pd.DataFrame:
    """6 hosts x 10 h at ~1 min (stamps jittered by a few seconds), two filesystems, some gaps."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, host in enumerate(HOSTS):
        t = np.arange(0, SPAN_S, 60) + 3 + i  # samplers fire a few seconds after the minute
        t = t[rng.random(len(t)) > 0.05]  # lost samples
        n = len(t)
        rows.append(
            pd.DataFrame(
                {
                    "timestamp": T0 + pd.to_timedelta(t, unit="s"),
                    "component": host,
                    "read_bytes_fs1_per_s": rng.exponential(1e6, n),
                    "read_bytes_fs2_per_s": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(1e5, n)),
                    "write_bytes_fs1_per_s": rng.exponential(5e5, n),
                    "open_per_s": rng.exponential(10, n),
                    "AR_NIC_REQ_FLITS_per_s": rng.exponential(1e4, n),
                    "AR_NIC_REQ_STALLED_per_s": rng.exponential(1e3, n),
                    "cpu_busy_frac": rng.uniform(0, 1, n),
                    "mem_used_bytes": np.where(rng.random(n) < 0.05, np.nan, rng.uniform(1e9, 6e10, n)),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


#: role → the sample columns that make it (what the reader's metadata says).
ROLE_COLUMNS = {
    "fs_read_bytes": ["read_bytes_fs1_per_s", "read_bytes_fs2_per_s"],
    "fs_write_bytes": ["write_bytes_fs1_per_s"],
    "fs_metadata_ops": ["open_per_s"],
    "net_flits": ["AR_NIC_REQ_FLITS_per_s"],
    "net_stalls": ["AR_NIC_REQ_STALLED_per_s"],
    "cpu_busy": ["cpu_busy_frac"],
    "mem_used": ["mem_used_bytes"],
}


def make_jobs(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Jobs over the sampled span: some cancelled while queued, some still running."""
    rng = np.random.default_rng(seed)
    submit = np.sort(rng.uniform(0, SPAN_S * 0.9, n)).round()
    wait = rng.exponential(900, n).round()
    run = rng.exponential(3600, n).round() + 30
    start = submit + wait
    end = start + run
    start_td = pd.to_timedelta(start, unit="s")
    end_td = pd.to_timedelta(end, unit="s")
    cancelled = rng.random(n) < 0.1
    running = (rng.random(n) < 0.1) & ~cancelled
    nodes = rng.integers(1, 4, n)
    nodelist = [list(rng.choice(HOSTS, k, replace=False)) if not c else None for k, c in zip(nodes, cancelled)]
    jobs = pd.DataFrame(
        {
            "job_id": [str(i) for i in range(n)],
            "user": rng.choice(["a", "b", "c"], n),
            "app": rng.choice(["x", "y"], n),
            "submit_time": T0 + pd.to_timedelta(submit, unit="s"),
            "start_time": (T0 + start_td).where(~cancelled, pd.NaT),
            "end_time": (T0 + end_td).where(~running, pd.NaT),
            "req_nodes": nodes,
            "alloc_nodes": np.where(cancelled, np.nan, nodes),
            "time_limit_s": (run * 2).round(),
            "nodelist": nodelist,
        }
    )
    return conform_jobs(jobs)


def make_topology() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "component": HOSTS,
            "router": [f"r{i // 2}" for i in range(6)],
            "group": [f"g{i // 3}" for i in range(6)],
            "cabinet": ["c0"] * 6,
        }
    )
