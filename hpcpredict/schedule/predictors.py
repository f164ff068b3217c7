"""The runtime predictors a replay can plan with: limit, last-2, ALEA ratio, a trained model, oracle.

The heuristics are the baselines of :mod:`hpcpredict.evaluate.baselines`, fed with the history
each job had at its submission in the real trace (only jobs that had ended by then). A model
predicts from the features its bundle defines, built from the same jobs table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .workload import Workload

__all__ = ["PREDICTORS", "Prediction", "predict_workload"]

#: Predictor name → what it plans with.
PREDICTORS = {
    "limit": "the requested time limit (what EASY does)",
    "last2": "mean of the user's last two finished runtimes, capped at the limit (Tsafrir et al. 2007)",
    "alea": "the limit times the user's mean runtime/limit ratio over recent finished jobs (ALEA's ratio family)",
    "model:PATH": "a trained hpcpredict model bundle",
    "oracle": "the real runtime (perfect predictions)",
}


@dataclass(frozen=True)
class Prediction:
    """Predicted runtimes for a workload, and from which job on they are fair to score.

    ``measured_from_s`` is the end of a model's training window (seconds from the workload's
    origin): jobs before it were seen in training, so their figures would flatter the model.
    """

    name: str
    runtime_s: np.ndarray
    measured_from_s: float | None = None


def predict_workload(workload: Workload, predictor: str) -> Prediction:
    """Each job's predicted runtime under ``predictor`` (one of :data:`PREDICTORS`).

    Examples
    --------
    >>> from hpcpredict.schedule import workload_from_jobs
    >>> jobs = pd.DataFrame({"job_id": ["1", "2", "3"], "user": ["u", "u", "u"],
    ...     "submit_time": pd.to_datetime([0, 10, 500], unit="s", utc=True),
    ...     "start_time": pd.to_datetime([0, 10, 500], unit="s", utc=True),
    ...     "end_time": pd.to_datetime([100, 310, 600], unit="s", utc=True),
    ...     "runtime_s": [100.0, 300.0, 100.0], "time_limit_s": [1000.0, 1000.0, 1000.0], "req_nodes": [1, 1, 1]})
    >>> predict_workload(workload_from_jobs(jobs, nodes=2), "last2").runtime_s.tolist()
    [1000.0, 1000.0, 200.0]
    """
    if predictor == "oracle":
        return Prediction(predictor, workload.runtime_s.copy())
    if predictor.startswith("model:"):
        return _model(workload, predictor)
    if predictor not in ("limit", "last2", "alea"):
        raise ParameterError("predictor", f"one of {', '.join(PREDICTORS)}", predictor)
    baselines = _baselines(workload)
    return Prediction(predictor, baselines[predictor])


def _baselines(workload: Workload) -> dict[str, np.ndarray]:
    from ..evaluate.baselines import baseline_predictions
    from ..features.history import history_features

    jobs = workload.jobs
    history = history_features(_with_app(jobs))
    table = pd.concat([jobs[["user", "time_limit_s"]].reset_index(drop=True), history.reset_index(drop=True)], axis=1)
    limit = workload.limit_s
    table["time_limit_s"] = limit
    found = baseline_predictions(table)
    ratio = pd.to_numeric(history.get("user_ratio_last10"), errors="coerce").to_numpy(float) if "user_ratio_last10" in history else np.full(len(jobs), np.nan)
    alea = next((v for k, v in found.items() if "alea" in k), None)
    if alea is None:
        alea = np.where(np.isfinite(ratio), np.fmin(limit * np.clip(ratio, 0.0, 1.0), limit), limit)
    return {"limit": limit, "last2": found.get("user_last2", limit), "alea": alea}


def _with_app(jobs: pd.DataFrame) -> pd.DataFrame:
    return jobs if "app" in jobs.columns else jobs.assign(app=pd.NA)


def _model(workload: Workload, predictor: str) -> Prediction:
    from ..features import build_features
    from ..model import RuntimeModel

    bundle = RuntimeModel.load(predictor.split(":", 1)[1])
    table = build_features(workload.jobs, None, horizon=bundle.horizon, names=bundle.feature_names)
    runtime = bundle.predict(table)
    window = bundle.manifest_.training_window
    end = pd.Timestamp(window["end"]) if window.get("end") is not None else None
    if end is not None:
        end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    measured_from = (end - workload.origin).total_seconds() if end is not None else None
    return Prediction(predictor, np.asarray(runtime, dtype=float), measured_from)
