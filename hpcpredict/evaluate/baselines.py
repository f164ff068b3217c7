"""Baselines a model must beat: the heuristics a scheduler really has, from what it knows at submit.

- the requested limit;
- Tsafrir's user last-2 (mean runtime of the user's last two jobs that ENDED before this
  submission), over any finished job and over completed jobs only;
- the ALEA ratio family: the job's limit times the max or mean runtime/limit ratio of the user's
  last k = 2 or 5 ended jobs (the limit for a user with none);
- per-user and per-application medians of the training window.

The online ones (limit, last-2, ALEA) read the history features of :mod:`hpcpredict.features.history`,
which only see jobs ended before each submission; the medians see only ``history``, the rows the
model was trained on. A baseline is NaN where it cannot predict (no limit, no history): it is scored
on the jobs it can predict, never given a value it does not have.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..features.history import RATIO_WINDOWS

__all__ = ["BASELINES", "baseline_predictions"]

#: Baseline name → what it predicts.
BASELINES = {
    "requested_limit": "the user's requested time limit",
    "user_last2": "mean of the user's last two finished runtimes (Tsafrir et al.), capped at the limit; the limit when there is no history",
    "user_last2_completed": "user_last2 over COMPLETED jobs only",
    **{
        f"alea_last{k}_{agg}": f"the limit x the {agg} runtime/limit ratio of the user's last {k} ended jobs (ALEA); the limit when there is none"
        for k in RATIO_WINDOWS
        for agg in ("max", "mean")
    },
    "user_median": "median runtime of the user's jobs in the training window; the limit for a new user",
    "app_median": "median target of the application's jobs in the training window; the limit (or the training median) for a new application (absent when no job names an application)",
    "training_median": "median target of all training jobs (targets other than runtime)",
}

#: Online runtime baselines → the history feature they read.
_FROM_HISTORY = {
    "user_last2": "user_last2_mean_s",
    "user_last2_completed": "user_last2_completed_mean_s",
    **{f"alea_last{k}_{agg}": f"user_alea_last{k}_{agg}_s" for k in RATIO_WINDOWS for agg in ("max", "mean")},
}


def baseline_predictions(
    table: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    target: str = "runtime_s",
    app: str | None = "app",
) -> dict[str, np.ndarray]:
    """Each baseline's prediction for every row of ``table`` (NaN where it has none).

    Parameters
    ----------
    table : DataFrame
        The jobs to predict (features table rows).
    history : DataFrame, optional
        Training rows (known before the test jobs) for the per-user and per-application medians;
        without it only the request- and history-feature baselines are computed.
    target : str
        The predicted column. Runtime baselines exist only for ``runtime_s``; they are capped at
        the time limit and fall back to it.
    app : str, optional
        The application column.

    Examples
    --------
    >>> t = pd.DataFrame({"time_limit_s": [100.0, np.nan], "user_last2_mean_s": [500.0, 30.0]})
    >>> baseline_predictions(t)["user_last2"].tolist()
    [100.0, 30.0]
    """
    runtime = target == "runtime_s"
    out: dict[str, np.ndarray] = {}
    nan = np.full(len(table), np.nan)
    limit = pd.to_numeric(table["time_limit_s"], errors="coerce").where(lambda s: s > 0).to_numpy(float) if "time_limit_s" in table.columns else nan
    if runtime:
        out["requested_limit"] = limit
        for name, column in _FROM_HISTORY.items():  # a column left out of the table was empty: no history anywhere
            history_value = pd.to_numeric(table[column], errors="coerce").to_numpy(float) if column in table.columns else nan
            out[name] = _capped(history_value, limit)
    if history is not None and len(history):
        y = pd.to_numeric(history[target], errors="coerce")
        fallback = limit if runtime else np.full(len(table), float(y.median()))
        if runtime and "user" in table.columns and "user" in history.columns:
            out["user_median"] = _group_median(table, history, "user", y, fallback, limit)
        if app is not None and app in table.columns and app in history.columns and history[app].notna().any():
            out["app_median"] = _group_median(table, history, app, y, fallback, limit if runtime else None)
        if not runtime:
            out["training_median"] = np.full(len(table), float(y.median()))
    if runtime:
        out = {name: np.maximum(pred, 1.0) for name, pred in out.items()}  # NaN stays NaN
    return out


def _capped(pred: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """``pred`` capped at the limit where there is one; the limit where ``pred`` is missing."""
    capped = np.where(np.isfinite(limit), np.fmin(pred, limit), pred)
    return np.where(np.isfinite(capped), capped, limit)


def _group_median(table, history, key, y, fallback, limit) -> np.ndarray:
    medians = y.groupby(history[key].astype("string"), observed=True).median()
    pred = table[key].astype("string").map(medians).to_numpy(dtype=float, na_value=np.nan)
    if limit is not None:
        pred = np.where(np.isfinite(limit), np.fmin(pred, limit), pred)
    return np.where(np.isfinite(pred), pred, fallback)
