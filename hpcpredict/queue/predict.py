"""Predict the runtime of jobs waiting in the queue, from what is known at one moment."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..errors import HpcPredictError, ParameterError
from ..features import build_features
from ..metadata import with_metadata
from ..model import RuntimeModel
from ..schema import conform_jobs
from .formats import read_queue
from .reasons import top_reasons
from .state import as_of, latest_time

__all__ = ["as_moment", "check_inputs", "known_submit_times", "predict_queued", "queued_features"]


def queued_features(bundle: RuntimeModel, pending: pd.DataFrame, jobs: pd.DataFrame | None = None, samples=None, at=None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Feature rows of the pending jobs, built by the offline feature code from the state at ``at``.

    Returns the rows (in the order of ``pending``) and the moment used.
    """
    check_inputs(bundle, jobs=jobs, samples=samples)
    if bundle.horizon == "table":
        return _table_rows(bundle, pending), as_moment(at) if at is not None else pd.Timestamp.now(tz="UTC")
    pending = conform_jobs(pending)
    history = conform_jobs(jobs) if jobs is not None else pending.iloc[:0]
    if at is None:
        at = latest_time(pd.concat([history, pending])) if len(history) or pending["submit_time"].notna().any() else pd.Timestamp.now(tz="UTC")
    at = as_moment(at)
    known = as_of(history, at)
    pending = pending.assign(submit_time=known_submit_times(pending, known).fillna(at))
    if (pending["submit_time"] > at).any():
        late = pending.loc[pending["submit_time"] > at, "job_id"].head(3).tolist()
        raise HpcPredictError(f"pending jobs {late} were submitted after --at {at}; they were not in the queue then")
    pending = pending.assign(state="PENDING", start_time=pd.NaT, end_time=pd.NaT, runtime_s=np.nan)
    known = known.loc[~known["job_id"].isin(set(pending["job_id"]))]
    combined = pd.concat([known, pending], ignore_index=True)
    table = build_features(combined, samples, horizon=bundle.horizon, names=bundle.feature_names)
    return table.iloc[len(known):].reset_index(drop=True), at


def known_submit_times(pending: pd.DataFrame, known: pd.DataFrame) -> pd.Series:
    """Each pending job's submit time: the scheduler's record where the known jobs hold the job.

    A job already waiting in the queue was submitted when the jobs table says, whatever time a
    queue file or a request gives it (asked again "now", or with no time at all): its features at
    submit are the state then, with the other jobs queued before it. Jobs the table does not
    know keep their own time (NaT where they have none).

    Examples
    --------
    >>> t = pd.Timestamp("2024-05-01T12:00", tz="UTC")
    >>> known = pd.DataFrame({"job_id": ["7"], "submit_time": [t]})
    >>> pending = pd.DataFrame({"job_id": ["7", "8"], "submit_time": [t + pd.Timedelta(hours=1), pd.NaT]})
    >>> known_submit_times(pending, known).tolist()
    [Timestamp('2024-05-01 12:00:00+0000', tz='UTC'), NaT]
    """
    recorded = known.dropna(subset=["submit_time"]).drop_duplicates("job_id", keep="last").set_index("job_id")["submit_time"]
    if recorded.empty:  # nothing known (a map onto no times would turn them into numbers)
        return pending["submit_time"]
    return pending["job_id"].map(recorded).fillna(pending["submit_time"])


def _table_rows(model: RuntimeModel, pending: pd.DataFrame) -> pd.DataFrame:
    """Queued jobs of a model trained on a bring-your-own table: its features are the queue's own columns."""
    missing = [n for n in model.feature_names if n not in pending.columns]
    if missing:
        raise HpcPredictError(f"the model was trained on a per-job table; the queue lacks its columns {missing}")
    return conform_jobs(pending).reset_index(drop=True)


