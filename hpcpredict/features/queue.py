"""Queue-state features: how busy the scheduler was at a job's submit or start moment.

An event sweep: each job enters the queue at ``submit_time``, leaves it at ``start_time`` (or at
``end_time`` when it never started, e.g. cancelled while pending), and runs from ``start_time`` to
``end_time``. The event times are sorted once with cumulative sums of their weights; the state at
moment ``h`` is two ``searchsorted`` lookups, counting only events strictly before ``h``. The job
itself is left out (at its start it is still "queued" until that very moment).

The same sweep per user (:func:`user_queue_features`) counts the user's own jobs running and
waiting just before each submission: one sort by (user, time), two lookups per job.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._per_key import KeyedEvents, key_codes
from ._samples import to_seconds
from .registry import register

__all__ = ["USER_QUEUE_FEATURES", "queue_features", "user_queue_features"]

_QUANTITIES = {
    "running_jobs": "jobs running",
    "queued_jobs": "jobs waiting in the queue",
    "queued_node_hours": "node-hours requested (nodes x time limit) by the jobs waiting",
    "busy_nodes": "nodes allocated to running jobs",
}
for _h in ("submit", "start"):
    for _q, _text in _QUANTITIES.items():
        register(f"queue_{_q}_at_{_h}", "queue", _h, f"{_text} just before {_h}")

#: The user's own jobs in flight: queue features whose value depends on the job's user.
USER_QUEUE_FEATURES = ("queue_user_running_jobs_at_submit", "queue_user_queued_jobs_at_submit")
register(USER_QUEUE_FEATURES[0], "queue", "submit", "the user's own jobs running just before submit", optional="user-activity")
register(USER_QUEUE_FEATURES[1], "queue", "submit", "the user's own jobs waiting in the queue just before submit", optional="user-activity")


class _Counter:
    """Weighted count of events strictly before a moment."""

    def __init__(self, times: np.ndarray, weights: np.ndarray) -> None:
        keep = ~np.isnan(times)
        order = np.argsort(times[keep], kind="stable")
        self.times = times[keep][order]
        self.cum = np.concatenate([[0.0], np.cumsum(weights[keep][order])])

    def before(self, h: np.ndarray) -> np.ndarray:
        return self.cum[np.searchsorted(self.times, h, side="left")]


def queue_features(jobs: pd.DataFrame, *, horizon: str) -> pd.DataFrame:
    """Running and queued jobs, queued node-hours and busy nodes just before ``horizon``.

    Parameters
    ----------
    jobs : DataFrame
        Canonical jobs table.
    horizon : {"submit", "start"}
        The moment: ``submit_time`` or ``start_time`` of each job.

    Returns
    -------
    DataFrame
        ``queue_<quantity>_at_<horizon>``, aligned with ``jobs.index``; NaN where the moment is
        unknown. Nodes are ``alloc_nodes`` (else ``req_nodes``, else 1) for running jobs and
        ``req_nodes`` (else 1) for queued ones; a missing time limit adds no node-hours.

    Examples
    --------
    >>> queue_features(jobs, horizon="submit")["queue_queued_jobs_at_submit"].max()  # doctest: +SKIP
    41.0
    """
    submit, start, end, leave, ran_end = _intervals(jobs)
    req = jobs["req_nodes"].astype("float64").fillna(1.0).to_numpy()
    alloc = jobs["alloc_nodes"].astype("float64").fillna(jobs["req_nodes"].astype("float64")).fillna(1.0).to_numpy()
    node_hours = req * jobs["time_limit_s"].astype("float64").fillna(0.0).to_numpy() / 3600.0
    ones = np.ones(len(jobs))
    h = submit if horizon == "submit" else start
    valid = ~np.isnan(h)
    hq = np.where(valid, h, -np.inf)
    out = pd.DataFrame(index=jobs.index)
    with np.errstate(invalid="ignore"):
        self_queued = (submit < h) & ~(leave < h)
        self_running = (start < h) & ~(ran_end < h)
    for name, (enter, exit_, weight, own) in {
        "running_jobs": (start, ran_end, ones, self_running),
        "queued_jobs": (submit, leave, ones, self_queued),
        "queued_node_hours": (submit, leave, node_hours, self_queued),
        "busy_nodes": (start, ran_end, alloc, self_running),
    }.items():
        value = _Counter(enter, weight).before(hq) - _Counter(exit_, weight).before(hq) - np.where(own, weight, 0.0)
        out[f"queue_{name}_at_{horizon}"] = np.where(valid, value, np.nan)
    return out


def _intervals(jobs: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Seconds of submit, start, end, leaving the queue and leaving the machine, per job."""
    submit, start, end = (to_seconds(jobs[c]) for c in ("submit_time", "start_time", "end_time"))
    leave = np.where(np.isnan(start), end, start)  # a job cancelled while pending leaves at its end
    # still waiting (no start, no end) → never leaves; np.fmax alone would turn NaN into submit
    leave = np.where(np.isnan(submit) | np.isnan(leave), np.nan, np.fmax(leave, submit))
    ran_end = np.where(np.isnan(start), np.nan, end)
    return submit, start, end, leave, ran_end


def user_queue_features(jobs: pd.DataFrame) -> pd.DataFrame:
    """The user's own jobs running and waiting just before each submission.

    A user with many jobs in flight is often running a campaign of copies of one job. Same
    semantics as :func:`queue_features` (events strictly before the moment, the job itself left
    out), counted over the jobs of the same user only.

    Returns
    -------
    DataFrame
        :data:`USER_QUEUE_FEATURES`, aligned with ``jobs.index``; NaN where the job has no user or
        no submit time, 0 for a user with nothing else in flight.

    Examples
    --------
    >>> t = lambda s: pd.Timestamp(s, unit="s", tz="UTC")
    >>> jobs = pd.DataFrame({"user": ["a", "a", "b", "a"], "submit_time": [t(0), t(10), t(20), t(30)],
    ...     "start_time": [t(5), pd.NaT, t(25), pd.NaT], "end_time": [t(100), pd.NaT, t(90), pd.NaT]})
    >>> user_queue_features(jobs).loc[3].tolist()  # job 0 running, job 1 waiting; b's job not a's
    [1.0, 1.0]
    """
    submit, start, _, leave, ran_end = _intervals(jobs)
    codes = key_codes(jobs["user"]) if "user" in jobs.columns else np.full(len(jobs), -1, dtype=np.int64)
    out = pd.DataFrame(index=jobs.index)
    with np.errstate(invalid="ignore"):
        # a job is never queued before its own submission, and runs before it only in a bad record
        own = {"running": (start < submit) & ~(ran_end < submit), "queued": np.zeros(len(jobs), bool)}
    for name, (kind, (enter, exit_)) in zip(USER_QUEUE_FEATURES, {"running": (start, ran_end), "queued": (submit, leave)}.items()):
        out[name] = KeyedEvents(codes, enter).count_before(codes, submit) - KeyedEvents(codes, exit_).count_before(codes, submit) - own[kind]
    return out
