"""The pipeline verbs: features, train, evaluate, predict, explain, demo. Each calls one function."""

from __future__ import annotations

from pathlib import Path

import typer

import hpcpredict as hp

from ._common import console, err_console, handle_errors, print_json
from .render import evaluation_table, ranking_tables

Json = typer.Option(False, "--json", help="Print one JSON document to stdout instead of tables.")


@handle_errors
def features(
    jobs: Path = typer.Option(..., "--jobs", help="Jobs table (Parquet) from `hpcpredict ingest`.", show_default=False),
    output: Path = typer.Option(..., "-o", "--output", help="Feature table to write (Parquet).", show_default=False),
    horizon: str = typer.Option("submit", "--horizon", help="submit, start or end: the latest moment features may come from."),
    samples: Path | None = typer.Option(None, "--samples", help="Node monitoring samples (Parquet folder)."),
    topology: Path | None = typer.Option(None, "--topology", help="Topology CSV: host,router,group,cabinet."),
) -> None:
    """Build per-job features that exist at the given horizon."""
    summary = hp.features(jobs, output, horizon=horizon, samples=samples, topology=topology)
    err_console.print(f"{summary['rows']:,} jobs x {len(summary['features'])} features ({horizon} horizon) → {output}", highlight=False)


@handle_errors
def train(
    features: Path = typer.Argument(..., help="Feature table from `hpcpredict features`.", show_default=False),
    output: Path = typer.Option(..., "-o", "--output", help="Model bundle folder to write.", show_default=False),
    target: str = typer.Option("runtime_s", "--target", help="Column to predict."),
    objective: str = typer.Option("absolute", "--objective", help="absolute (MAE, default) or squared_log."),
    test_fraction: float = typer.Option(0.2, "--test-fraction", help="Share of the latest jobs held out for evaluation."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Train an XGBoost model on the earliest jobs; the latest are held out."""
    bundle = hp.train(features, output, target=target, objective=objective, test_fraction=test_fraction, device=device, seed=seed)
    rows = bundle.manifest["rows"]
    err_console.print(
        f"trained on {rows['train']:,} jobs (+{rows['validation']:,} for early stopping, "
        f"{bundle.manifest['params']['best_iteration'] + 1} trees); {rows['test']:,} later jobs held out → {output}",
        highlight=False,
    )


@handle_errors
def evaluate(
    model: Path = typer.Argument(..., help="Model bundle folder.", show_default=False),
    features: Path = typer.Argument(..., help="Feature table.", show_default=False),
    json: bool = Json,
) -> None:
    """Score the model beside the baselines on the held-out later jobs."""
    result = hp.evaluate(model, features)
    print_json(result) if json else console.print(evaluation_table(result))


@handle_errors
def predict(
    model: Path = typer.Argument(..., help="Model bundle folder.", show_default=False),
    features: Path = typer.Argument(..., help="Feature table.", show_default=False),
    output: Path | None = typer.Option(None, "-o", "--output", help="Predictions to write (Parquet)."),
    json: bool = Json,
) -> None:
    """Predict the runtime of every job in a feature table."""
    result = hp.predict(model, features, output)
    if json:
        print_json(result.to_dict(orient="records"))
    else:
        console.print(result.head(20).to_string(index=False))
        err_console.print(f"{len(result):,} predictions" + (f" → {output}" if output else ""), highlight=False)


@handle_errors
def explain(
    model: Path = typer.Argument(..., help="Model bundle folder.", show_default=False),
    features: Path = typer.Argument(..., help="Feature table.", show_default=False),
    output: Path | None = typer.Option(None, "-o", "--output", help="Folder for SHAP values, ranking and plots."),
    top: int = typer.Option(15, "--top", help="Features shown."),
    all_rows: bool = typer.Option(False, "--all-rows", help="Explain every job, not only the held-out ones."),
    sample: int | None = typer.Option(None, "--sample", help="Explain a random sample of this many jobs."),
    all_: bool = typer.Option(False, "--all", help="Compute SHAP for every job (no stratified sample on CPU)."),
    window: str = typer.Option("M", "--window", help="Period of the drift analysis: M (month), W (week), Q (quarter)."),
    interactions: int = typer.Option(100, "--interactions", help="Jobs sampled for interaction values (0: none)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    json: bool = Json,
) -> None:
    """Rank features and families by mean |SHAP| (exact TreeSHAP from XGBoost), with confidence and drift."""
    result = hp.explain(
        model, features, output, top=top, rows="all" if all_rows else "test", sample=sample, exhaustive=all_, window=window, interactions=interactions, device=device
    )
    if json:
        print_json(result)
    else:
        for t in ranking_tables(result):
            console.print(t)


@handle_errors
def demo(
    output: Path = typer.Option(Path("demo-out"), "-o", "--output", help="Folder for every stage's files."),
    dataset: str = typer.Option("kth-sp2", "--dataset", help="Built-in dataset."),
    json: bool = Json,
) -> None:
    """Run the whole pipeline on a built-in dataset and show the results."""
    summary = hp.demo(output, dataset=dataset)
    if json:
        print_json(summary)
        return
    c = summary["ingest"]
    console.print(f"[bold]hpcpredict demo[/] on {summary['dataset']}: {c['jobs']:,} jobs ingested, {c['quarantined']} quarantined")
    console.print(evaluation_table(summary["evaluation"]))
    for t in ranking_tables(summary["explanation"]):
        console.print(t)
    console.print(f"outputs under {output}/: " + ", ".join(Path(p).name for p in summary["files"].values()), highlight=False)
