"""``hpcpredict schedule``: replay a trace under backfilling with each predictor and compare."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import console, err_console, handle_errors, print_json, table


@handle_errors
def schedule(
    jobs: Path = typer.Argument(..., help="Jobs table (Parquet) from `hpcpredict ingest`, or an SWF trace (.swf, .swf.gz).", show_default=False),
    predictor: list[str] = typer.Option(["limit"], "--predictor", help="limit, last2, alea, oracle or model:PATH (repeatable)."),
    policy: str = typer.Option("easy", "--policy", help="easy or conservative backfilling."),
    nodes: int | None = typer.Option(None, "--nodes", help="Machine size (default: the SWF header, or the largest job)."),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG comparing the predictors here."),
    starts: int = typer.Option(0, "--starts", help="Also score start-time predictions at submission for this many jobs (evenly spread) against the recorded starts, beside the limit-based planner."),
    json: bool = typer.Option(False, "--json", help="Print one JSON document to stdout instead of a table."),
) -> None:
    """Replay the trace's submissions with a backfilling scheduler planning with each predictor."""
    from ..schedule import compare_predictors

    result = compare_predictors(jobs, predictors=predictor, policy=policy, nodes=nodes, plot=plot, starts=starts)
    if json:
        print_json(result)
        return
    console.print(schedule_table(result))
    if "start_times" in result:
        console.print(start_table(result["start_times"]))
    aside = ", ".join(f"{n:,} {why}" for why, n in result["set_aside"].items())
    err_console.print(
        f"{result['jobs']:,} jobs on {result['machine_size']:,} {result['unit']} ({result['machine_source']})"
        + (f"; set aside: {aside}" if aside else "")
        + (f"; figures over the {result['measured_jobs']:,} jobs submitted after {result['measured_from']} (the model's training window)" if result["measured_from"] else "")
        + (f"; plot → {plot}" if plot else ""),
        highlight=False,
    )


def schedule_table(result: dict):
    """One row per predictor (and the trace's own record when it has start times)."""
    columns = ["predictor", "mean wait (s)", "p95 wait (s)", "mean bounded slowdown", "utilisation", "backfilled", "delayed by underestimates"]
    rows = [
        [r["predictor"], r["mean_wait_s"], r["p95_wait_s"], r["mean_bounded_slowdown"], r["utilisation"], r["backfilled"], r["delayed_by_underestimate"]]
        for r in result["results"]
    ]
    if result.get("recorded"):
        rec = result["recorded"]
        rows.append(["recorded in the trace", rec["mean_wait_s"], rec["p95_wait_s"], rec["mean_bounded_slowdown"], "", "", ""])
    return table(f"{result['policy']} backfilling replay", columns, rows)


def start_table(scores: dict):
    """Start-time accuracy per predictor (``limit`` is what ``squeue --start`` plans with)."""
    columns = ["planner", "MAE (s)", "median |error| (s)", "bias (s)", "within 10%", "within 1 h"]
    rows = [[name, s["mae_s"], s["median_abs_error_s"], s["bias_s"], s["within_10pct"], s["within_1h"]] for name, s in scores["predictors"].items()]
    return table(f"start times predicted at submission, {scores['jobs']:,} jobs", columns, rows)
