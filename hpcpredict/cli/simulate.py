"""``hpcpredict simulate``: write a simulated cluster's monitoring dump with planted causes of slowdown."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import err_console, handle_errors, print_json


@handle_errors
def simulate(
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write (replaced when complete).", show_default=False),
    preset: str = typer.Option("default", "--preset", help="tiny (tests), default (demo) or large (benchmarks)."),
    nodes: int | None = typer.Option(None, "--nodes", help="Hosts, rounded up to whole dragonfly groups."),
    days: int | None = typer.Option(None, "--days", help="Simulated days."),
    seed: int = typer.Option(0, "--seed", help="The same seed gives byte-identical files."),
    monitoring: str = typer.Option("ldms", "--monitoring", help="Node counters as ldms (store_csv files) or pcp (pmlogger archives per host and day; needs PCP)."),
    json: bool = typer.Option(False, "--json", help="Print the summary as one JSON document to stdout."),
) -> None:
    """Simulate a cluster: sacct.txt, ldms/ (or pcp/), topology.csv, queue.txt and truth.json."""
    from ..simulate import simulate as run_simulate

    summary = run_simulate(output, preset=preset, nodes=nodes, days=days, seed=seed, monitoring=monitoring)
    if json:
        print_json(summary)
        return
    states = ", ".join(f"{v:,} {k.lower()}" for k, v in summary["states"].items())
    err_console.print(
        f"simulated {summary['nodes']:,} hosts x {summary['days']} days ({summary['preset']}, seed {summary['seed']}): "
        f"{summary['jobs']:,} jobs ({states}), {summary['control_jobs']:,} control runs, "
        f"{monitoring_line(summary)} → {output}",
        highlight=False,
    )


def monitoring_line(summary: dict) -> str:
    """What the node monitoring became: LDMS rows, or PCP archives and records."""
    if summary["monitoring"] == "pcp":
        return f"{summary['pcp_archives']:,} PCP archives ({summary['pcp_records']:,} records)"
    return f"{summary['ldms_rows']:,} LDMS rows"
