"""The whole pipeline on a built-in dataset: ingest → features → train → evaluate → predict → explain."""

from __future__ import annotations

import os
from pathlib import Path

from ._atomic import write_json
from .datasets import DATASETS, dataset_path
from .evaluate import evaluate
from .explain import explain
from .features import features
from .ingest import ingest
from .model import train
from .predict import predict

__all__ = ["demo"]


def demo(output: str | os.PathLike[str] = "demo-out", *, dataset: str = "kth-sp2", top: int = 10) -> dict:
    """Run every stage on ``dataset`` and write each stage's files under ``output``.

    Returns
    -------
    dict
        ``dataset``, ``ingest`` counts, ``evaluation`` (see :func:`hpcpredict.evaluate`),
        ``explanation`` (see :func:`hpcpredict.explain`) and ``files`` (stage → path).
    """
    out = Path(output)
    fmt, _ = DATASETS[dataset] if dataset in DATASETS else (None, None)
    source = dataset_path(dataset)
    files = {
        "jobs": out / "jobs.parquet",
        "features": out / "features.parquet",
        "model": out / "model",
        "evaluation": out / "evaluation.json",
        "predictions": out / "predictions.parquet",
        "explain": out / "explain",
    }
    counts = ingest(fmt, [source], files["jobs"])
    features(files["jobs"], files["features"], horizon="submit")
    bundle = train(files["features"], files["model"])
    evaluation = evaluate(bundle, files["features"])
    write_json(evaluation, files["evaluation"])
    predict(bundle, files["features"], files["predictions"])
    explanation = explain(bundle, files["features"], files["explain"], top=top)
    summary = {
        "dataset": dataset,
        "ingest": counts,
        "evaluation": evaluation,
        "explanation": explanation,
        "files": {k: str(v) for k, v in files.items()},
    }
    write_json(summary, out / "summary.json")
    return summary
