"""Accuracy metrics of runtime predictions, as schedulers and the literature report them."""

from __future__ import annotations

import numpy as np

__all__ = ["METRICS", "accuracy", "average_accuracy", "interval_coverage", "score", "target_unit"]


def accuracy(pred: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Each prediction's accuracy min(p, a) / max(p, a): 1 is exact, symmetric in over- and underestimation.

    Examples
    --------
    >>> accuracy(np.array([50.0, 100.0]), np.array([100.0, 100.0])).tolist()
    [0.5, 1.0]
    """
    p, a = np.asarray(pred, float), np.asarray(actual, float)
    return np.minimum(p, a) / np.maximum(p, a)


def average_accuracy(pred: np.ndarray, actual: np.ndarray) -> float:
    """Mean of :func:`accuracy`: 1 is perfect.

    Examples
    --------
    >>> average_accuracy(np.array([50.0, 100.0]), np.array([100.0, 100.0]))
    0.75
    """
    return float(np.mean(accuracy(pred, actual)))


def score(pred: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """All metrics of :data:`METRICS` for predictions ``pred`` of positive ``actual`` values.

    MAE and median absolute error are in the target's units (seconds for runtime); MAPE and
    median APE in percent; ``r2_log`` is R² of log(1 + value); ``underestimation_rate`` is the
    share of jobs predicted shorter than they ran (a backfilling scheduler's costly error).
    """
    p, a = np.asarray(pred, float), np.asarray(actual, float)
    if len(a) == 0:
        return {"n": 0, **{m: float("nan") for m in METRICS if m != "interval_coverage"}}
    err = np.abs(p - a)
    ape = err / a * 100.0
    lp, la = np.log1p(np.maximum(p, 0)), np.log1p(a)
    ss_tot = float(np.sum((la - la.mean()) ** 2))
    return {
        "n": int(len(a)),
        "mae": float(err.mean()),
        "median_ae": float(np.median(err)),
        "mape": float(ape.mean()),
        "median_ape": float(np.median(ape)),
        "r2_log": float(1.0 - np.sum((la - lp) ** 2) / ss_tot) if ss_tot > 0 else float("nan"),
        "underestimation_rate": float(np.mean(p < a)),
        "average_accuracy": average_accuracy(np.maximum(p, 1e-9), a),
    }


def interval_coverage(low: np.ndarray, high: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """Share of actual values inside [low, high] (0.8 is the target for p10–p90), and the median width.

    Examples
    --------
    >>> interval_coverage(np.array([1.0, 1.0]), np.array([3.0, 3.0]), np.array([2.0, 5.0]))["interval_coverage"]
    0.5
    """
    lo, hi, a = (np.asarray(v, float) for v in (low, high, actual))
    return {"interval_coverage": float(np.mean((a >= lo) & (a <= hi))), "interval_median_width": float(np.median(hi - lo))}


#: Metric names in report order, with how they read.
METRICS = {
    "mae": "MAE (s)",
    "median_ae": "median AE (s)",
    "mape": "MAPE (%)",
    "median_ape": "median APE (%)",
    "r2_log": "R² (log)",
    "underestimation_rate": "under-est. rate",
    "average_accuracy": "avg. accuracy",
    "interval_coverage": "p10–p90 coverage",
}


def target_unit(target: str) -> str:
    """The unit a target column's name carries (``runtime_s`` → ``s``), or ``""`` when it names none.

    Errors in absolute terms (MAE, median AE) are in this unit: a bandwidth in MiB/s is not "(s)".

    Examples
    --------
    >>> target_unit("runtime_s"), target_unit("read_bytes_per_s"), target_unit("darshan_agg_perf_by_slowest_posix")
    ('s', 'bytes/s', '')
    """
    for suffix, unit in (("_bytes_per_s", "bytes/s"), ("_per_s", "/s"), ("_bytes", "bytes"), ("_s", "s")):
        if target.endswith(suffix):
            return unit
    return ""
