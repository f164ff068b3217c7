"""Baselines a model must beat, computed on the same jobs from information the scheduler has.

History-based baselines (per-user and per-application medians) see only ``history``: the rows the
model was trained on, which had ended before the first test job. They never peek at test jobs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BASELINES", "baseline_predictions"]

#: Baseline name → what it predicts.
BASELINES = {
    "requested_limit": "the user's requested time limit",
    "user_last2": "mean of the user's last two finished runtimes (Tsafrir et al.); the limit when there is no history",
    "user_median": "median runtime of the user's jobs in the training window; the limit for a new user",
    "app_median": "median target of the application's jobs in the training window; the limit (or the training median) for a new application (absent when no job names an application)",
    "training_median": "median target of all training jobs (targets other than runtime)",
}


def baseline_predictions(
    table: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    target: str = "runtime_s",
    app: str | None = "app",
) -> dict[str, np.ndarray]:
    """Each baseline's prediction for every row of ``table``.

    Parameters
    ----------
    table : DataFrame
        The jobs to predict (features table rows).
    history : DataFrame, optional
        Training rows (known before the test jobs) for the per-user and per-application medians;
        without it only the request-based baselines are computed.
    target : str
        The predicted column. Runtime baselines (limit, last-2) exist only for ``runtime_s``;
        they are capped at the time limit and fall back to it.
    app : str, optional
        The application column.

    Examples
    --------
    >>> t = pd.DataFrame({"time_limit_s": [100.0], "user_last2_mean_s": [500.0]})
    >>> baseline_predictions(t)["user_last2"].tolist()
    [100.0]
    """
    runtime = target == "runtime_s" and "time_limit_s" in table.columns
    out: dict[str, np.ndarray] = {}
    limit = pd.to_numeric(table["time_limit_s"], errors="coerce").to_numpy(float) if runtime else None
    if runtime:
        out["requested_limit"] = limit
        if "user_last2_mean_s" in table.columns:
            last2 = pd.to_numeric(table["user_last2_mean_s"], errors="coerce").to_numpy(float)
            capped = np.where(np.isfinite(limit), np.fmin(last2, limit), last2)
            out["user_last2"] = np.where(np.isfinite(capped), capped, limit)
    if history is not None and len(history):
        y = pd.to_numeric(history[target], errors="coerce")
        fallback = limit if runtime else np.full(len(table), float(y.median()))
        if runtime and "user" in table.columns and "user" in history.columns:
            out["user_median"] = _group_median(table, history, "user", y, fallback, limit)
        if app is not None and app in table.columns and app in history.columns and history[app].notna().any():
            out["app_median"] = _group_median(table, history, app, y, fallback, limit)
        if not runtime:
            out["training_median"] = np.full(len(table), float(y.median()))
    if runtime:
        out = {name: np.maximum(pred, 1.0) for name, pred in out.items()}
    return out


def _group_median(table, history, key, y, fallback, limit) -> np.ndarray:
    medians = y.groupby(history[key].astype("string"), observed=True).median()
    pred = table[key].astype("string").map(medians).to_numpy(dtype=float, na_value=np.nan)
    if limit is not None:
        pred = np.where(np.isfinite(limit), np.fmin(pred, limit), pred)
    return np.where(np.isfinite(pred), pred, fallback)
