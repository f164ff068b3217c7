"""How well planned start times match the starts a real trace recorded.

At a job's submission the trace tells what was running (started, not yet ended) and what was
waiting ahead of it (submitted earlier, not yet started). Each predictor plans that queue
(:func:`~.starts.plan_starts`) and its planned start for the job is compared with the recorded one.
The ``limit`` planner is what ``squeue --start`` gives: the same planning with the requested limits.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .starts import plan_starts
from .workload import Workload

__all__ = ["START_TOLERANCE_FLOOR_S", "evaluate_start_predictions", "score_starts"]

#: "Within 10 %" of the real wait never asks for better than this (a 0 s wait has no 10 %).
START_TOLERANCE_FLOOR_S = 60.0


def evaluate_start_predictions(workload: Workload, predictions: Mapping[str, np.ndarray], *, samples: int | None = 2000, measured: np.ndarray | None = None) -> dict:
    """Predict each sampled job's start at its submission with every predictor; score against the trace.

    Parameters
    ----------
    workload : Workload
        A trace with recorded start times (``start_time`` in its jobs table).
    predictions : mapping of str to array
        Predictor name → predicted runtime per job (a predictor's runtime for a running job is
        the one made at that job's submission, grown if the job has outlived it).
    samples : int or None
        Jobs evaluated, evenly spread over the trace (None or 0: every job).
    measured : array of bool, optional
        Only these jobs are evaluated (e.g. after a model's training window).

    Returns
    -------
    dict
        ``jobs`` evaluated and, per predictor, :func:`score_starts`.
    """
    real_start = _recorded_starts(workload)
    real_end = real_start + workload.runtime_s
    eligible = np.flatnonzero(np.isfinite(real_start) & (True if measured is None else np.asarray(measured, dtype=bool)))
    if not len(eligible):
        raise ParameterError("jobs", "a trace with recorded start times", "none")
    if samples and len(eligible) > samples:
        eligible = eligible[np.linspace(0, len(eligible) - 1, samples).round().astype(int)]
    planned = {name: np.empty(len(eligible)) for name in predictions}
    for k, job in enumerate(eligible.tolist()):
        now = workload.submit_s[job]
        ahead = np.arange(job)
        running = ahead[(real_start[:job] <= now) & (real_end[:job] > now)]
        waiting = np.append(ahead[real_start[:job] > now], job)
        for name, runtime in predictions.items():
            planned[name][k] = plan_starts(
                now,
                capacity=workload.machine_size,
                running_start_s=real_start[running],
                running_size=workload.size[running],
                running_predicted_s=runtime[running],
                running_limit_s=workload.limit_s[running],
                pending_size=workload.size[waiting],
                pending_predicted_s=runtime[waiting],
            )[-1]
    submit = workload.submit_s[eligible]
    return {"jobs": len(eligible), "predictors": {name: score_starts(p - submit, real_start[eligible] - submit) for name, p in planned.items()}}


def score_starts(predicted_wait_s, real_wait_s) -> dict:
    """Mean absolute error and the share of jobs whose start is predicted within 10 % and 1 h.

    Examples
    --------
    >>> score_starts([0.0, 1000.0, 9000.0], [30.0, 1050.0, 3000.0])
    {'mae_s': 2026.6666666666667, 'median_abs_error_s': 50.0, 'bias_s': 1973.3333333333333, 'within_10pct': 0.6666666666666666, 'within_1h': 0.6666666666666666}
    """
    predicted, real = np.asarray(predicted_wait_s, dtype=float), np.asarray(real_wait_s, dtype=float)
    error = predicted - real
    tolerance = np.maximum(0.1 * real, START_TOLERANCE_FLOOR_S)
    return {
        "mae_s": float(np.mean(np.abs(error))),
        "median_abs_error_s": float(np.median(np.abs(error))),
        "bias_s": float(np.mean(error)),
        "within_10pct": float(np.mean(np.abs(error) <= tolerance)),
        "within_1h": float(np.mean(np.abs(error) <= 3600.0)),
    }


def _recorded_starts(workload: Workload) -> np.ndarray:
    if "start_time" not in workload.jobs.columns:
        return np.full(len(workload), np.nan)
    start = pd.to_datetime(workload.jobs["start_time"], utc=True)
    return (start - workload.origin).dt.total_seconds().to_numpy(float, na_value=np.nan)
