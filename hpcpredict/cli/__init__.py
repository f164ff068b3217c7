"""The ``hpcpredict`` command line: a thin veneer over the package's public functions."""

from __future__ import annotations

import os

import typer

# The command line only writes figures to files: never reach for a display. (The library leaves
# the backend alone, so plots show inline in notebooks.) Set before matplotlib is imported, which
# only a command that plots does.
os.environ.setdefault("MPLBACKEND", "Agg")

from .._version import __version__
from . import ingest, pipeline, report, serve
from . import simulate as simulate_cli
from .collect import collect as collect_command
from .schedule import schedule as schedule_command
from ._common import STATE

__all__ = ["app", "main"]

app = typer.Typer(
    name="hpcpredict",
    help="Runtime prediction and explanation from longitudinal HPC monitoring data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(ingest.app, name="ingest")
for _verb in ("features", "train", "evaluate", "predict", "explain", "demo"):
    app.command(_verb)(getattr(pipeline, _verb))
app.command("report")(report.report)
app.command("serve")(serve.serve)
app.command("simulate")(simulate_cli.simulate)
app.command("schedule")(schedule_command)
app.command("collect")(collect_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hpcpredict {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    STATE["debug"] = debug


def main() -> None:
    """Entry point of the ``hpcpredict`` console script."""
    app()
