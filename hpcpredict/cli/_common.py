"""What every command shares: the error boundary, JSON output and rich tables on stderr/stdout."""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable

import typer
from rich.console import Console
from rich.table import Table

from ..errors import HpcPredictError

__all__ = ["STATE", "console", "err_console", "handle_errors", "print_json", "table"]

STATE = {"debug": False}
console = Console()
err_console = Console(stderr=True)


def handle_errors(func: Callable) -> Callable:
    """Turn a user error into one line on stderr and exit status 2 (traceback only with --debug)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except HpcPredictError as exc:
            if STATE["debug"]:
                traceback.print_exc()
            err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def print_json(document) -> None:
    """Print one JSON document to stdout."""
    from .._results import jsonable  # result objects (explain, evaluate) as their to_dict()

    sys.stdout.write(json.dumps(document, indent=2, default=jsonable) + "\n")


def table(title: str, columns: list[str], rows: list[list], *, text_columns: tuple[str, ...] = ()) -> Table:
    """A rich table: the first column and ``text_columns`` left-aligned, numbers right-aligned."""
    out = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        out.add_column(col, justify="left" if i == 0 or col in text_columns else "right", no_wrap=i == 0)  # row names stay whole
    for row in rows:
        out.add_row(*[_fmt(v) for v in row])
    return out


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)
