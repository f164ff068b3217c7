"""Opening text inputs, plain or gzip, with errors that name the file."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputFileError, ParameterError

__all__ = ["READ_ERRORS", "check_timezone", "cr_only", "iter_lines"]

#: What a damaged compressed file raises while it is read (a bit flipped: ``zlib.error``).
READ_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


def check_timezone(tz: str) -> str:
    """``tz`` if it names a time zone, else a :class:`ParameterError` (one line, exit 2).

    Examples
    --------
    >>> check_timezone("Europe/Prague")
    'Europe/Prague'
    >>> check_timezone("Mars/Olympus")
    Traceback (most recent call last):
    ...
    hpcpredict.errors.ParameterError: The 'tz' parameter must be a time zone name such as 'UTC' or 'Europe/Prague'. Got 'Mars/Olympus' instead.
    """
    import pandas as pd

    try:
        pd.Timestamp("2000-01-01").tz_localize(tz)
    except Exception:  # zoneinfo, pytz and dateutil each raise their own kind
        raise ParameterError("tz", "a time zone name such as 'UTC' or 'Europe/Prague'", tz) from None
    return tz


def cr_only(head: bytes) -> bool:
    """True for text whose lines end in a bare carriage return (classic Mac OS): CR, never LF."""
    return b"\r" in head and b"\n" not in head


def iter_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of a plain or gzip text file.

    Line numbers are 1-based; the trailing newline (LF, CRLF, or CR in a file whose lines all end
    in CR) is removed, and a UTF-8 byte order mark is dropped. A carriage return inside a line
    does not split it. A missing, unreadable, binary or truncated file raises
    :class:`~hpcpredict.errors.InputFileError` naming it (and the line at which reading failed).
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
            newline = None if cr_only(raw.peek(1 << 16)[: 1 << 16]) else "\n"
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline=newline)
            for lineno, line in enumerate(text, start=1):
                yield lineno, line.rstrip("\r\n")
    except READ_ERRORS as exc:
        raise InputFileError(path, f"truncated or unreadable compressed data ({exc})", line=lineno + 1) from None
    except UnicodeDecodeError:
        raise InputFileError(path, "not a text file (undecodable bytes)", line=lineno + 1) from None
