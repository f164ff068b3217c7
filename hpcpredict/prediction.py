"""Predict runtimes for the rows of a feature table with a trained bundle."""

from __future__ import annotations

import os

import pandas as pd

from ._atomic import write_parquet
from ._outputs import check_output
from .metadata import table_metadata, with_metadata
from .model import RuntimeModel, check_table
from .model.train import table_for

__all__ = ["predict"]


def predict(
    model: RuntimeModel | str | os.PathLike[str],
    features: pd.DataFrame | str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    *,
    queue: pd.DataFrame | str | os.PathLike[str] | None = None,
    jobs: pd.DataFrame | str | os.PathLike[str] | None = None,
    samples=None,
    at=None,
    start: bool = False,
    nodes: int | None = None,
    device: str = "cpu",
) -> pd.DataFrame:
    """Predict every job of a feature table, or the jobs waiting in a queue.

    Parameters
    ----------
    model : RuntimeModel or path
        A trained model.
    features : DataFrame or path, optional
        A feature table of the model's horizon (offline prediction).
    output : path, optional
        Parquet file to write the predictions to (atomically).
    queue, jobs, samples, at
        Queued-job prediction instead: see :func:`hpcpredict.queue.predict_queued`.
    start : bool
        With a queue, also each job's expected start on a machine of ``nodes`` (see
        :func:`hpcpredict.schedule.queue_start_times`).
    device : {"cpu", "cuda"}
        Where XGBoost predicts (feature-table prediction).

    Returns
    -------
    DataFrame
        ``job_id``, ``submit_time``, ``time_limit_s``, ``predicted_<target>`` and, where known,
        the actual value of the target; for a queue, the columns of ``predict_queued``.
    """
    from .errors import ParameterError

    if (features is None) == (queue is None):
        raise ParameterError("features/queue", "exactly one of a feature table or a queue", "both" if queue is not None else "neither")
    if start and queue is None:
        raise ParameterError("start", "used with a queue (start times are for pending jobs)", start)
    if output is not None:
        check_output(output, folder=False, inputs=[model, features, queue, jobs, samples])
    bundle = model if isinstance(model, RuntimeModel) else RuntimeModel.load(model)
    if queue is not None:
        from .queue import predict_queued

        if start:
            return _with_start_times(bundle, queue, jobs, samples, at, nodes, output)
        out = predict_queued(bundle, queue, jobs, samples, at)
        if output is not None:
            write_parquet(out, output, metadata={"table": "queue_predictions", "model": str(bundle.path_), "at": str(table_metadata(out)["at"])})
        return out
    table = table_for(bundle, features)
    check_table(bundle, table)
    target = bundle.target
    keep = [c for c in ("job_id", "submit_time", "user", "app", "time_limit_s", target) if c in table.columns]
    out = table[keep].reset_index(drop=True)
    out.insert(len(out.columns) - (target in keep), f"predicted_{target}", bundle.predict(table, device=device))
    if bundle.has_intervals:
        bounds = bundle.predict_interval(table, device=device)
        out[f"predicted_p10_{target}"], out[f"predicted_p90_{target}"] = bounds[:, 0], bounds[:, -1]
    if output is not None:
        write_parquet(out, output, metadata={"table": "predictions", "model": str(bundle.path_), "target": target})
    return out


def _with_start_times(bundle, queue, jobs, samples, at, nodes, output) -> pd.DataFrame:
    """Queue predictions plus expected starts: the queue and jobs are read once for both."""
    from .features.build import _read_table
    from .queue import predict_queued, read_queue
    from .schedule import queue_start_times

    pending = queue if isinstance(queue, pd.DataFrame) else read_queue(queue)
    jobs_df = jobs if jobs is None or isinstance(jobs, pd.DataFrame) else _read_table(jobs)
    out = predict_queued(bundle, pending, jobs_df, samples, at)
    at_used = table_metadata(out)["at"]
    out = with_metadata(queue_start_times(bundle, out, pending.reset_index(drop=True), jobs_df, nodes=nodes, at=at_used), at=at_used)
    if output is not None:
        write_parquet(out, output, metadata={"table": "queue_predictions", "model": str(bundle.path_), "at": str(at_used)})
    return out
