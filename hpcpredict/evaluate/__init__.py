"""Evaluate a model on the held-out later jobs, beside baselines computed on the same jobs."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..model import Bundle, check_table, load_bundle, predict_runtime
from ..model.train import valid_target
from .baselines import BASELINES, baseline_predictions
from .metrics import METRICS, average_accuracy, score

__all__ = ["BASELINES", "METRICS", "average_accuracy", "evaluate", "score", "held_out_rows"]


def held_out_rows(bundle: Bundle, table: pd.DataFrame) -> pd.DataFrame:
    """Rows submitted at or after the model's test boundary that have a usable target."""
    boundary = pd.Timestamp(bundle.manifest["test_boundary"])
    keep = valid_target(table, bundle.manifest["target"]) & (table["submit_time"] >= boundary)
    return table.loc[keep]


def evaluate(model: Bundle | str | os.PathLike[str], features: pd.DataFrame | str | os.PathLike[str]) -> dict:
    """Score the model and the baselines on the jobs after the model's test boundary.

    Parameters
    ----------
    model : Bundle or path
        A trained bundle (:func:`hpcpredict.train`).
    features : DataFrame or path
        The feature table the model was trained from (or a later one of the same horizon).

    Returns
    -------
    dict
        ``{"rows", "excluded", "test_boundary", "target", "metrics": {predictor: {metric: value}}}``
        where predictors are ``model`` and each of :data:`BASELINES`. Jobs for which a baseline
        has no value (no time limit) are left out of every predictor's score and counted in
        ``excluded``, so all are compared on the same jobs.
    """
    from ..features import read_features

    bundle = model if isinstance(model, Bundle) else load_bundle(model)
    table = features if isinstance(features, pd.DataFrame) else read_features(features)
    check_table(bundle, table)
    rows = held_out_rows(bundle, table)
    target = bundle.manifest["target"]
    predictions = {"model": predict_runtime(bundle, rows)}
    if target == "runtime_s":
        predictions.update(baseline_predictions(rows))
    finite = np.logical_and.reduce([np.isfinite(p) for p in predictions.values()])
    actual = rows[target].to_numpy(float)[finite]
    return {
        "target": target,
        "test_boundary": str(bundle.manifest["test_boundary"]),
        "rows": int(finite.sum()),
        "excluded": int((~finite).sum()),
        "metrics": {name: score(pred[finite], actual) for name, pred in predictions.items()},
    }
