"""The stages as functions, one import: ``from hpcpredict.api import features, train, evaluate``.

Each verb reads and writes files (Parquet tables, JSON metadata, model folders) and is also a
command of the ``hpcpredict`` CLI. Several verbs share their name with a subpackage
(``hpcpredict.features`` is the package of feature builders); here every name is the function.

Examples
--------
>>> from hpcpredict import api
>>> api.ingest("swf", ["trace.swf"], "jobs.parquet")  # doctest: +SKIP
>>> api.features("jobs.parquet", "features.parquet", horizon="submit")  # doctest: +SKIP
>>> model = api.train("features.parquet", "model/")  # doctest: +SKIP
>>> api.evaluate(model, "features.parquet")  # doctest: +SKIP
"""

from __future__ import annotations

from ._demo import demo
from .evaluate.evaluation import evaluate
from .explain.analysis import explain
from .explain.job import explain_job
from .features.build import build_features, features
from .ingest import ingest, ingest_samples
from .model import RuntimeModel, load_model, train
from .prediction import predict
from .queue import predict_queued, read_queue
from .report import report
from .simulate import simulate

__all__ = [
    "RuntimeModel",
    "build_features",
    "demo",
    "evaluate",
    "explain",
    "explain_job",
    "features",
    "ingest",
    "ingest_samples",
    "load_model",
    "predict",
    "predict_queued",
    "read_queue",
    "report",
    "simulate",
    "train",
]
