"""Runtime models: the estimator, training, the model on disk, and prediction.

A fitted model is one object from training to the service: :class:`RuntimeModel`, saved with
:meth:`RuntimeModel.save` and read back with :meth:`RuntimeModel.load` (= :func:`load_model`); its
typed :class:`Manifest` is ``model.manifest_``.
"""

from __future__ import annotations

import warnings

from .bundle import check_table, load_bundle, unseen_categories
from .encoding import EncodedRows
from .estimator import INTERVAL_QUANTILES, RuntimeModel
from .manifest import FORMAT_VERSION, FeatureSpec, Manifest
from .objectives import DEFAULT_OBJECTIVE, OBJECTIVES, get_objective
from .table import read_job_table
from .train import DEFAULT_PARAMS, load_training_table, temporal_split, train

__all__ = [
    "DEFAULT_OBJECTIVE",
    "DEFAULT_PARAMS",
    "FORMAT_VERSION",
    "INTERVAL_QUANTILES",
    "OBJECTIVES",
    "EncodedRows",
    "FeatureSpec",
    "Manifest",
    "RuntimeModel",
    "check_table",
    "get_objective",
    "load_bundle",
    "load_model",
    "load_training_table",
    "read_job_table",
    "temporal_split",
    "train",
    "unseen_categories",
]

load_model = RuntimeModel.load


def _predict_runtime(model, table, *, device="cpu"):
    return model.predict(table, device=device)


def _predict_interval(model, table, *, device="cpu"):
    return model.predict_interval(table, device=device) if model.has_intervals else None


_DEPRECATED = {
    "Bundle": (RuntimeModel, "RuntimeModel"),
    "predict_runtime": (_predict_runtime, "model.predict(table)"),
    "predict_interval": (_predict_interval, "model.predict_interval(table)"),
}


def __getattr__(name: str):
    if name in _DEPRECATED:
        value, instead = _DEPRECATED[name]
        warnings.warn(f"hpcpredict.model.{name} is deprecated; use {instead}", DeprecationWarning, stacklevel=2)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
