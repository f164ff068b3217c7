"""What a replay is judged by: waits, bounded slowdown, utilisation, and the harm of underestimates."""

from __future__ import annotations

import numpy as np

from .engine import ScheduleRun

__all__ = ["BOUNDED_SLOWDOWN_TAU_S", "bounded_slowdown", "summarize_run"]

#: The runtime floor of the bounded slowdown (Feitelson et al. 1997): short jobs do not dominate it.
BOUNDED_SLOWDOWN_TAU_S = 10.0


def bounded_slowdown(wait_s, runtime_s) -> np.ndarray:
    """max(1, (wait + run) / max(run, τ)) per job, τ = :data:`BOUNDED_SLOWDOWN_TAU_S`.

    Examples
    --------
    >>> bounded_slowdown([90.0, 0.0], [1.0, 100.0]).tolist()
    [9.1, 1.0]
    """
    wait, runtime = np.asarray(wait_s, dtype=float), np.asarray(runtime_s, dtype=float)
    return np.maximum((wait + runtime) / np.maximum(runtime, BOUNDED_SLOWDOWN_TAU_S), 1.0)


def summarize_run(run: ScheduleRun, *, measured: np.ndarray | None = None) -> dict:
    """The scheduling outcome of one replay.

    Parameters
    ----------
    run : ScheduleRun
    measured : array of bool, optional
        The jobs the figures are computed over (all by default); the others still ran, so they
        shape the schedule (e.g. a model's training period as warm-up).

    Returns
    -------
    dict
        ``predictor``, ``policy``, ``jobs``, ``mean_wait_s``, ``p95_wait_s``,
        ``mean_bounded_slowdown`` (τ = 10 s), ``utilisation`` (busy resource-seconds over the
        machine's capacity from the first submission to the last end), ``backfilled`` and
        ``delayed_by_underestimate`` (jobs that started later than first promised), and
        ``underestimated`` (jobs whose initial prediction was shorter than their runtime).

    Examples
    --------
    >>> import pandas as pd
    >>> from hpcpredict.schedule import replay_schedule, workload_from_jobs
    >>> jobs = pd.DataFrame({"job_id": ["a", "b"], "submit_time": pd.to_datetime([0, 0], unit="s", utc=True),
    ...                      "runtime_s": [100.0, 100.0], "time_limit_s": [100.0, 100.0], "req_nodes": [1, 1]})
    >>> s = summarize_run(replay_schedule(workload_from_jobs(jobs, nodes=1), [100.0, 100.0]))
    >>> s["mean_wait_s"], s["mean_bounded_slowdown"], s["utilisation"]
    (50.0, 1.5, 1.0)
    """
    w = run.workload
    mask = np.ones(len(w), dtype=bool) if measured is None else np.asarray(measured, dtype=bool)
    wait = run.wait_s[mask]
    runtime = w.runtime_s[mask]
    slowdown = bounded_slowdown(wait, runtime)
    ends = run.start_s + w.runtime_s
    span = float(np.max(ends) - np.min(w.submit_s)) if len(w) else 0.0
    busy = float(np.sum(w.size * w.runtime_s))
    return {
        "predictor": run.predictor,
        "policy": run.policy,
        "jobs": int(mask.sum()),
        "mean_wait_s": float(np.mean(wait)) if len(wait) else float("nan"),
        "p95_wait_s": float(np.percentile(wait, 95)) if len(wait) else float("nan"),
        "mean_bounded_slowdown": float(np.mean(slowdown)) if len(wait) else float("nan"),
        "utilisation": busy / (w.machine_size * span) if span > 0 else float("nan"),
        "backfilled": int(run.backfilled[mask].sum()),
        "delayed_by_underestimate": int(run.delayed_by_underestimate[mask].sum()),
        "underestimated": int((run.predicted_s < w.runtime_s)[mask].sum()),
    }