def check_inputs(model: RuntimeModel, *, jobs, samples) -> None:
    """Refuse, in one line, a model that cannot predict queued jobs, or inputs its features need.

    Only a ``submit``-horizon model sees what a queued job has; history and queue features need
    the jobs table, system-state features the node samples.
    """
    if model.horizon == "table":
        return  # its features are the queue's own columns (checked by the rows)
    if model.horizon != "submit":
        later = [f.name for f in model.manifest_.features if f.horizon not in ("submit",)][:3]
        raise HpcPredictError(
            f"the model was trained for the {model.horizon!r} horizon (features such as {later} exist once a job starts); "
            "a queued job has only what is known at submission: train on `hpcpredict features --horizon submit`"
        )
    families = set(model.families.values())
    if jobs is None and families & {"history", "queue"}:
        raise HpcPredictError("the model uses users' history and the queue: give the jobs table with --jobs (jobs=)")
    if samples is None and any(f.startswith("system") for f in families):
        raise HpcPredictError("the model uses the system state from node monitoring: give the samples folder with --samples (samples=)")


def as_moment(at) -> pd.Timestamp:
    """``at`` as a UTC timestamp (naive times are UTC); a one-line ParameterError if it is not a time.

    Examples
    --------
    >>> as_moment("2024-05-01T12:00")
    Timestamp('2024-05-01 12:00:00+0000', tz='UTC')
    """
    try:
        moment = pd.Timestamp(at)
    except (ValueError, TypeError):
        moment = pd.NaT
    if moment is pd.NaT:
        raise ParameterError("at", "a date and time such as 2024-05-01T12:00 (ISO 8601, UTC unless it says otherwise)", at)
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def predict_queued(
    model: RuntimeModel | str | os.PathLike[str],
    pending: pd.DataFrame | str | os.PathLike[str],
    jobs: pd.DataFrame | str | os.PathLike[str] | None = None,
    samples=None,
    at=None,
    *,
    reasons: int = 3,
) -> pd.DataFrame:
    """Predict the runtime of each pending job from what was known at ``at``.

    Parameters
    ----------
    model : RuntimeModel or path
        A trained model (its horizon should be ``submit``).
    pending : DataFrame or path
        The queue: canonical rows or a file :func:`read_queue` reads.
    jobs : DataFrame or path, optional
        The jobs table that gives users' history and the system state; only what was known at
        ``at`` is used.
    samples : optional
        Node monitoring samples, for models with system-state features.
    at : time, optional
        The moment to predict at; default the latest time in ``jobs`` and ``pending``.
    reasons : int
        How many of the largest contributions to describe per job.

    Returns
    -------
    DataFrame
        Per job: ``job_id``, ``user``, ``time_limit_s``, ``predicted_runtime_s`` (the p50),
        ``predicted_p10_s`` and ``predicted_p90_s`` where the model has intervals,
        ``predicted_end_if_started_now`` and ``reasons`` (a list of short sentences).
    """
    from ..features.build import _read_table

    bundle = model if isinstance(model, RuntimeModel) else RuntimeModel.load(model)
    pending_df = pending if isinstance(pending, pd.DataFrame) else read_queue(pending)
    jobs_df = jobs if jobs is None or isinstance(jobs, pd.DataFrame) else _read_table(jobs)
    rows, at = queued_features(bundle, pending_df, jobs_df, samples, at)
    p50 = bundle.predict(rows) if len(rows) else np.empty(0)
    out = pd.DataFrame(
        {
            "job_id": rows["job_id"].astype(str),
            "user": rows["user"].astype("string"),
            "time_limit_s": pd.to_numeric(rows["time_limit_s"], errors="coerce"),
            "predicted_runtime_s": p50,
        }
    )
    intervals = _intervals(bundle, rows)
    for name, values in intervals.items():
        out[name] = values
    out["predicted_end_if_started_now"] = at + pd.to_timedelta(p50, unit="s")
    out["reasons"] = top_reasons(bundle, rows, k=reasons) if reasons and len(rows) else [[] for _ in range(len(rows))]
    return with_metadata(out, at=at)


def _intervals(bundle: RuntimeModel, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """p10/p90 columns when the model has intervals (``train(..., intervals=True)``)."""
    if not bundle.has_intervals or not len(rows):
        return {}
    bounds = bundle.predict_interval(rows)
    return {"predicted_p10_s": bounds[:, 0], "predicted_p90_s": bounds[:, -1]}
