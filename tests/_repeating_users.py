"""A synthetic trace of users who each run their jobs at their own share of the time limit."""

import numpy as np
import pandas as pd

from hpcpredict import api


def repeating_users_features(folder, *, n: int, users: int, ratios: tuple, limits: list, noise: float, seed: int, past_limit: float = 0.0, days: int = 90, first_limits: tuple = ()):
    """Write ``jobs.parquet`` and submit-horizon ``features.parquet`` to ``folder``; return the latter.

    Each user runs at a ratio drawn from ``ratios`` (low, high) of the job's limit, times a noise
    factor within 1 ± ``noise``; a share ``past_limit`` of the jobs runs 1.5x its limit instead.
    The first jobs submitted get ``first_limits`` as their limits.
    """
    rng = np.random.default_rng(seed)
    ratio = rng.uniform(*ratios, users)
    user = rng.integers(0, users, n)
    limit = rng.choice(limits, n)
    limit[: len(first_limits)] = first_limits
    runtime = np.round(ratio[user] * limit * rng.uniform(1 - noise, 1 + noise, n)) + 1
    runtime = np.where(rng.random(n) < past_limit, 1.5 * limit, runtime)
    submit = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.sort(rng.uniform(0, days * 86400, n)), unit="s")
    start = submit + pd.to_timedelta(rng.exponential(600, n), unit="s")
    jobs = pd.DataFrame(
        {"job_id": [str(i) for i in range(n)], "user": [f"u{u}" for u in user], "submit_time": submit, "start_time": start,
         "end_time": start + pd.to_timedelta(runtime, unit="s"), "runtime_s": runtime, "time_limit_s": limit,
         "req_cpus": rng.integers(1, 64, n), "state": "COMPLETED"}
    )
    jobs.to_parquet(folder / "jobs.parquet")
    api.features(folder / "jobs.parquet", folder / "features.parquet", horizon="submit")
    return folder / "features.parquet"
