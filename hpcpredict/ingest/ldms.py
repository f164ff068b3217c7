"""LDMS ``store_csv`` files: one file set per sampler, merged into one samples table.

The layout (ovis-hpc LDMS ``store_csv``): a header line

    #Time,Time_usec,ProducerName,component_id,job_id,app_id,<metric>,<metric>,...

then one line per sample, e.g. ``1700000000.002934,2934,nid00012,12,0,0,1843,...``. The header
is either the file's first line or, with ``altheader=1``, a separate ``<name>.HEADER`` file;
with rollover, files carry a suffix (``meminfo.1700000000``, ``meminfo.HEADER.1700000000``).
Files may be gzip-compressed. The sampler of a file is its name without the suffixes
(``meminfo``, ``procstat``, ``lustre2_client``), and each sampler's samples are merged with the
others' on (timestamp rounded to ``round_s``, host) — samplers of one node fire microseconds apart.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFileError
from ..scale import client_for
from ..schema import plausibility
from ._samples import SamplesResult, counters_to_rates, derive_metrics, merge_samplers, parse_numbers, write_samples
from ._text import READ_ERRORS, iter_lines
from .metrics import MetricInfo, describe_metric
from .result import Quarantine

__all__ = ["plan_files", "raw_to_samples", "read_ldms", "read_one", "sampler_metrics"]

#: Header fields LDMS writes before the metrics; they become ``timestamp`` and ``component``.
_FIXED = ("#Time", "Time", "Time_usec", "ProducerName", "component_id", "job_id", "app_id", "CompId", "Producer")
_SUFFIX = re.compile(r"([._-](\d{8,}|\d{4}-\d{2}-\d{2}(T[\d:]+)?)|\.(csv|gz|txt))+$")


def _sampler_of(path: Path) -> tuple[str, bool, str]:
    """(sampler, is_header_file, roll suffix) of an LDMS file name."""
    name = path.name
    suffix_match = _SUFFIX.search(name)
    stem = name[: suffix_match.start()] if suffix_match else name
    roll = "".join(re.findall(r"\d{8,}|\d{4}-\d{2}-\d{2}", name[len(stem) :]))
    is_header = stem.endswith(".HEADER") or stem.endswith("_HEADER") or stem == "HEADER"
    if is_header:
        stem = stem[: -len(".HEADER")] if stem != "HEADER" else ""
    if not stem or re.fullmatch(r"[\d._-]*", stem):  # e.g. meminfo/2024-01-01.csv: the folder names the sampler
        roll = roll or stem
        stem = path.parent.name
    return stem, is_header, roll


def _expand(paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".") and ".KIND" not in f.name)
        elif not p.exists():
            raise InputFileError(p, "no such file")
        else:
            files.append(p)
    return files


def _header_fields(line: str) -> list[str]:
    return [f.strip() for f in line.split(",")]


def read_ldms(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str] | None = None,
    *,
    metrics: Mapping[str, Mapping[str, str]] | None = None,
    round_s: float = 1.0,
    counter_bits: int = 64,
    max_gap_s: float | None = None,
    strict: bool = False,
    dask=None,
) -> SamplesResult:
    """Read LDMS ``store_csv`` files (or folders of them) into one samples table.

    Parameters
    ----------
    paths : path or sequence of paths
        Data files, ``.HEADER`` files, or folders (searched recursively).
    output_dir : path, optional
        When given, the samples folder is written there (see :func:`write_samples`).
    metrics : mapping, optional
        Overrides of the built-in metric table: ``{metric: {"kind", "unit", "role"}}``.
    round_s : float
        Timestamps are rounded to this step before samplers are merged.
    counter_bits : int
        Width of the counters, for wrap-around.
    max_gap_s : float, optional
        Longest interval a counter rate may span (default 3 x the sampler's median interval).
    strict : bool
        Raise at the first bad line instead of quarantining it.
    dask : str or distributed.Client, optional
        Parse the files in parallel on a Dask cluster (``"local:N"``, ``"tcp://host:8786"`` or a
        client, see :func:`hpcpredict.scale.client_for`), one task per file; rates and the merge
        of samplers then run here as without Dask, so the table is identical.

    Returns
    -------
    SamplesResult
        Samples (``timestamp``, ``component``, one column per metric; counters as ``*_per_s``
        rates, plus ``cpu_busy_frac`` and ``mem_used_bytes`` where procstat and meminfo allow),
        metric descriptions, quarantine and counts.

    Examples
    --------
    >>> r = read_ldms("ldms/", "samples/")  # doctest: +SKIP
    >>> r.counts["quarantined"], r.samples.columns[:3].tolist()  # doctest: +SKIP
    (0, ['timestamp', 'component', 'MemFree'])
    """
    tasks = plan_files(paths)
    quarantine = Quarantine()
    lines_read = records = merged_dupes = 0
    parts = []
    with contextlib.nullcontext() if dask is None else client_for(dask) as client:
        if client is None:  # lazily, one file at a time, so one sampler's raw frames are held at once
            read = (read_one(f, header, round_s=round_s, strict=strict) for _, f, header in tasks)
        else:  # every file at once on the workers; results come back in task order
            read = iter(client.gather(client.map(read_one, [t[1] for t in tasks], [t[2] for t in tasks], round_s=round_s, strict=strict, pure=False)))
        for sampler, group in itertools.groupby(zip((t[0] for t in tasks), read), key=lambda pair: pair[0]):
            frames = []
            columns: list[str] | None = None
            for _, (frame, n_lines, rejected) in group:
                for row in rejected:
                    quarantine.add(*row)
                lines_read += n_lines
                records += len(frame)
                if columns is not None and frame.columns.tolist() != columns:
                    frame = frame.reindex(columns=columns)  # a later header lost metrics: keep the first layout
                columns = columns or frame.columns.tolist()
                frames.append(frame)
            frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            before = len(frame)
            frame = frame.drop_duplicates(["component", "timestamp"], keep="last")
            merged_dupes += before - len(frame)
            records -= before - len(frame)
            infos = sampler_metrics(frame.columns, sampler, metrics)
            parts.append(raw_to_samples(frame, infos, counter_bits=counter_bits, max_gap_s=max_gap_s))
    samples, infos = merge_samplers(parts)
    result = SamplesResult(
        samples, infos, quarantine.to_frame(), lines_read, records, merged_dupes, metadata={"source": "ldms", "samplers": sorted({t[0] for t in tasks})}
    )
    result.check_reconciles()
    if output_dir is not None:
        write_samples(result, output_dir)
    return result


def sampler_metrics(columns, sampler: str, overrides: Mapping[str, Mapping[str, str]] | None) -> list[MetricInfo]:
    """The description of each metric column of one sampler's raw frame."""
    names = [c for c in columns if c not in ("timestamp", "component")]
    return [describe_metric(n, sampler=sampler, overrides=overrides) for n in names]


def raw_to_samples(frame: pd.DataFrame, infos: list[MetricInfo], *, counter_bits: int, max_gap_s: float | None) -> tuple[pd.DataFrame, list[MetricInfo]]:
    """One sampler's raw frame (counters as read) → samples: counters as rates, gauges as float64,
    derived ``cpu_busy_frac``/``mem_used_bytes`` added; sorted by component and timestamp."""
    frame = frame.rename(columns={i.source: i.column for i in infos})
    counters = [i.column for i in infos if i.kind == "counter"]
    frame = counters_to_rates(frame, counters, bits=counter_bits, max_gap_s=max_gap_s)
    for i in infos:
        if i.kind == "gauge":
            frame[i.column] = frame[i.column].astype("float64")
    return derive_metrics(frame, infos)


def plan_files(paths) -> list[tuple[str, Path, list[str] | None]]:
    """``(sampler, data file, separate header fields or None)`` for every data file under
    ``paths``, by sampler then in roll-over (time) order."""
    files = _expand(paths)
    if not files:
        raise InputFileError(str(paths), "no LDMS files found")
    headers: dict[str, dict[str, Path]] = {}
    data: dict[str, list[tuple[str, Path]]] = {}
    for f in files:
        sampler, is_header, roll = _sampler_of(f)
        if is_header:
            headers.setdefault(sampler, {})[roll] = f
        else:
            data.setdefault(sampler, []).append((roll, f))
    return [(sampler, f, _header_for(f, roll, headers.get(sampler, {}))) for sampler in sorted(data) for roll, f in sorted(data[sampler])]


def _header_for(f: Path, roll: str, headers: dict[str, Path]) -> list[str] | None:
    """The sampler's separate header for data file ``f``: same suffix, else the latest not after it."""
    if not headers:
        return None
    if roll in headers:
        chosen = headers[roll]
    else:
        earlier = [r for r in headers if r <= roll]
        chosen = headers[max(earlier)] if earlier else headers[min(headers)]
    for _, line in iter_lines(chosen):
        if line.strip():
            return _header_fields(line)
    raise InputFileError(chosen, "empty header file")


def _read_fast(path: Path, header: list[str] | None, *, round_s: float) -> tuple[pd.DataFrame, int] | None:
    """Parse a clean file with pyarrow's CSV reader; None when anything is off (the slow path then
    finds, names and quarantines the bad lines)."""
    import gzip

    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rt", errors="replace") if gz else open(path, encoding="utf-8", errors="replace")) as text:
            first = text.readline().rstrip("\r\n")
    except READ_ERRORS:
        return None  # the slow path names the file and the line
    in_file = first.startswith("#")
    fields = [h.lstrip("#").strip() for h in (_header_fields(first) if in_file else header or [])]
    if not fields or "Time" not in fields or "ProducerName" not in fields or len(set(fields)) != len(fields):
        return None
    metric_names = [h for h in fields if h not in {f.lstrip("#") for f in _FIXED}]
    types = {"Time": pa.float64(), "ProducerName": pa.string()}
    types.update({m: pa.uint64() for m in metric_names if describe_metric(m).kind == "counter"})
    try:
        with pa.input_stream(str(path), compression="gzip" if gz else None) as stream:
            table = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=fields, skip_rows=1 if in_file else 0),
                convert_options=pacsv.ConvertOptions(column_types=types, include_columns=["Time", "ProducerName", *metric_names]),
            )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError):
        return None
    if table.num_rows == 0 or table["Time"].null_count or table["ProducerName"].null_count:
        return None
    lo, hi = _time_window()
    time_s = table["Time"].to_numpy()
    if not ((time_s >= lo) & (time_s < hi)).all():  # inf, or a date such as 5138: the slow path quarantines it
        return None
    if any(table[m].null_count or not (pa.types.is_integer(table[m].type) or pa.types.is_floating(table[m].type)) for m in metric_names):
        return None
    host = table["ProducerName"].to_pandas().str.strip()
    if host.eq("").any():
        return None
    good = pd.DataFrame({"timestamp": pd.to_datetime(np.round(time_s / round_s) * round_s, unit="s", utc=True), "component": host.to_numpy(object)})
    for m in metric_names:
        col = table[m].to_numpy()
        good[m] = col if col.dtype == np.uint64 else col.astype("float64")
    return good, table.num_rows


