"""Queue-state features: how busy the scheduler was at a job's submit or start moment.

An event sweep: each job enters the queue at ``submit_time``, leaves it at ``start_time`` (or at
``end_time`` when it never started, e.g. cancelled while pending), and runs from ``start_time`` to
``end_time``. The event times are sorted once with cumulative sums of their weights; the state at
moment ``h`` is two ``searchsorted`` lookups, counting only events strictly before ``h``. The job
itself is left out (at its start it is still "queued" until that very moment).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._samples import to_seconds
from .registry import register

__all__ = ["queue_features"]

_QUANTITIES = {
    "running_jobs": "jobs running",
    "queued_jobs": "jobs waiting in the queue",
    "queued_node_hours": "node-hours requested (nodes x time limit) by the jobs waiting",
    "busy_nodes": "nodes allocated to running jobs",
}
for _h in ("submit", "start"):
    for _q, _text in _QUANTITIES.items():
        register(f"queue_{_q}_at_{_h}", "queue", _h, f"{_text} just before {_h}")


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
