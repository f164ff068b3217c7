"""The ``report`` verb: one self-contained HTML page about a model."""

from __future__ import annotations

from pathlib import Path

import typer


from ._common import err_console, handle_errors


@handle_errors
def report(
    model: Path = typer.Argument(..., help="Model bundle folder.", show_default=False),
    features: Path = typer.Argument(..., help="Feature table.", show_default=False),
    output: Path = typer.Option(Path("report.html"), "-o", "--output", help="HTML file to write."),
    top: int = typer.Option(10, "--top", help="Features shown."),
    sample: int | None = typer.Option(None, "--sample", help="Explain a random sample of this many jobs."),
    all_: bool = typer.Option(False, "--all", help="Compute SHAP for every held-out job (no sampling)."),
    interactions: int = typer.Option(100, "--interactions", help="Jobs sampled for interaction values (0: none)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
) -> None:
    """Write one self-contained HTML page: evaluation table, dominant predictors, plots."""
    from ..report import report as write_report

    path = write_report(model, features, output, top=top, sample=sample, exhaustive=all_, interactions=interactions, device=device)
    err_console.print(f"report → {path} ({path.stat().st_size / 1e6:.1f} MB, self-contained)", highlight=False)
