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
from itertools import islice
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputFileError
from ._repair import repair_fields
from ._text import READ_ERRORS, cr_only
from ._slurm_values import TEXT

__all__ = ["Header", "RawLines", "TextChunk", "iter_chunks", "open_binary", "read_header"]


@dataclass
class Header:
    """The column names of a delimited file and how its lines are cut."""

    names: list[str]
    delimiter: str  # "|", the unit separator "\x1f" (hpcpredict collect) or ","
    trailing: bool  # sacct --parsable ends every line with the delimiter
    line: int  # 1-based line of the header, 0 when the names were given
    text: str | None  # the header line as written, to skip repeats in concatenated dumps


@dataclass
class TextChunk:
    """One block of lines: the good ones as string columns, the bad ones with reasons."""

    frame: pd.DataFrame  # one string column per header name, plus "_line" (int)
    raw: RawLines  # raw text of each row of ``frame``, decoded on demand
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
        fh = gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
        if cr_only(fh.peek(1 << 16)[: 1 << 16]):
            return io.BufferedReader(_CarriageReturnsAsNewlines(fh), 1 << 20)
        return fh
    except READ_ERRORS as exc:
        raise InputFileError(path, f"cannot read ({getattr(exc, 'strerror', None) or exc})") from None


class _CarriageReturnsAsNewlines(io.RawIOBase):
    """A file whose lines end in CR alone, read as if they ended in LF."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer)).replace(b"\r", b"\n")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


#: Single-byte delimiters cut by the vectorised path: sacct's ``|`` and the ASCII unit separator
#: that ``hpcpredict collect`` asks sacct for (no job name or comment carries it).
PIPE_DELIMITERS = ("\x1f", "|")


def _split_header(text: str) -> tuple[list[str], str, bool]:
    for sep in PIPE_DELIMITERS:
        if sep in text:
            trailing = text.endswith(sep)
            names = (text[:-1] if trailing else text).split(sep)
            return [n.strip() for n in names], sep, trailing
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
                if lineno == 1:
                    text = text.removeprefix("\ufeff")  # a byte order mark is not part of the first name
                if text.strip():
                    break
            else:
                raise InputFileError(path, f"empty file: expected a {what} header line")
        except (UnicodeDecodeError, *READ_ERRORS):
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
    """Yield the data lines of ``path`` after its header, ``chunk_lines`` at a time.

    ``|`` files take the vectorised path; CSV exports (rare, and quoted) are cut line by line.
    """
    if header.delimiter in PIPE_DELIMITERS:
        yield from _iter_pipe_chunks(path, header, chunk_lines=chunk_lines)
        return
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
        except READ_ERRORS as exc:
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
    frame, decoded, numbers = _parse_csv(decoded, numbers, names, bad)
    frame["_line"] = pd.Series(numbers, index=frame.index, dtype="int64")
    bad.sort()
    return TextChunk(frame, RawLines.from_texts(decoded), bad, n_read, n_bytes)


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


class RawLines:
    """The raw text of a block's rows, kept as the bytes read and decoded only when asked for
    (a quarantined row), so that good rows cost no Python string each.

    Indexing by int gives one line's text; slicing and ``+`` give new RawLines.
    """

    def __init__(self, segments: list[tuple[bytes, np.ndarray, np.ndarray]]) -> None:
        self._segments = [seg for seg in segments if len(seg[1])]
        self._offsets = np.cumsum([0] + [len(seg[1]) for seg in self._segments])

    @classmethod
    def from_texts(cls, texts: list[str]) -> RawLines:
        """RawLines over already decoded lines."""
        encoded = [t.encode("utf-8", errors="surrogatepass") for t in texts]
        lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64) if len(encoded) else lengths
        return cls([(b"\n".join(encoded), starts, starts + lengths)])

    def __len__(self) -> int:
        return int(self._offsets[-1])

    def __getitem__(self, item):
        if isinstance(item, slice):
            lo, hi, _ = item.indices(len(self))
            out = []
            for (block, starts, stops), first in zip(self._segments, self._offsets[:-1]):
                a, b = max(lo - first, 0), min(hi - first, len(starts))
                if a < b:
                    out.append((block, starts[a:b], stops[a:b]))
            return RawLines(out)
        i = int(item)
        k = int(np.searchsorted(self._offsets, i, side="right")) - 1
        block, starts, stops = self._segments[k]
        j = i - int(self._offsets[k])
        return _text(block[starts[j]:stops[j]])

    def __add__(self, other: RawLines) -> RawLines:
        return RawLines(self._segments + other._segments)


_NL, _CR = 10, 13


def _iter_pipe_chunks(path: Path, header: Header, *, chunk_lines: int) -> Iterator[TextChunk]:
    """The ``|`` case, vectorised: a block of lines is checked with numpy (field counts, carriage
    returns) and parsed by pyarrow in one call; only bad lines are looked at one by one."""
    with open_binary(path) as fh:
        lineno = 0
        try:
            for _ in range(header.line):
                fh.readline()
                lineno += 1
            while True:
                lines = list(islice(fh, chunk_lines))
                if not lines:
                    break
                block = b"".join(lines)
                if not block.endswith(b"\n"):
                    block += b"\n"
                yield _pipe_chunk(path, header, block, lineno)
                lineno += len(lines)
        except READ_ERRORS as exc:
            raise InputFileError(path, f"truncated or unreadable compressed data ({exc})", line=lineno + 1) from None


def _pipe_chunk(path: Path, header: Header, block: bytes, base: int) -> TextChunk:
    n = len(header.names)
    sep = header.delimiter.encode()
    bar = sep[0]
    arr = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(arr == _NL)
    starts = np.concatenate(([0], ends[:-1] + 1))
    stops = ends - ((ends > starts) & (arr[np.maximum(ends - 1, 0)] == _CR))  # drop a CR of CRLF
    # Count separators per line by searching their positions (a cumulative sum over every byte
    # would cost 8 bytes of memory per byte read).
    bars = np.flatnonzero(arr == bar)
    crs = np.flatnonzero(arr == _CR)
    n_bars = np.searchsorted(bars, stops) - np.searchsorted(bars, starts)
    inner_cr = (np.searchsorted(crs, stops) - np.searchsorted(crs, starts)) > 0
    length = stops - starts
    if header.trailing:
        ok = (n_bars == n) & (length > 0) & (arr[np.maximum(stops - 1, 0)] == bar)
    else:
        ok = n_bars == n - 1
    ok &= ~inner_cr & (length > 0)
    bad: list[tuple[int, str, str]] = []
    repaired: list[tuple[int, str, list[str]]] = []
    skipped = 0
    header_bytes = header.text.encode() if header.text is not None else None
    for i in np.flatnonzero(~ok):
        line = block[starts[i]:stops[i]]
        if not line.strip() or line == header_bytes:
            skipped += 1  # blank lines, and the header repeated by a concatenated dump
        elif inner_cr[i]:
            bad.append((base + i + 1, _text(line), "carriage return inside the line"))
        elif header.trailing and not line.endswith(sep):
            bad.append((base + i + 1, _text(line), f"expected a trailing {header.delimiter!r} (sacct --parsable)"))
        else:
            text = _text(line)
            fields, reason = repair_fields((text[:-1] if header.trailing else text).split(header.delimiter),
                                           header.names, header.delimiter)
            if fields is None:
                bad.append((base + i + 1, text, reason))
            else:
                repaired.append((base + i + 1, text, fields))
    frame, ok = _parse_block(arr, block, starts, stops, ends, ok, n + header.trailing, bad, base, header.delimiter)
    frame = frame.iloc[:, :n]
    frame.columns = header.names
    rows = np.flatnonzero(ok)
    frame["_line"] = base + 1 + rows
    raw = RawLines([(block, starts[rows], stops[rows])])
    if repaired:
        frame, raw = _with_repaired(frame, raw, repaired, header.names)
    if header_bytes is not None and len(frame) and (frame.iloc[:, 0] == header.names[0]).any():
        repeat = np.ones(len(frame), dtype=bool)
        for col, name in zip(frame.columns[:n], header.names):
            repeat &= (frame[col] == name).to_numpy(dtype=bool, na_value=False)
        if repeat.any():
            skipped += int(repeat.sum())
            keep = np.flatnonzero(~repeat)
            frame = frame.iloc[keep].reset_index(drop=True)
            raw = RawLines([(block, starts[rows[keep]], stops[rows[keep]])])
    bad.sort()
    return TextChunk(frame, raw, bad, len(ends) - skipped, len(block))


def _with_repaired(frame: pd.DataFrame, raw: RawLines, repaired, names) -> tuple[pd.DataFrame, RawLines]:
    """Put repaired lines back among the good ones, in file order (steps follow their job)."""
    extra = pd.DataFrame([fields for _, _, fields in repaired], columns=names, dtype=TEXT)
    extra["_line"] = [line for line, _, _ in repaired]
    both = pd.concat([frame, extra], ignore_index=True)
    texts = [raw[i] for i in range(len(raw))] + [text for _, text, _ in repaired]
    order = np.argsort(both["_line"].to_numpy(), kind="stable")
    return both.iloc[order].reset_index(drop=True), RawLines.from_texts([texts[i] for i in order])


def _parse_block(arr, block, starts, stops, ends, ok, width, bad, base, delimiter="|"):
    """Parse the good lines with pyarrow; lines that are not UTF-8 join the bad ones."""
    while True:
        if not ok.any():
            return pd.DataFrame({f"c{i}": pd.Series(dtype=TEXT) for i in range(width)}), ok
        data = block if ok.all() else arr[np.repeat(ok, ends - starts + 1)].tobytes()
        try:
            return _read_pipe_bytes(data, width, delimiter), ok
        except pa.ArrowInvalid:
            ok = ok.copy()
            for i in np.flatnonzero(ok):
                try:
                    block[starts[i]:stops[i]].decode("utf-8")
                except UnicodeDecodeError:
                    ok[i] = False
                    bad.append((base + i + 1, _text(block[starts[i]:stops[i]]), "not UTF-8 text"))
            if not any(r[2] == "not UTF-8 text" for r in bad):
                raise


def _read_pipe_bytes(data: bytes, width: int, delimiter: str = "|") -> pd.DataFrame:
    names = [f"c{i}" for i in range(width)]
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 22),  # blocks parse in parallel
        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False, escape_char=False,
                                         newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    return table.to_pandas(types_mapper={pa.string(): TEXT}.get)
