"""The event-driven replay: submissions and job ends, in time order, and a scheduling pass at each.

Jobs run their real runtimes (cut at their limit, where they are killed); the scheduler only ever
sees the predicted runtimes. Time jumps from one event to the next (a heap of job ends and the
sorted submissions), so the cost grows with the number of jobs and the queue, not the trace's span.
A prediction that a running job outlives is extended (:func:`~.policies.extend_predictions`) at the
next scheduling pass.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .policies import POLICIES, conservative_pass, easy_pass, extend_predictions
from .workload import Workload

__all__ = ["ScheduleRun", "replay_schedule"]


@dataclass(frozen=True)
class ScheduleRun:
    """What one replay did to every job (arrays aligned with the workload's jobs).

    Attributes
    ----------
    predictor, policy : str
        What planned the schedule.
    start_s : ndarray
        When each job started (seconds from the workload's origin).
    first_reservation_s : ndarray
        The first start the scheduler promised the job when it could not start at once (NaN if it
        never had to wait for a reservation).
    backfilled : ndarray of bool
        Started ahead of an earlier-submitted job that was still waiting.
    predicted_s : ndarray
        The prediction the scheduler planned with at submission (capped at the limit).
    """

    predictor: str
    policy: str
    workload: Workload
    start_s: np.ndarray
    first_reservation_s: np.ndarray
    backfilled: np.ndarray
    predicted_s: np.ndarray

    @property
    def wait_s(self) -> np.ndarray:
        return self.start_s - self.workload.submit_s

    @property
    def delayed_by_underestimate(self) -> np.ndarray:
        """Started later than first promised: only a running job outliving its prediction does that."""
        promised = self.first_reservation_s
        return np.isfinite(promised) & (self.start_s > promised + 1e-6)


class _State:
    """Per-job arrays the passes read and update (predictions grow, reservations are recorded)."""

    def __init__(self, workload: Workload, predicted: np.ndarray) -> None:
        n = len(workload)
        self.capacity = workload.machine_size
        self.size = workload.size
        self.limit_s = workload.limit_s
        self.pred_s = predicted.copy()
        self.start_s = np.full(n, np.nan)
        self.first_reservation_s = np.full(n, np.nan)
        self.reservation_s = np.full(n, np.nan)
        self.backfilled = np.zeros(n, dtype=bool)


def replay_schedule(workload: Workload, predicted_s, *, policy: str = "easy", predictor: str = "custom") -> ScheduleRun:
    """Replay the workload's submissions under a backfilling policy that plans with ``predicted_s``.

    Parameters
    ----------
    workload : Workload
        Jobs in submission order and the machine size.
    predicted_s : array-like
        One predicted runtime per job; NaN falls back to the limit. Predictions are cut to
        ``[1 s, limit]`` (a job is killed at its limit, so planning beyond it is pointless).
    policy : {"easy", "conservative"}
    predictor : str
        Name carried into the result.

    Returns
    -------
    ScheduleRun

    Examples
    --------
    >>> import pandas as pd
    >>> from hpcpredict.schedule import workload_from_jobs
    >>> jobs = pd.DataFrame({"job_id": ["a", "b", "c"], "submit_time": pd.to_datetime([0, 1, 2], unit="s", utc=True),
    ...                      "runtime_s": [100.0, 100.0, 10.0], "time_limit_s": [100.0, 100.0, 10.0], "req_nodes": [3, 4, 1]})
    >>> run = replay_schedule(workload_from_jobs(jobs, nodes=4), [100.0, 100.0, 10.0])
    >>> run.start_s.tolist()   # c backfills beside a; b waits for a
    [0.0, 100.0, 2.0]
    """
    if policy not in POLICIES:
        raise ParameterError("policy", f"one of {', '.join(POLICIES)}", policy)
    predicted = _planned_predictions(workload, np.asarray(predicted_s, dtype=float))
    state = _State(workload, predicted)
    scheduling_pass = easy_pass if policy == "easy" else conservative_pass
    submit, runtime, size = workload.submit_s, workload.runtime_s, workload.size
    n = len(workload)
    ends: list[tuple[float, int]] = []
    running: set[int] = set()
    queue = np.empty(0, dtype=np.int64)
    free = workload.machine_size
    i = 0
    while i < n or ends:
        now = min(submit[i] if i < n else np.inf, ends[0][0] if ends else np.inf)
        while ends and ends[0][0] <= now:
            _, job = heapq.heappop(ends)
            running.discard(job)
            free += int(size[job])
        j = i
        while j < n and submit[j] <= now:
            j += 1
        if j > i:
            queue = np.concatenate([queue, np.arange(i, j, dtype=np.int64)])
            i = j
        if not len(queue):
            continue
        run = np.fromiter(running, dtype=np.int64, count=len(running))
        extend_predictions(now, run, state)
        started = scheduling_pass(now, queue, run, free, state)
        if started:
            for job in started:
                state.start_s[job] = now
                running.add(job)
                free -= int(size[job])
                heapq.heappush(ends, (now + float(runtime[job]), job))
            queue = np.setdiff1d(queue, started, assume_unique=True)
    return ScheduleRun(
        predictor=predictor,
        policy=policy,
        workload=workload,
        start_s=state.start_s,
        first_reservation_s=state.first_reservation_s,
        backfilled=state.backfilled,
        predicted_s=predicted,
    )


def _planned_predictions(workload: Workload, predicted: np.ndarray) -> np.ndarray:
    if predicted.shape != (len(workload),):
        raise ParameterError("predicted_s", f"one prediction per job ({len(workload)})", f"{predicted.shape[0] if predicted.ndim else 'a scalar'} values")
    planned = np.where(np.isfinite(predicted), predicted, workload.limit_s)
    return np.clip(planned, 1.0, workload.limit_s)
