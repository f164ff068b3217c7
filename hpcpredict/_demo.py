"""The whole pipeline on built-in data, with no download.

By default on a simulated cluster (:mod:`hpcpredict.simulate`): simulate → ingest (sacct, LDMS)
→ features → train → evaluate → explain for the control jobs, whose causes of slowdown were
planted, then a second model at the submit horizon predicts the jobs left in the queue. With
``dataset="kth-sp2"`` it runs on the real KTH-SP2 trace shipped in ``data/``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ._atomic import atomic_dir, write_json
from ._outputs import check_output
from .datasets import DATASETS, dataset_path
from .errors import ParameterError
from .evaluate import evaluate, held_out_rows
from .explain import explain
from .features import features, read_features
from .ingest import ingest, ingest_samples
from .model import train
from .prediction import predict

__all__ = ["DEMO_DATASETS", "demo"]

#: Datasets the demo runs on: the simulator, then the real traces of :data:`DATASETS`.
DEMO_DATASETS = ("simulated", *DATASETS)


def demo(
    output: str | os.PathLike[str] = "demo-out",
    *,
    dataset: str = "simulated",
    preset: str = "default",
    seed: int = 0,
    top: int = 10,
) -> dict:
    """Run every stage on ``dataset`` and write each stage's files under ``output``.

    Parameters
    ----------
    output : path
        Folder for everything the stages write.
    dataset : str
        ``"simulated"`` (default) or a shipped trace (``"kth-sp2"``).
    preset, seed : str, int
        Simulator preset and seed (``dataset="simulated"`` only).
    top : int
        Features listed in the explanation.

    Returns
    -------
    dict
        ``dataset``, ``ingest`` counts, ``evaluation`` (an
        :class:`~hpcpredict.evaluate.EvaluationResult`), ``explanation`` (an
        :class:`~hpcpredict.explain.ExplainResult`), ``files`` (stage → path) and, for the
        simulator, ``noise_floor`` and ``queue`` (the queued jobs' predictions).
    """
    if dataset not in DEMO_DATASETS:
        raise ParameterError("dataset", f"one of {', '.join(DEMO_DATASETS)}", dataset)
    out = check_output(output, folder=True)
    # Built in a temporary sibling and swapped in whole: a failed or killed demo keeps the last one.
    with atomic_dir(out, kind="demo") as tmp:
        summary = _simulated(tmp, preset=preset, seed=seed, top=top) if dataset == "simulated" else _trace(tmp, dataset, top=top)
        summary["files"] = {k: str(out / Path(v).relative_to(tmp)) for k, v in summary["files"].items()}
        write_json(summary, tmp / "summary.json")
    return summary


def _trace(out: Path, dataset: str, *, top: int) -> dict:
    fmt, _ = DATASETS[dataset]
    files = {
        "jobs": out / "jobs.parquet",
        "features": out / "features.parquet",
        "model": out / "model",
        "evaluation": out / "evaluation.json",
        "predictions": out / "predictions.parquet",
        "explain": out / "explain",
    }
    counts = ingest(fmt, [dataset_path(dataset)], files["jobs"])
    features(files["jobs"], files["features"], horizon="submit")
    bundle = train(files["features"], files["model"])
    evaluation = evaluate(bundle, files["features"])
    evaluation.to_json(files["evaluation"])
    predict(bundle, files["features"], files["predictions"])
    explanation = explain(bundle, files["features"], files["explain"], top=top, interactions=20)
    return {"dataset": dataset, "ingest": counts, "evaluation": evaluation, "explanation": explanation, "files": {k: str(v) for k, v in files.items()}}


def _simulated(out: Path, *, preset: str, seed: int, top: int) -> dict:
    from .simulate import simulate

    files = {
        "dump": out / "dump",
        "jobs": out / "jobs.parquet",
        "samples": out / "samples",
        "features_start": out / "features_start.parquet",
        "model_control": out / "model_control",
        "evaluation": out / "evaluation.json",
        "explain": out / "explain",
        "features_submit": out / "features_submit.parquet",
        "model_queue": out / "model_queue",
        "queue_predictions": out / "queue_predictions.parquet",
    }
    simulate(files["dump"], preset=preset, seed=seed)
    dump = files["dump"]
    counts = ingest("sacct", [dump / "sacct.txt"], files["jobs"])
    sample_counts = ingest_samples("ldms", [dump / "ldms"], files["samples"])
    monitoring = {"samples": files["samples"], "topology": dump / "topology.csv"}

    # The site's control jobs (Costello & Bhatele): fixed applications at fixed sizes, rerun all
    # period long, so their runtime varies with the system state alone. Model them at the start
    # horizon, where placement and the state around the job are known.
    truth = json.loads((dump / "truth.json").read_text())
    control_apps = sorted(truth["control"])
    features(files["jobs"], files["features_start"], horizon="start", **monitoring)
    bundle = train(files["features_start"], files["model_control"], apps=control_apps)
    evaluation = evaluate(bundle, files["features_start"])
    evaluation.to_json(files["evaluation"])
    explanation = explain(bundle, files["features_start"], files["explain"], top=top, interactions=20)
    table = held_out_rows(bundle, read_features(files["features_start"]))
    control_mae = float(np.mean(np.abs(bundle.predict(table) - table["runtime_s"].to_numpy(float))))

    # Jobs still waiting: only what is known at submission, for every application.
    features(files["jobs"], files["features_submit"], horizon="submit", **monitoring)
    queue_model = train(files["features_submit"], files["model_queue"], intervals=True)
    queued = predict(queue_model, queue=dump / "queue.txt", jobs=files["jobs"], samples=files["samples"], output=files["queue_predictions"])
    return {
        "dataset": "simulated",
        "preset": preset,
        "seed": seed,
        "ingest": counts,
        "samples": sample_counts,
        "control_apps": control_apps,
        "evaluation": evaluation,
        "explanation": explanation,
        "noise_floor": {
            "control_oracle_mae_s": truth["noise"]["control_oracle_mae_s"],
            "model_control_mae_s": control_mae,
            "ratio": control_mae / truth["noise"]["control_oracle_mae_s"],
        },
        "queue": {"model_mae_s": float(evaluate(queue_model, files["features_submit"]).metrics.loc["model", "mae"]), "jobs": _records(queued)},
        "planted": {name: effect["family"] for name, effect in truth["effects"].items()},
        "files": {k: str(v) for k, v in files.items()},
    }


def _records(frame) -> list[dict]:
    cols = [c for c in ("job_id", "user", "time_limit_s", "predicted_runtime_s", "predicted_p10_s", "predicted_p90_s", "predicted_end_if_started_now", "reasons") if c in frame.columns]
    return json.loads(frame[cols].to_json(orient="records", date_format="iso"))
