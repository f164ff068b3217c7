"""Start-time prediction: when will each pending job start?

The running jobs end at their predicted runtimes (a prediction they have already outlived grows as
in the replay), and the pending jobs are planned in priority order into the availability profile,
each at the earliest moment enough resources stay free for its predicted runtime — what Slurm's
backfill scheduler does for ``squeue --start``, except that Slurm plans with the requested limits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .policies import grown_prediction
from .profile import Profile

__all__ = ["plan_starts", "queue_start_times"]


def plan_starts(
    now: float,
    *,
    capacity: int,
    running_start_s,
    running_size,
    running_predicted_s,
    running_limit_s=None,
    pending_size,
    pending_predicted_s,
) -> np.ndarray:
    """Planned start of each pending job (seconds, same clock as ``now``), in the order given.

    Parameters
    ----------
    now : float
        The planning moment.
    capacity : int
        Resources of the machine (nodes or processors, as the sizes).
    running_start_s, running_size, running_predicted_s : array-like
        Each running job's start, size and predicted total runtime.
    running_limit_s : array-like, optional
        Their limits (cap of a grown prediction); unbounded when not given.
    pending_size, pending_predicted_s : array-like
        The pending jobs, highest priority first.

    Returns
    -------
    ndarray
        One planned start per pending job, never before ``now``.

    Examples
    --------
    >>> plan_starts(0.0, capacity=4, running_start_s=[-50.0], running_size=[3], running_predicted_s=[150.0],
    ...             pending_size=[4, 1, 2], pending_predicted_s=[60.0, 30.0, 500.0]).tolist()
    [100.0, 0.0, 160.0]
    """
    start = np.asarray(running_start_s, dtype=float)
    predicted = np.asarray(running_predicted_s, dtype=float)
    limit = np.full(len(start), np.inf) if running_limit_s is None else np.asarray(running_limit_s, dtype=float)
    elapsed = now - start
    predicted = np.where(start + predicted <= now, grown_prediction(elapsed, limit), predicted)
    profile = Profile(now, capacity, zip((start + predicted).tolist(), np.asarray(running_size, dtype=int).tolist()))
    sizes = np.asarray(pending_size, dtype=int)
    runtimes = np.maximum(np.asarray(pending_predicted_s, dtype=float), 1.0)
    out = np.empty(len(sizes))
    for k, (size, runtime) in enumerate(zip(sizes.tolist(), runtimes.tolist())):
        size = min(size, capacity)  # a job larger than the machine would never fit: plan it as the whole machine
        out[k] = profile.earliest(size, runtime)
        profile.reserve(out[k], runtime, size)
    return out


def queue_start_times(model, predictions: pd.DataFrame, pending: pd.DataFrame, jobs: pd.DataFrame | None, *, nodes: int, at) -> pd.DataFrame:
    """Add each pending job's expected start to the queue predictions of :func:`~hpcpredict.queue.predict_queued`.

    The jobs running at ``at`` (started, not ended, in ``jobs``) end at their predicted runtimes
    (predicted by ``model`` from what is known at ``at``); the pending jobs are planned by priority
    (a ``priority`` column, highest first, else submission order) with their predictions.

    Parameters
    ----------
    model : RuntimeModel
        The model that made ``predictions``.
    predictions : DataFrame
        ``predict_queued`` output (``job_id``, ``predicted_runtime_s``, ``time_limit_s``).
    pending : DataFrame
        The pending jobs (canonical rows, same order as ``predictions``) with their sizes.
    jobs : DataFrame, optional
        The jobs table giving the running jobs.
    nodes : int
        Machine size, in nodes when the jobs carry node counts, else processors.
    at : time
        The moment planned from.

    Returns
    -------
    DataFrame
        ``predictions`` with ``expected_start`` and ``expected_wait_s`` (planned with the
        predictions) and ``limit_based_start`` (planned with the requested limits, as
        ``squeue --start`` does).
    """
    from ..errors import ParameterError
    from ..queue import predict_queued
    from ..queue.state import as_of
    from .workload import job_sizes

    if nodes is None or nodes < 1:
        raise ParameterError("nodes", "the machine size (a positive number) for start times", nodes)
    at = pd.Timestamp(at)
    running = pd.DataFrame(columns=pending.columns)
    if jobs is not None and len(jobs):
        known = as_of(jobs, at)
        running = known.loc[(known["state"] == "RUNNING") & known["start_time"].notna()].reset_index(drop=True)
    _, sizes = job_sizes(pd.concat([running, pending], ignore_index=True), missing=1)
    run_size, pend_size = sizes[: len(running)], sizes[len(running):]
    run_pred = (
        predict_queued(model, running.assign(state="PENDING"), jobs, at=at, reasons=0)["predicted_runtime_s"].to_numpy(float)
        if len(running)
        else np.empty(0)
    )
    run_start = (running["start_time"] - at).dt.total_seconds().to_numpy(float) if len(running) else np.empty(0)
    run_limit = pd.to_numeric(running.get("time_limit_s"), errors="coerce").to_numpy(float) if len(running) else np.empty(0)
    run_limit = np.where(np.isfinite(run_limit), run_limit, np.inf)
    order = _priority_order(pending)
    limit = pd.to_numeric(predictions["time_limit_s"], errors="coerce").to_numpy(float)
    planned = {}
    for name, runtime, running_runtime in (
        ("expected", predictions["predicted_runtime_s"].to_numpy(float), run_pred),
        ("limit_based", np.where(np.isfinite(limit), limit, predictions["predicted_runtime_s"].to_numpy(float)), np.where(np.isfinite(run_limit), run_limit, run_pred)),
    ):
        starts = plan_starts(0.0, capacity=int(nodes), running_start_s=run_start, running_size=run_size, running_predicted_s=running_runtime,
                             running_limit_s=run_limit, pending_size=pend_size[order], pending_predicted_s=runtime[order])
        planned[name] = np.empty(len(order))
        planned[name][order] = starts
    out = predictions.copy()
    out["expected_start"] = at + pd.to_timedelta(planned["expected"], unit="s")
    out["expected_wait_s"] = planned["expected"]
    out["limit_based_start"] = at + pd.to_timedelta(planned["limit_based"], unit="s")
    return out


def _priority_order(pending: pd.DataFrame) -> np.ndarray:
    if "priority" in pending.columns and pd.to_numeric(pending["priority"], errors="coerce").notna().any():
        key = -pd.to_numeric(pending["priority"], errors="coerce").fillna(-np.inf).to_numpy(float)
        return np.lexsort((np.arange(len(pending)), key))
    submit = pd.to_datetime(pending["submit_time"], utc=True).to_numpy(dtype="datetime64[ns]").astype("int64")
    return np.lexsort((np.arange(len(pending)), submit))
