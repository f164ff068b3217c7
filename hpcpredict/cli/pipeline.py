"""The pipeline verbs: features, train, evaluate, predict, explain, demo. Each calls one function.

Each command imports the module it calls when it runs, so ``--help`` loads none of them (nor
XGBoost, shap or DuckDB behind them).
"""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import console, err_console, handle_errors, print_json
from .render import common_table, demo_report, evaluation_table, group_tables, queue_table, ranking_tables, replay_table

Json = typer.Option(False, "--json", help="Print one JSON document to stdout instead of tables.")
Dask = typer.Option(None, "--dask", help="Run on Dask: local:N (N local worker processes) or a scheduler address tcp://host:8786.", show_default=False)


@handle_errors
def features(
    jobs: Path = typer.Option(..., "--jobs", help="Jobs table (Parquet) from `hpcpredict ingest`.", show_default=False),
    output: Path = typer.Option(..., "-o", "--output", help="Feature table to write (Parquet).", show_default=False),
    horizon: str = typer.Option("submit", "--horizon", help="submit, start or end: the latest moment features may come from."),
    samples: Path | None = typer.Option(None, "--samples", help="Node monitoring samples (Parquet folder)."),
    topology: Path | None = typer.Option(None, "--topology", help="Topology CSV: host,router,group,cabinet."),
    dask: str | None = Dask,
    optional: list[str] = typer.Option([], "--with", help="Also build a group of features left out by default: user-activity (the user's submission gap and jobs running and queued at submit; see docs/models.md). Repeatable."),
) -> None:
    """Build per-job features that exist at the given horizon (job-window features on Dask with --dask)."""
    from ..features.build import features as build

    summary = build(jobs, output, horizon=horizon, samples=samples, topology=topology, dask=dask, optional=optional)
    err_console.print(f"{summary['rows']:,} jobs x {len(summary['features'])} features ({horizon} horizon) → {output}", highlight=False)


