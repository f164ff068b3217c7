"""Reading delimited accounting text in bounded chunks, with line numbers, raw text and a header.

Used by the Slurm reader: a file is read as bytes a block of lines at a time, each line checked
for its field count (bad lines are quarantined with their raw text), and the good lines parsed by
pyarrow's CSV reader into string columns. Memory holds one chunk, whatever the file size.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputFileError
from ._slurm_values import TEXT

__all__ = ["Header", "TextChunk", "iter_chunks", "open_binary", "read_header"]


@dataclass
class Header:
    """The column names of a delimited file and how its lines are cut."""

    names: list[str]
    delimiter: str  # "|" or ","
    trailing: bool  # sacct --parsable ends every line with the delimiter
    line: int  # 1-based line of the header, 0 when the names were given
    text: str | None  # the header line as written, to skip repeats in concatenated dumps


@dataclass
class TextChunk:
    """One block of lines: the good ones as string columns, the bad ones with reasons."""

    frame: pd.DataFrame  # one string column per header name, plus "_line" (int)
    raw: list[str]  # raw text of each row of ``frame``
    bad: list[tuple[int, str, str]]  # (line, raw, reason)
    lines_read: int  # data lines in this chunk (good + bad)
    bytes_read: int


def open_binary(path: Path):
    """Open a plain or gzip file for binary reading; errors name the file."""
    if not path.is_file():
        raise InputFileError(path, "no such file" if not path.exists() else "not a regular file")
    try:
        with open(path, "rb") as probe:
            magic = probe.read(2)
        return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror or exc})") from None


def _split_header(text: str) -> tuple[list[str], str, bool]:
    if "|" in text:
        trailing = text.endswith("|")
        names = (text[:-1] if trailing else text).split("|")
        return [n.strip() for n in names], "|", trailing
    try:
        names = next(csv.reader([text]))
    except csv.Error:  # e.g. a lone carriage return: not a header anyway, the caller says so
        names = text.split(",")
    return [n.strip() for n in names], ",", False


def read_header(path: Path, *, required: tuple[str, ...], what: str, columns=None) -> Header:
    """Find the header (first non-blank line) and check that it names one of ``required``."""
    if columns is not None:
        return Header([str(c) for c in columns], "|", False, 0, None)
    with open_binary(path) as fh:
        lineno = 0
        try:
            for lineno, raw in enumerate(fh, start=1):
                text = raw.decode("utf-8").rstrip("\r\n")
                if text.strip():
                    break
            else:
                raise InputFileError(path, f"empty file: expected a {what} header line")
        except (UnicodeDecodeError, EOFError, gzip.BadGzipFile, OSError):
            raise InputFileError(path, "not a text file (undecodable or truncated data)", line=lineno or 1) from None
    names, delimiter, trailing = _split_header(text)
    lowered = {n.lower() for n in names}
    if not lowered.intersection(r.lower() for r in required):
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise InputFileError(
            path, f"not a {what}: the header line should name {' or '.join(required)}, found {shown!r}", line=lineno
        )
    return Header(names, delimiter, trailing, lineno, text)


def iter_chunks(path: Path, header: Header, *, chunk_lines: int) -> Iterator[TextChunk]:
    """Yield the data lines of ``path`` after its header, ``chunk_lines`` at a time."""
    n_fields = len(header.names)
    sep = header.delimiter.encode()
    header_bytes = header.text.encode() if header.text is not None else None
    with open_binary(path) as fh:
        lineno = 0
        good: list[bytes] = []
        numbers: list[int] = []
        bad: list[tuple[int, str, str]] = []
        n_read = n_bytes = 0
        try:
            for lineno, raw in enumerate(fh, start=1):
                n_bytes += len(raw)
                if lineno <= header.line:
                    continue
                line = raw.rstrip(b"\r\n")
                if not line.strip() or line == header_bytes:
                    continue  # blank lines, and the header repeated by a concatenated dump
                n_read += 1
                if b"\r" in line:  # a lone carriage return would split the line in two
                    bad.append((lineno, _text(line), "carriage return inside the line"))
                    continue
                if header.trailing:
                    if not line.endswith(sep):
                        bad.append((lineno, _text(line), "expected a trailing '|' (sacct --parsable)"))
                        continue
                    line = line[:-1]
                if sep == b"|":
                    found = line.count(sep) + 1
                    if found != n_fields:
                        bad.append((lineno, _text(line), f"expected {n_fields} fields, found {found}"))
                        continue
                good.append(line)
                numbers.append(lineno)
                if len(good) >= chunk_lines:
                    yield _make_chunk(path, header, good, numbers, bad, n_read, n_bytes)
                    good, numbers, bad, n_read, n_bytes = [], [], [], 0, 0
        except (EOFError, gzip.BadGzipFile, OSError) as exc:
            raise InputFileError(path, f"truncated or unreadable compressed data ({exc})", line=lineno + 1) from None
        if good or bad or n_read:
            yield _make_chunk(path, header, good, numbers, bad, n_read, n_bytes)


def _text(line: bytes) -> str:
    return line.decode("utf-8", errors="replace")


def _make_chunk(path, header: Header, good, numbers, bad, n_read, n_bytes) -> TextChunk:
    names = header.names
    decoded: list[str] = []
    keep: list[int] = []
    for i, line in enumerate(good):
        try:
            decoded.append(line.decode("utf-8"))
            keep.append(i)
        except UnicodeDecodeError:
            bad.append((numbers[i], _text(line), "not UTF-8 text"))
    numbers = [numbers[i] for i in keep]
    if header.delimiter == ",":
        frame, decoded, numbers = _parse_csv(decoded, numbers, names, bad)
    else:
        frame = _parse_pipe(decoded, names)
    frame["_line"] = pd.Series(numbers, index=frame.index, dtype="int64")
    bad.sort()
    return TextChunk(frame, decoded, bad, n_read, n_bytes)


def _parse_pipe(lines: list[str], names: list[str]) -> pd.DataFrame:
    if not lines:
        return pd.DataFrame({n: pd.Series(dtype=TEXT) for n in names})
    data = ("\n".join(lines) + "\n").encode()
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(len(names))], block_size=1 << 26),
        parse_options=pacsv.ParseOptions(delimiter="|", quote_char=False, escape_char=False, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types={f"c{i}": pa.string() for i in range(len(names))},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    frame = table.to_pandas(types_mapper={pa.string(): TEXT}.get)
    frame.columns = names
    return frame


def _parse_csv(lines, numbers, names, bad):
    rows, kept_lines, kept_numbers = [], [], []
    for number, line in zip(numbers, lines):
        try:
            fields = next(csv.reader([line]))
        except csv.Error as exc:
            bad.append((number, line, f"not a CSV line ({exc})"))
            continue
        if len(fields) != len(names):
            bad.append((number, line, f"expected {len(names)} fields, found {len(fields)}"))
            continue
        rows.append(fields)
        kept_lines.append(line)
        kept_numbers.append(number)
    frame = pd.DataFrame(rows, columns=names, dtype=TEXT) if rows else pd.DataFrame(
        {n: pd.Series(dtype=TEXT) for n in names}
    )
    return frame, kept_lines, kept_numbers


def file_size(path: str | os.PathLike[str]) -> int:
    """Bytes on disk (the progress bar's total; gzip files advance faster than it)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
