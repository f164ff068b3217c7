"""Pieces of a self-contained HTML page: inline CSS, tables, base64 images. No external assets."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

from .._outputs import HTML_STAMP

__all__ = ["CSS", "figure", "number", "page", "raw", "section", "table"]

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; }
h2 { font-size: 1.35em; margin-top: 2em; border-bottom: 2px solid #e3e6ea; padding-bottom: 0.25em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
p, li { line-height: 1.5; }
.lead { font-size: 1.08em; color: #3a424b; }
.note { color: #5b6570; font-size: 0.92em; }
.callout { background: #eef5fc; border-left: 4px solid #1f77b4; padding: 10px 14px; margin: 1em 0; }
.warn { background: #fff6e5; border-left-color: #e59400; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.93em; }
th, td { padding: 5px 10px; border-bottom: 1px solid #e3e6ea; text-align: right; }
th { background: #f0f2f5; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; }
tr.best td, td.best { font-weight: 700; color: #0b5394; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e3e6ea; }
figcaption { color: #5b6570; font-size: 0.9em; margin-top: 0.3em; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
.grid figure { flex: 1 1 320px; }
footer { margin-top: 3em; color: #8a939c; font-size: 0.85em; }
"""


def number(value, *, digits: int = 3) -> str:
    """A number as a reader wants it: thousands separators, few decimals, "–" for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 10 else f"{value:,.0f}"
    return html.escape(str(value))


def table(columns: list[str], rows: list[list], *, best: list[int | None] | None = None, text_columns: int = 1) -> str:
    """An HTML table; cell ``best[i]`` of row i is emphasised; the first ``text_columns`` are left-aligned."""
    left = ' class="text"'
    head = "".join(f"<th{left if j < text_columns else ''}>{html.escape(c)}</th>" for j, c in enumerate(columns))
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, value in enumerate(row):
            classes = []
            if best is not None and best[i] == j:
                classes.append("best")
            if j < text_columns or isinstance(value, _Raw):
                classes.append("text")
            cls = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{cls}>{value if isinstance(value, _Raw) else number(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw(str):
    """Text already escaped (or markup) that :func:`table` puts in a cell as is."""


def raw(text: str) -> _Raw:
    """Mark markup for :func:`table`."""
    return _Raw(text)


def figure(path: Path, caption: str, *, alt: str) -> str:
    """A PNG file inlined as a base64 data URI, with its caption."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def section(title: str, *parts: str, anchor: str | None = None) -> str:
    """A titled section of the page."""
    ident = f' id="{html.escape(anchor)}"' if anchor else ""
    return f"<section{ident}><h2>{html.escape(title)}</h2>{''.join(parts)}</section>"


def page(title: str, body: str) -> str:
    """The whole document: one file, inline CSS, nothing fetched from anywhere."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" + HTML_STAMP +
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><main>{body}</main></body></html>\n"
    )
