"""``hpcpredict collect``: keep a jobs table current from the live Slurm."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import err_console, handle_errors


@handle_errors
def collect(
    table: Path = typer.Argument(..., help="Jobs table (Parquet), created or updated.", show_default=False),
    since: str | None = typer.Option(None, "--since", help="Start of the window (default: where the last run left off; required the first time)."),
    until: str | None = typer.Option(None, "--until", help="End of the window (default: now)."),
    sacct: str = typer.Option("sacct", "--sacct", help="The sacct program to run."),
    cluster: str | None = typer.Option(None, "--cluster", help="Ask only this cluster."),
) -> None:
    """Run sacct for a time window and merge its jobs into TABLE: no duplicates, ended jobs updated.

    Asks for hpcpredict's field list, every state, and a delimiter no field carries; run it from
    cron (or let `serve --refresh` run it). Lines that cannot be read accumulate, with the reason,
    in TABLE's quarantine beside it (jobs.quarantine.parquet for jobs.parquet).
    """
    from ..collect import collect as run_collect

    r = run_collect(table, since=since, until=until, sacct=sacct, cluster=cluster)
    err_console.print(
        f"{r.table}: {r.read:,} jobs from sacct ({r.since:%Y-%m-%d %H:%M} to {r.until:%Y-%m-%d %H:%M} UTC) + "
        f"{r.merged:,} steps and repeats merged + {r.quarantined:,} lines quarantined = {r.lines_read:,} lines read; "
        f"{r.added:,} new, {r.updated:,} updated, {r.total:,} jobs in the table",
        highlight=False, soft_wrap=True,
    )
    if r.quarantined or r.quarantine_total:
        err_console.print(f"{r.quarantine}: {r.quarantine_added:,} lines added, {r.quarantine_total:,} in all "
                          "(the lines sacct gave that could not be read, with the reason)", highlight=False, soft_wrap=True)
