"""``hpcpredict ingest FORMAT``: one subcommand per input format."""

from __future__ import annotations

from pathlib import Path

import typer

from ..ingest import ingest as run_ingest
from ..ingest import quarantine_path

from ._common import err_console, handle_errors

app = typer.Typer(help="Read scheduler accounting or monitoring dumps into canonical Parquet tables.", no_args_is_help=True)

Files = typer.Argument(..., help="Input files (plain or gzip).", show_default=False)
Output = typer.Option(..., "-o", "--output", help="Jobs table to write (Parquet).", show_default=False)


def report_counts(counts: dict[str, int], output: Path) -> None:
    """Print the counts that reconcile, and where the quarantine went."""
    err_console.print(
        f"read {counts['lines_read']:,} records: {counts['jobs']:,} jobs → {output}, "
        f"{counts['quarantined']:,} quarantined → {quarantine_path(output)}, "
        f"{counts['duplicates_merged']:,} duplicates merged"
        + (" (the quarantine table gives each line's file, number and reason)" if counts["quarantined"] else ""),
        highlight=False,
    )


@app.command("swf")
@handle_errors
def swf(
    files: list[Path] = Files,
    output: Path = Output,
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad line instead of quarantining it."),
) -> None:
    """Standard Workload Format traces (Parallel Workloads Archive)."""
    counts = run_ingest("swf", files, output, strict=strict)
    report_counts(counts, output)
