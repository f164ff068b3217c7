"""Replay one trace under several predictors and compare the scheduling outcomes."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .engine import replay_schedule
from .metrics import bounded_slowdown, summarize_run
from .predictors import predict_workload
from .workload import Workload, load_workload

__all__ = ["compare_predictors"]


def compare_predictors(
    jobs: Workload | str | os.PathLike[str],
    *,
    predictors: Sequence[str] = ("limit",),
    policy: str = "easy",
    nodes: int | None = None,
    plot: str | os.PathLike[str] | None = None,
    starts: int = 0,
) -> dict:
    """Replay the trace's submissions once per predictor and summarise each schedule.

    Parameters
    ----------
    jobs : Workload or path
        A jobs table from ``hpcpredict ingest`` or an SWF trace (see :func:`load_workload`).
    predictors : sequence of str
        Names from :data:`~hpcpredict.schedule.PREDICTORS` (``model:PATH`` for a bundle).
    policy : {"easy", "conservative"}
    nodes : int, optional
        Machine size, overriding what the trace says.
    plot : path, optional
        Write a PNG comparing the predictors here.
    starts : int
        Also predict the start of this many jobs (evenly spread) at their submission with each
        predictor and the limit-based planner, scored against the recorded starts
        (:func:`~hpcpredict.schedule.evaluate_start_predictions`); 0: not.

    Returns
    -------
    dict
        The machine (``machine_size``, ``unit``, ``machine_source``), ``jobs`` replayed,
        ``set_aside`` (reason → jobs left out), ``measured_from`` (when a model is compared, the
        figures cover only jobs submitted after its training window: the same jobs for every
        predictor), ``results`` (one :func:`summarize_run` dict per predictor) and ``recorded``
        (the trace's own waits over the same jobs, when it has start times); with ``starts``,
        ``start_times`` (per predictor, and ``limit`` as ``squeue --start`` would plan; absent
        when the trace recorded no start times).

    Examples
    --------
    >>> jobs = pd.DataFrame({"job_id": ["a", "b", "c"], "submit_time": pd.to_datetime([0, 1, 2], unit="s", utc=True),
    ...                      "runtime_s": [100.0, 100.0, 10.0], "time_limit_s": [100.0, 1000.0, 50.0], "req_nodes": [3, 4, 1]})
    >>> from hpcpredict.schedule import workload_from_jobs
    >>> out = compare_predictors(workload_from_jobs(jobs, nodes=4), predictors=["limit", "oracle"])
    >>> [r["mean_wait_s"] for r in out["results"]]
    [33.0, 33.0]
    """
    if not predictors:
        raise ParameterError("predictors", "at least one predictor", list(predictors))
    if plot is not None:  # refuse a path that would destroy a file before the replays run
        from .._outputs import check_output

        check_output(plot, folder=False, inputs=[None if isinstance(jobs, Workload) else jobs])
    workload = jobs if isinstance(jobs, Workload) else load_workload(jobs, nodes=nodes)
    if not len(workload):
        raise ParameterError("jobs", "a trace with at least one job the replay can place", f"none ({workload.set_aside})")
    predictions = [predict_workload(workload, name) for name in predictors]
    windows = [p.measured_from_s for p in predictions if p.measured_from_s is not None]
    measured_from = max(windows) if windows else None
    measured = workload.submit_s > measured_from if measured_from is not None else np.ones(len(workload), dtype=bool)
    results = [summarize_run(replay_schedule(workload, p.runtime_s, policy=policy, predictor=p.name), measured=measured) for p in predictions]
    out = {
        "jobs": len(workload),
        "machine_size": workload.machine_size,
        "unit": workload.unit,
        "machine_source": workload.machine_source,
        "set_aside": workload.set_aside,
        "default_limit_jobs": workload.default_limit_jobs,
        "policy": policy,
        "measured_from": str(workload.origin + pd.Timedelta(seconds=measured_from)) if measured_from is not None else None,
        "measured_jobs": int(measured.sum()),
        "results": results,
        "recorded": _recorded(workload, measured),
    }
    if starts and out["recorded"] is not None:
        from .start_accuracy import evaluate_start_predictions

        named = {p.name: p.runtime_s for p in predictions}
        named = {"limit": workload.limit_s, **named}  # always beside squeue --start's planner
        out["start_times"] = evaluate_start_predictions(workload, named, samples=starts, measured=measured)
    if plot is not None:
        from .plots import plot_schedule_comparison

        plot_schedule_comparison(out, path=plot)
    return out


def _recorded(workload: Workload, measured: np.ndarray) -> dict | None:
    """The trace's own waits: what the site's scheduler did with these jobs."""
    if "start_time" not in workload.jobs.columns:
        return None
    wait = (pd.to_datetime(workload.jobs["start_time"], utc=True) - pd.to_datetime(workload.jobs["submit_time"], utc=True)).dt.total_seconds().to_numpy(float, na_value=np.nan)
    wait = wait[measured]
    if not np.isfinite(wait).any():
        return None
    runtime = workload.runtime_s[measured]
    ok = np.isfinite(wait)
    slowdown = bounded_slowdown(wait[ok], runtime[ok])
    return {"jobs": int(ok.sum()), "mean_wait_s": float(np.mean(wait[ok])), "p95_wait_s": float(np.percentile(wait[ok], 95)), "mean_bounded_slowdown": float(np.mean(slowdown))}
