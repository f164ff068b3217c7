"""The jobs table as it was known at one moment: what a replay of the past must see."""

from __future__ import annotations

import pandas as pd

__all__ = ["as_of", "latest_time"]


def latest_time(jobs: pd.DataFrame) -> pd.Timestamp:
    """The latest submit, start or end time in a jobs table."""
    times = [jobs[c].max() for c in ("submit_time", "start_time", "end_time") if c in jobs.columns]
    times = [t for t in times if pd.notna(t)]
    if not times:
        raise ValueError("the jobs table has no times")
    return max(times)


def as_of(jobs: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """Jobs as the scheduler knew them at ``at``.

    Jobs submitted after ``at`` are dropped; a job that had not ended by then loses its end time
    and runtime (it is RUNNING), one that had not started loses its start time too (PENDING).
    Nothing that happened after ``at`` survives.
    """
    known = jobs.loc[jobs["submit_time"] <= at].copy()
    not_ended = known["end_time"].isna() | (known["end_time"] > at)
    not_started = known["start_time"].isna() | (known["start_time"] > at)
    known.loc[not_ended, ["end_time"]] = pd.NaT
    known.loc[not_ended, "runtime_s"] = float("nan")
    known.loc[not_ended, "state"] = "RUNNING"
    known.loc[not_started, ["start_time"]] = pd.NaT
    known.loc[not_started, "state"] = "PENDING"
    return known
