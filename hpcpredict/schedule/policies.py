"""Scheduling passes: what EASY and conservative backfilling start at one moment.

Both serve jobs first-come first-served and plan with the *predicted* runtimes; jobs run their real
runtimes. A pass gets the queue (job indices in priority order) and the running jobs and returns
the jobs to start now, and records each queued job's first promised start (its reservation).

- **EASY** (Lifka 1995; Mu'alem & Feitelson 2001): start jobs in order while they fit; the first
  that does not fit gets a reservation at the *shadow time* (when enough running jobs are predicted
  to have ended); a later job may start now if it fits and either is predicted to end by the
  shadow time or uses only the *extra* resources the head job will not need.
- **Conservative**: every queued job gets a reservation in the availability profile, planned in
  the order of its current reservation (new jobs last, by priority), so a reservation never moves
  later unless a running job outlives its prediction; a job whose reservation is now starts.
"""

from __future__ import annotations

import numpy as np

from .profile import Profile

__all__ = ["EXTENSION_STEPS_S", "POLICIES", "conservative_pass", "easy_pass", "extend_predictions", "grown_prediction"]

#: A job still running at its predicted end gets the next of these runtimes (capped at its limit),
#: after Tsafrir, Etsion & Feitelson (TPDS 2007), who grow an underestimated prediction in steps.
EXTENSION_STEPS_S = np.array([60, 300, 900, 1800, 3600, 7200, 18000, 36000, 72000, 180000, 360000], dtype=float)

POLICIES = ("easy", "conservative")


def grown_prediction(elapsed_s, limit_s) -> np.ndarray:
    """The prediction of a job that has run ``elapsed_s`` and outlived its prediction.

    The smallest of :data:`EXTENSION_STEPS_S` above the elapsed time (twice the elapsed time beyond
    the last step), never above the limit, and always past the elapsed time.

    Examples
    --------
    >>> grown_prediction(np.array([200.0, 200.0, 400_000.0]), np.array([np.inf, 250.0, np.inf])).tolist()
    [300.0, 250.0, 800000.0]
    """
    elapsed = np.asarray(elapsed_s, dtype=float)
    idx = np.searchsorted(EXTENSION_STEPS_S, elapsed, side="right")
    step = np.where(idx < len(EXTENSION_STEPS_S), EXTENSION_STEPS_S[np.minimum(idx, len(EXTENSION_STEPS_S) - 1)], 2 * elapsed)
    # A job is killed at its limit, so it cannot outlive it: the limit is a safe cap.
    return np.maximum(np.minimum(step, limit_s), np.nextafter(elapsed, np.inf))


def extend_predictions(now: float, running: np.ndarray, state) -> None:
    """Give each running job that has outlived its predicted runtime the next step up (:func:`grown_prediction`)."""
    expired = state.start_s[running] + state.pred_s[running] <= now
    if expired.any():
        jobs = running[expired]
        state.pred_s[jobs] = grown_prediction(now - state.start_s[jobs], state.limit_s[jobs])


def easy_pass(now: float, queue: np.ndarray, running: np.ndarray, free: int, state) -> list[int]:
    """Jobs EASY starts at ``now``; records the head job's reservation (shadow time)."""
    size, pred = state.size, state.pred_s
    started: list[int] = []
    k = 0
    while k < len(queue) and size[queue[k]] <= free:
        started.append(int(queue[k]))
        free -= size[queue[k]]
        k += 1
    if k == len(queue):
        return started
    head = int(queue[k])
    # Recording the head's first reservation needs the shadow even when nothing else can start.
    if free == 0 and not np.isnan(state.first_reservation_s[head]):
        return started
    ends_jobs = np.concatenate([running, np.asarray(started, dtype=np.int64)])
    ends = np.concatenate([state.start_s[running] + pred[running], now + pred[started]]) if started else state.start_s[running] + pred[running]
    order = np.argsort(ends, kind="stable")
    ends, released = ends[order], np.cumsum(size[ends_jobs[order]])
    need = size[head] - free
    at = int(np.searchsorted(released, need, side="left"))
    shadow = float(ends[at])
    last = int(np.searchsorted(ends, shadow, side="right")) - 1
    extra = free + int(released[last]) - int(size[head])
    if np.isnan(state.first_reservation_s[head]):
        state.first_reservation_s[head] = shadow
    rest = queue[k + 1:]
    if free == 0 or not len(rest):
        return started
    candidates = rest[(size[rest] <= free) & ((now + pred[rest] <= shadow) | (size[rest] <= extra))]
    for job in candidates:
        s = size[job]
        ends_by_shadow = now + pred[job] <= shadow
        if s <= free and (ends_by_shadow or s <= extra):
            started.append(int(job))
            state.backfilled[job] = True
            free -= s
            if not ends_by_shadow:
                extra -= s
            if free == 0:
                break
    return started


def conservative_pass(now: float, queue: np.ndarray, running: np.ndarray, free: int, state) -> list[int]:
    """Jobs conservative backfilling starts at ``now``; every queued job keeps a reservation."""
    size, pred = state.size, state.pred_s
    profile = Profile(now, state.capacity, zip((state.start_s[running] + pred[running]).tolist(), size[running].tolist()))
    planned = state.reservation_s[queue]
    # Earlier reservations first keeps every reservation no later than before (absent underestimates).
    order = queue[np.lexsort((queue, np.where(np.isnan(planned), np.inf, planned)))]
    started: list[int] = []
    for job in order.tolist():
        start = profile.earliest(int(size[job]), float(pred[job]))
        profile.reserve(start, float(pred[job]), int(size[job]))
        state.reservation_s[job] = start
        if np.isnan(state.first_reservation_s[job]):
            state.first_reservation_s[job] = start
        if start <= now:
            started.append(job)
    if started:
        waiting = np.setdiff1d(queue, started)
        # The queue is in priority order: a job that starts ahead of an earlier waiting one backfills.
        jumped = [j for j in started if len(waiting) and j > waiting[0]]
        state.backfilled[jumped] = True
    return started
