"""Calendar features of the submit time: daily and weekly cycles of load and behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .registry import register

__all__ = ["calendar_arrays", "calendar_features"]

register("submit_hour", "calendar", "submit", "hour of day at submission (UTC)")
register("submit_weekday", "calendar", "submit", "day of week at submission (0 = Monday)")
register("submit_is_weekend", "calendar", "submit", "submitted on a weekend")


def calendar_arrays(submit_ns: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar features from UTC submit times as int64 nanoseconds since the epoch (NaT allowed).

    Shared with the online path, which has no DataFrame. The epoch, 1970-01-01, was a Thursday.
    """
    ns = np.asarray(submit_ns, dtype="int64")
    missing = ns == np.iinfo("int64").min  # NaT
    hours = np.floor_divide(ns, 3_600_000_000_000)
    weekday = ((np.floor_divide(hours, 24) + 3) % 7).astype(float)
    hour = (hours % 24).astype(float)
    weekend = (weekday >= 5).astype(float)
    return {name: np.where(missing, np.nan, values) for name, values in (("submit_hour", hour), ("submit_weekday", weekday), ("submit_is_weekend", weekend))}


def calendar_features(jobs: pd.DataFrame) -> pd.DataFrame:
    """Hour of day, day of week and weekend flag of ``submit_time`` (UTC)."""
    ns = jobs["submit_time"].dt.tz_convert("UTC").astype("datetime64[ns, UTC]").array.asi8
    return pd.DataFrame(calendar_arrays(ns), index=jobs.index)
