"""Baselines a model must beat, computed on the same jobs from information the scheduler has."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BASELINES", "baseline_predictions"]

#: Baseline name → what it predicts.
BASELINES = {
    "requested_limit": "the user's requested time limit",
    "user_last2": "mean of the user's last two finished runtimes (Tsafrir et al.); the limit when there is no history",
}


def baseline_predictions(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each baseline's runtime prediction for every row of a feature table.

    ``user_last2`` uses the ``user_last2_mean_s`` history feature (jobs that ended before the
    submission) capped at the time limit, as Tsafrir's predictor is; a user without finished
    jobs falls back to the requested limit.
    """
    limit = pd.to_numeric(table["time_limit_s"], errors="coerce").to_numpy(float)
    out = {"requested_limit": limit}
    if "user_last2_mean_s" in table.columns:
        last2 = pd.to_numeric(table["user_last2_mean_s"], errors="coerce").to_numpy(float)
        capped = np.where(np.isfinite(limit), np.fmin(last2, limit), last2)
        out["user_last2"] = np.where(np.isfinite(capped), capped, limit)
    return {name: np.maximum(pred, 1.0) for name, pred in out.items()}
