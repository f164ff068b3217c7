"""``hpcpredict ingest FORMAT``: one subcommand per input format."""

from __future__ import annotations

from pathlib import Path

import typer


from ._common import err_console, handle_errors


def run_ingest(*args, **kwargs) -> dict:
    """:func:`hpcpredict.api.ingest`, imported when a command runs (``--help`` loads no reader)."""
    from ..ingest import ingest

    return ingest(*args, **kwargs)


def quarantine_path(output) -> Path:
    from ..ingest import quarantine_path as path_of

    return path_of(output)

app = typer.Typer(help="Read scheduler accounting or monitoring dumps into canonical Parquet tables.", no_args_is_help=True)

Files = typer.Argument(..., help="Input files (plain or gzip).", show_default=False)
Output = typer.Option(..., "-o", "--output", help="Jobs table to write (Parquet).", show_default=False)


def report_counts(counts: dict[str, int], output: Path) -> None:
    """Print the counts that reconcile, and where the quarantine went."""
    err_console.print(
        f"read {counts['lines_read']:,} records: {counts['jobs']:,} jobs → {output}, "
        f"{counts['quarantined']:,} quarantined → {quarantine_path(output)}, "
        f"{counts['duplicates_merged']:,} merged into their job (steps, repeated records)"
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


Strict = typer.Option(False, "--strict", help="Stop at the first bad line instead of quarantining it.")
Tz = typer.Option("UTC", "--tz", help="Time zone of times written without one (the dump's local time).")


@app.command("sacct")
@handle_errors
def sacct(
    files: list[Path] = Files,
    output: Path = Output,
    tz: str = Tz,
    cluster: str = typer.Option(None, "--cluster", help="Cluster name where the dump has no Cluster field."),
    strict: bool = Strict,
) -> None:
    """Slurm accounting: `sacct --parsable2` (or --parsable, or CSV) with a header line.

    Steps are folded into their jobs; read in blocks, so memory stays bounded for any dump size.
    """
    counts = run_ingest("sacct", files, output, tz=tz, cluster=cluster, strict=strict)
    report_counts(counts, output)


@app.command("pbs")
@handle_errors
def pbs(
    files: list[Path] = Files,
    output: Path = Output,
    tz: str = Tz,
    strict: bool = Strict,
) -> None:
    """PBS Pro / Torque accounting logs (server_priv/accounting/YYYYMMDD)."""
    counts = run_ingest("pbs", files, output, tz=tz, strict=strict)
    report_counts(counts, output)


@app.command("table")
@handle_errors
def table(
    files: list[Path] = Files,
    output: Path = Output,
    preset: str = typer.Option(None, "--preset", help="A shipped column mapping: nrel-eagle, mit-supercloud."),
    mapping: Path = typer.Option(None, "--map", help="A TOML column mapping (see docs/ingest.md)."),
    strict: bool = Strict,
) -> None:
    """Per-job CSV or Parquet tables, through a column mapping (--preset NAME or --map FILE)."""
    counts = run_ingest("table", files, output, preset=preset, mapping=mapping, strict=strict)
    report_counts(counts, output)


def report_sample_counts(counts: dict[str, int], output: Path, *, read: str = "lines") -> None:
    """Print the samples ingest counts first, then where the samples and the quarantine went."""
    err_console.print(
        f"read {counts['lines_read']:,} {read}: {counts['samples']:,} samples of {counts['hosts']:,} hosts x "
        f"{counts['metrics']} metrics, {counts['quarantined']:,} quarantined, "
        f"{counts['duplicates_merged']:,} duplicates merged → {output}/ (quarantine: {quarantine_path(output)})",
        highlight=False,
        soft_wrap=True,
    )


SamplesOut = typer.Option(..., "-o", "--output", help="Samples folder to write (Parquet per day).", show_default=False)


@app.command("ldms")
@handle_errors
def ldms(
    files: list[Path] = typer.Argument(..., help="LDMS store_csv files, .HEADER files or folders.", show_default=False),
    output: Path = SamplesOut,
    round_s: float = typer.Option(1.0, "--round-s", help="Round timestamps to this step before merging samplers."),
    strict: bool = Strict,
    dask: str | None = typer.Option(None, "--dask", help="Parse files in parallel on Dask: local:N or a scheduler address tcp://host:8786.", show_default=False),
) -> None:
    """LDMS store_csv node counters (one file set per sampler)."""
    from ..ingest import ingest_samples

    report_sample_counts(ingest_samples("ldms", files, output, round_s=round_s, strict=strict, dask=dask), output)


@app.command("pcp")
@handle_errors
def pcp(
    archives: list[Path] = typer.Argument(..., help="pmlogger archives (any of ARCHIVE.{0,index,meta}) or folders of them (HOST/YYYYMMDD.*).", show_default=False),
    output: Path = SamplesOut,
    keep_domain: bool = typer.Option(False, "--keep-domain", help="Keep archive host names whole (default: cut at the first dot, as Slurm names nodes)."),
    host: list[str] = typer.Option([], "--host", help="ARCHIVE_HOST=NODE: the name the scheduler gives a host the archives name otherwise (repeat).", show_default=False),
) -> None:
    """Performance Co-Pilot pmlogger archives (as Open XDMoD SUPReMM sites keep them), through PCP's own bindings."""
    from ..errors import ParameterError
    from ..ingest import ingest_samples

    bad = [h for h in host if h.count("=") != 1 or not all(h.split("="))]
    if bad:
        raise ParameterError("--host", "ARCHIVE_HOST=NODE", bad[0])
    counts = ingest_samples("pcp", archives, output, keep_domain=keep_domain, hosts=dict(h.split("=") for h in host))
    report_sample_counts(counts, output, read=f"records of {counts['archives']:,} archives")


@app.command("samples")
@handle_errors
def samples(
    files: list[Path] = typer.Argument(..., help="CSV or Parquet: long (timestamp,host,metric,value) or wide.", show_default=False),
    output: Path = SamplesOut,
    layout: str = typer.Option("auto", "--layout", help="auto, long or wide."),
) -> None:
    """Generic node samples, long (e.g. a Prometheus export) or wide."""
    from ..ingest import ingest_samples

    report_sample_counts(ingest_samples("samples", files, output, layout=layout), output)