def read_one(path: Path, header: list[str] | None, *, round_s: float, strict: bool) -> tuple[pd.DataFrame, int, list]:
    """One file's samples, data lines and quarantined rows: a task that can run on a Dask worker."""
    q = Quarantine()
    frame, n_lines = _read_file(path, header, q, round_s=round_s, strict=strict)
    return frame, n_lines, q._rows


def _read_file(path: Path, header: list[str] | None, q: Quarantine, *, round_s: float, strict: bool) -> tuple[pd.DataFrame, int]:
    fast = _read_fast(path, header, round_s=round_s)
    if fast is not None:
        return fast
    numbers: list[int] = []
    texts: list[str] = []
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        if line.startswith("#"):
            if lineno == 1 or header is None:
                header = _header_fields(line)
            continue
        numbers.append(lineno)
        texts.append(line)
    if header is None:
        raise InputFileError(path, "no '#Time,...' header line and no .HEADER file for this sampler", line=1)
    fields = [h.lstrip("#").strip() for h in header]
    if "Time" not in fields or not ({"ProducerName", "component_id", "CompId"} & set(fields)):
        raise InputFileError(path, f"not an LDMS store_csv header (want '#Time,Time_usec,ProducerName,...'; got {header[:4]})", line=1)
    twice = sorted({f for f in fields if fields.count(f) > 1})
    if twice:
        raise InputFileError(path, f"the header names {twice[0]!r} twice: which column is which is unknown", line=1)
    metric_names = [h for h in fields if h not in {f.lstrip("#") for f in _FIXED}]
    n = len(texts)
    empty = pd.DataFrame({"timestamp": pd.Series(dtype="datetime64[ns, UTC]"), "component": pd.Series(dtype=object)})
    if not n:
        return empty.assign(**{m: pd.Series(dtype="float64") for m in metric_names}), 0
    lines = pd.Series(texts, dtype=object)
    nums = np.asarray(numbers)
    bad_reason = pd.Series(pd.NA, index=lines.index, dtype="object")
    n_fields = lines.str.count(",").to_numpy() + 1
    wrong = n_fields != len(fields)
    bad_reason[wrong] = [f"expected {len(fields)} fields, found {k}" for k in n_fields[wrong]]
    split = lines[~wrong].str.split(",", expand=True)
    split.columns = fields if len(split) else split.columns
    if len(split):
        time_s = pd.to_numeric(split["Time"].str.strip(), errors="coerce")
        _flag(bad_reason, time_s.isna(), "field 'Time' is not a number")
        lo, hi = _time_window()
        rules = plausibility()
        _flag(bad_reason, ~((time_s >= lo) & (time_s < hi)), f"field 'Time' is outside {rules.earliest:%Y-%m-%d} .. {rules.latest:%Y-%m-%d}")
        host_col = "ProducerName" if "ProducerName" in fields else ("component_id" if "component_id" in fields else "CompId")
        host = split[host_col].str.strip()
        _flag(bad_reason, host.eq("") | host.isna(), f"field {host_col!r} is empty")
        for m in metric_names:
            _, bad = parse_numbers(split[m])
            _flag(bad_reason, pd.Series(bad, index=split.index), f"field {m!r} is not a number")
    is_bad = bad_reason.notna().to_numpy()
    for i in np.flatnonzero(is_bad):
        if strict:
            raise InputFileError(path, str(bad_reason.iat[i]), line=int(nums[i]))
        q.add(path, int(nums[i]), texts[i], str(bad_reason.iat[i]))
    keep = split.index[~is_bad[split.index.to_numpy()]] if len(split) else split.index
    if not len(keep):
        return empty.assign(**{m: pd.Series(dtype="float64") for m in metric_names}), n
    rows = split.loc[keep]
    good = pd.DataFrame(
        {
            "timestamp": pd.to_datetime((time_s.loc[keep] / round_s).round() * round_s, unit="s", utc=True),
            "component": host.loc[keep].astype(object),
        }
    ).reset_index(drop=True)
    for m in metric_names:
        good[m] = parse_numbers(rows[m])[0]
    return good, n


def _time_window() -> tuple[float, float]:
    """The plausible sample times (:func:`~hpcpredict.schema.plausibility`) as epoch seconds."""
    rules = plausibility()
    return rules.earliest.timestamp(), rules.latest.timestamp()


def _flag(reasons: pd.Series, mask: pd.Series, reason: str) -> None:
    """Give ``reason`` to the lines in ``mask`` that have no reason yet (the first fault wins)."""
    idx = mask[mask.fillna(False).astype(bool)].index
    idx = idx[reasons.loc[idx].isna().to_numpy()]
    reasons.loc[idx] = reason
