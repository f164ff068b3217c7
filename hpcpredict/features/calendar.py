"""Calendar features of the submit time: daily and weekly cycles of load and behaviour."""

from __future__ import annotations

import pandas as pd

from .registry import register

__all__ = ["calendar_features"]

register("submit_hour", "calendar", "submit", "hour of day at submission (UTC)")
register("submit_weekday", "calendar", "submit", "day of week at submission (0 = Monday)")
register("submit_is_weekend", "calendar", "submit", "submitted on a weekend")


def calendar_features(jobs: pd.DataFrame) -> pd.DataFrame:
    """Hour of day, day of week and weekend flag of ``submit_time`` (UTC)."""
    submit = jobs["submit_time"]
    return pd.DataFrame(
        {
            "submit_hour": submit.dt.hour.astype("float64"),
            "submit_weekday": submit.dt.day_of_week.astype("float64"),
            "submit_is_weekend": (submit.dt.day_of_week >= 5).astype("float64").where(submit.notna()),
        },
        index=jobs.index,
    )
