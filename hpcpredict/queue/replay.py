"""Replay a trace: at each replayed submission, predict with only what was known at that moment.

This is the honest score of queued-job prediction: the production path
(:func:`~hpcpredict.queue.predict_queued`) is run against the jobs table cut at the submission
time, so any feature that peeked into the future would make the replayed predictions differ from
the offline ones. Both are reported, with the baselines, on the same jobs.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..evaluate import score
from ..evaluate.baselines import baseline_predictions
from ..model import RuntimeModel
from ..progress import progress
from .predict import queued_features

__all__ = ["replay"]


def replay(
    model: RuntimeModel | str | os.PathLike[str],
    jobs: pd.DataFrame | str | os.PathLike[str],
    *,
    samples=None,
    n: int | None = 200,
) -> dict:
    """Walk the held-out part of a trace in submit order and predict each job as it is submitted.

    Parameters
    ----------
    model : RuntimeModel or path
        A trained model; jobs submitted from its test boundary on are replayed.
    jobs : DataFrame or path
        The jobs table the model's features were built from.
    samples : optional
        Node samples, for models with system-state features.
    n : int or None
        Replay this many submissions, spread evenly over the held-out period; None replays all
        (one feature rebuild per submission: slow on long traces).

    Returns
    -------
    dict
        ``rows``, ``max_abs_difference_s`` between replayed and offline predictions (0 when no
        feature sees the future), and ``metrics`` for ``replay``, ``offline`` and the baselines.
    """
    from ..features.build import _read_table
    from ..model.train import valid_target

    if jobs is None:
        raise ParameterError("jobs", "the jobs table the model's features were built from (--jobs)", None)
    bundle = model if isinstance(model, RuntimeModel) else RuntimeModel.load(model)
    table = jobs if isinstance(jobs, pd.DataFrame) else _read_table(jobs)
    boundary = pd.Timestamp(bundle.manifest_.test_boundary)
    held_out = table.loc[(table["submit_time"] >= boundary) & valid_target(table, "runtime_s")].sort_values("submit_time", kind="stable")
    if n is not None and n < len(held_out):
        held_out = held_out.iloc[np.linspace(0, len(held_out) - 1, n).round().astype(int)]
    rows = []
    with progress(total=len(held_out), description="replaying") as advance:
        for _, job in held_out.iterrows():
            pending = job.to_frame().T.infer_objects()
            row, _ = queued_features(bundle, pending, table, samples, at=job["submit_time"])
            rows.append(row)
            advance(1)
    replayed = pd.concat(rows, ignore_index=True)
    actual = held_out["runtime_s"].to_numpy(float)
    online = bundle.predict(replayed)
    from ..features import build_features

    full = build_features(table, samples, horizon=bundle.horizon, names=bundle.feature_names).set_index("job_id").loc[held_out["job_id"]].reset_index()
    offline = bundle.predict(full)
    predictions = {"replay": online, "offline": offline, **baseline_predictions(replayed)}
    return {
        "rows": int(len(held_out)),
        "max_abs_difference_s": float(np.max(np.abs(online - offline), initial=0.0)),
        "metrics": {name: score(pred, actual) for name, pred in predictions.items()},
    }