@handle_errors
def train(
    features: Path = typer.Argument(..., help="Feature table from `hpcpredict features`, or a per-job CSV/Parquet table (give --time).", show_default=False),
    output: Path = typer.Option(..., "-o", "--output", help="Model bundle folder to write.", show_default=False),
    target: str = typer.Option("runtime_s", "--target", help="Column to predict."),
    time: str | None = typer.Option(None, "--time", help="Time column of a per-job table (splits and early stopping follow it)."),
    app: str | None = typer.Option(None, "--app", help="Application column of a per-job table (for --split loao, --by app)."),
    exclude: list[str] = typer.Option([], "--exclude", help="Regular expression of columns that are not features (repeatable)."),
    apps: list[str] = typer.Option([], "--apps", help="Train and test on this application only, e.g. control jobs (repeatable)."),
    objective: str = typer.Option("absolute", "--objective", help="absolute (MAE, default), relative, squared_log, underestimate or aft (TIMEOUT jobs censored)."),
    intervals: bool = typer.Option(False, "--intervals", help="Also fit p10/p50/p90 prediction intervals."),
    test_fraction: float = typer.Option(0.2, "--test-fraction", help="Share of the latest jobs held out for evaluation."),
    n_estimators: int = typer.Option(2000, "--n-estimators", help="Most boosting rounds (early stopping picks fewer)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    seed: int = typer.Option(0, "--seed"),
    dask: str | None = Dask,
) -> None:
    """Train an XGBoost model on the earliest jobs; the latest are held out."""
    from ..model import train as fit

    bundle = fit(
        features, output, target=target, time=time, app=app, exclude=exclude, apps=apps or None, objective=objective,
        intervals=intervals, test_fraction=test_fraction, n_estimators=n_estimators, device=device, seed=seed, dask=dask,
    )
    rows = bundle.manifest_.rows
    err_console.print(
        f"trained on {rows['train']:,} jobs x {len(bundle.feature_names)} features (+{rows['validation']:,} for early stopping, "
        f"{bundle.manifest_.n_trees} trees); {rows['test']:,} later jobs held out → {output}",
        highlight=False,
    )


@handle_errors
def evaluate(
    model: Path = typer.Argument(..., help="Model bundle folder.", show_default=False),
    features: Path | None = typer.Argument(None, help="Feature table (not needed with --replay).", show_default=False),
    split: str = typer.Option("temporal", "--split", help="temporal (default), rolling (refits every --every), loao (leave one application out) or kfold (random, flatters)."),
    every: str | None = typer.Option(None, "--every", help="Period of --split rolling: 7d refits weekly on the jobs ended by then (default: each calendar month)."),
    by: str | None = typer.Option(None, "--by", help="Also score per value of this column: app, partition, ..."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a predicted-vs-actual plot (PNG) here."),
    folds: int = typer.Option(5, "--folds", help="Folds of --split kfold."),
    replay: bool = typer.Option(False, "--replay", help="Replay held-out submissions in order, each predicted from what was known then."),
    jobs: Path | None = typer.Option(None, "--jobs", help="Jobs table to replay (with --replay)."),
    replay_n: int = typer.Option(100, "--replay-n", help="Submissions replayed, spread over the held-out period (0 = all)."),
    json: bool = Json,
) -> None:
    """Score the model beside the baselines on the same test jobs (or replay the queue with --replay)."""
    if replay:
        from ..queue import replay as run_replay

        result = run_replay(model, jobs, n=replay_n or None)
        print_json(result) if json else console.print(replay_table(result))
        return
    from ..evaluate.evaluation import evaluate as score

    result = score(model, features, split=split, by=by, plot=plot, folds=folds, every=every)
    if json:
        print_json(result)
        return
    console.print(evaluation_table(result))
    if result.common_rows < result.rows:
        console.print(common_table(result))
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for t in group_tables(result):
        console.print(t)
    if plot is not None:
        err_console.print(f"plot → {plot}", highlight=False)


@handle_errors
def predict(
    model: Path = typer.Argument(..., help="Model bundle folder.", show_default=False),
    features: Path | None = typer.Argument(None, help="Feature table (offline prediction).", show_default=False),
    queue: Path | None = typer.Option(None, "--queue", help="Pending jobs: squeue --json, squeue --format, sacct --parsable2 or CSV."),
    jobs: Path | None = typer.Option(None, "--jobs", help="Jobs table giving history and system state (with --queue)."),
    samples: Path | None = typer.Option(None, "--samples", help="Node monitoring samples (with --queue)."),
    at: str | None = typer.Option(None, "--at", help="Moment to predict at (ISO time); default the latest time in the inputs."),
    start: bool = typer.Option(False, "--start", help="Also each queued job's expected start: running jobs (from --jobs) end at their predicted runtimes, the queue is planned in priority order (needs --nodes)."),
    nodes: int | None = typer.Option(None, "--nodes", help="Machine size for --start (nodes, or processors when the jobs carry no node counts)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Predictions to write (Parquet)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (feature-table prediction)."),
    json: bool = Json,
) -> None:
    """Predict the runtime of every job in a feature table, or of the jobs waiting in a queue."""
    from ..prediction import predict as run_predict

    result = run_predict(model, features, output, queue=queue, jobs=jobs, samples=samples, at=at, start=start, nodes=nodes, device=device)
    if json:
        print_json(result.to_dict(orient="records"))
    elif queue is not None:
        console.print(queue_table(result))
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
    dask: str | None = Dask,
    json: bool = Json,
) -> None:
    """Rank features and families by mean |SHAP| (exact TreeSHAP from XGBoost), with confidence and drift."""
    from ..explain.analysis import explain as run_explain

    result = run_explain(
        model, features, output, top=top, rows="all" if all_rows else "test", sample=sample, exhaustive=all_, window=window, interactions=interactions,
        device=device, dask=dask,
    )
    if json:
        print_json(result)
    else:
        for t in ranking_tables(result):
            console.print(t)


@handle_errors
def demo(
    output: Path = typer.Option(Path("demo-out"), "-o", "--output", help="Folder for every stage's files."),
    dataset: str = typer.Option("simulated", "--dataset", help="simulated (default: a simulated cluster with planted causes) or kth-sp2 (a real trace)."),
    preset: str = typer.Option("default", "--preset", help="Simulator preset: tiny, default or large."),
    seed: int = typer.Option(0, "--seed", help="Simulator seed."),
    json: bool = Json,
) -> None:
    """Run the whole pipeline on built-in data and show the results."""
    from .._demo import demo as run_demo

    summary = run_demo(output, dataset=dataset, preset=preset, seed=seed)
    if json:
        print_json(summary)
        return
    for part in demo_report(summary):
        console.print(part)
    console.print(f"outputs under {output}/: " + ", ".join(Path(p).name for p in summary["files"].values()), highlight=False)
