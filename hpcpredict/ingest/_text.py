"""Opening text inputs, plain or gzip, with errors that name the file."""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputFileError

__all__ = ["iter_lines"]


def iter_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of a plain or gzip text file.

    Line numbers are 1-based; the trailing newline is removed. A missing, unreadable, binary or
    truncated file raises :class:`~hpcpredict.errors.InputFileError` naming it (and the line at
    which reading failed).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file" if not path.exists() else "not a regular file")
    with open(path, "rb") as probe:
        magic = probe.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    lineno = 0
    try:
        with opener(path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline=None)
            for lineno, line in enumerate(text, start=1):
                yield lineno, line.rstrip("\r\n")
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise InputFileError(path, f"truncated or unreadable compressed data ({exc})", line=lineno + 1) from None
    except UnicodeDecodeError:
        raise InputFileError(path, "not a text file (undecodable bytes)", line=lineno + 1) from None
