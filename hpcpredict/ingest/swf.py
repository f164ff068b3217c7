"""Standard Workload Format (SWF) traces, as kept by the Parallel Workloads Archive.

One job per line, 18 whitespace-separated numeric fields, ``-1`` for "not known"; header comment
lines start with ``;`` and may carry ``; UnixStartTime: <epoch>``, which turns the trace's relative
times into absolute UTC times (without it, times count from the Unix epoch). Lines with a wrong
field count or a non-numeric field are quarantined with the reason; extended variants with more
than 18 fields keep the extra fields as ``swf_field_19`` ... columns, except the Alea simulator's
variant (field 19 ``{node,node,...}`` one entry per CPU, 20 queue name, 21 PBS resource request,
field 10 in bytes), whose fields become ``nodelist``, ``partition`` and ``pbs_resource_request``.
Format reference:
https://www.cs.huji.ac.il/labs/parallel/workload/swf.html
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputFileError
from ..schema import conform_jobs, implausible, plausibility
from ._slurm_values import epoch_times
from ._text import iter_lines
from .result import IngestResult, Quarantine

__all__ = ["SWF_FIELDS", "read_swf"]

#: The 18 standard fields, in order.
SWF_FIELDS = (
    "job_number",
    "submit_time",
    "wait_time",
    "run_time",
    "allocated_processors",
    "average_cpu_time",
    "used_memory_kb",
    "requested_processors",
    "requested_time",
    "requested_memory_kb",
    "status",
    "user_id",
    "group_id",
    "executable_number",
    "queue_number",
    "partition_number",
    "preceding_job_number",
    "think_time",
)

_STATUS = {1: "COMPLETED", 0: "FAILED", 5: "CANCELLED", 3: "COMPLETED", 4: "FAILED"}
_HEADER = re.compile(r"^;\s*([A-Za-z]+)\s*:\s*(.*?)\s*$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def read_swf(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    cluster: str | None = None,
    strict: bool = False,
) -> IngestResult:
    """Read one or more SWF traces (plain or gzip) into the canonical jobs table.

    Parameters
    ----------
    paths : path or sequence of paths
        SWF files. Each file's own ``UnixStartTime`` header anchors its times.
    cluster : str, optional
        Value of the ``cluster`` column; defaults to the ``Computer`` header, else the file stem.
    strict : bool, default False
        Stop at the first bad line with an error naming it, instead of quarantining it.

    Returns
    -------
    IngestResult
        Jobs, quarantined lines and counts. Exact duplicate records (as in concatenated traces)
        are merged and counted.

    Raises
    ------
    InputFileError
        If a file is missing, unreadable, or has no line that parses as SWF; with ``strict``,
        at the first bad line.

    Examples
    --------
    >>> result = read_swf("data/kth-sp2/KTH-SP2-1996-2.1-cln.swf.gz")  # doctest: +SKIP
    >>> result.counts["jobs"]  # doctest: +SKIP
    28476
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    frames, quarantine, lines_read, meta = [], Quarantine(), 0, {}
    for path in paths:
        frame, n_lines, header = _read_one(path, quarantine, cluster, strict)
        frames.append(frame)
        lines_read += n_lines
        meta[str(path)] = header
    jobs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    before = len(jobs)
    # Lists (Alea node lists) cannot be hashed: compare them as text.
    key = jobs.drop(columns=["source"]).astype({c: str for c in jobs.columns if jobs[c].dtype == object and c != "source"})
    jobs = jobs[~key.duplicated(keep="first").to_numpy()]
    return IngestResult(
        jobs=conform_jobs(jobs),
        quarantine=quarantine.to_frame(),
        lines_read=lines_read,
        duplicates_merged=before - len(jobs),
        metadata={"format": "swf", "headers": meta},
    )


def _read_one(path, quarantine: Quarantine, cluster: str | None, strict: bool) -> tuple[pd.DataFrame, int, dict]:
    header: dict[str, str] = {}
    rows: list[list[float]] = []
    extras: list[list[float]] = []
    where: list[tuple[int, str]] = []  # (line number, text) of each parsed row
    n_lines = 0
    first_bad: tuple[int, str] | None = None
    for lineno, line in iter_lines(path):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(";"):
            match = _HEADER.match(stripped)
            if match:
                header[match.group(1)] = match.group(2)
            continue
        n_lines += 1
        reason = _parse_line(stripped, rows, extras)
        if reason is not None:
            if strict:
                raise InputFileError(path, reason, line=lineno)
            quarantine.add(path, lineno, line, reason)
            if first_bad is None:
                first_bad = (lineno, reason)
        else:
            where.append((lineno, line))
    if not rows and first_bad is not None:
        raise InputFileError(path, f"not an SWF trace: {first_bad[1]}", line=first_bad[0])
    jobs = _to_jobs(rows, extras, header, path, cluster)
    # Rows that parse but break a plausibility rule (a time past 2262, end before start, a
    # negative runtime) are quarantined with the rule as reason.
    # A trace without a UnixStartTime inside the window counts from (about) 1970: its times are
    # relative, and the window opens at the epoch for it.
    rules = plausibility()
    if float(header.get("UnixStartTime", "0") or 0) < rules.earliest.timestamp():
        rules = dataclasses.replace(rules, earliest=min(rules.earliest, pd.Timestamp(0, tz="UTC")))
    reasons = jobs.pop("_time_reason").fillna(implausible(jobs, rules))
    bad = reasons.notna().to_numpy()
    if bad.any():
        if strict:
            i = int(np.flatnonzero(bad)[0])
            raise InputFileError(path, reasons.iloc[i], line=where[i][0])
        for i in np.flatnonzero(bad):
            quarantine.add(path, where[i][0], where[i][1], reasons.iloc[i])
        jobs = jobs[~bad].reset_index(drop=True)
    return jobs, n_lines, header


def _parse_line(text: str, rows: list[list[float]], extras: list[list[float]]) -> str | None:
    """Append the parsed line to ``rows`` (and extra fields to ``extras``); return a reason if bad."""
    fields = text.split()
    if len(fields) < len(SWF_FIELDS):
        return f"expected {len(SWF_FIELDS)} fields, found {len(fields)}"
    for name, value in zip(SWF_FIELDS, fields):
        if not _NUMBER.match(value):
            return f"field {name!r} is not a number: {value!r}"
    values = [float(v) for v in fields[: len(SWF_FIELDS)]]
    for name, value, text in zip(SWF_FIELDS, values, fields):
        if not abs(value) < 1e15:  # 400 digits parse, to infinity: no field of a job holds that
            return f"field {name!r} is out of range: {text[:20]}{'...' if len(text) > 20 else ''}"
    if values[0] < 0:
        return f"field 'job_number' must be >= 0, got {fields[0]!r}"
    rows.append(values)
    extras.append(fields[len(SWF_FIELDS):])
    return None


def _to_jobs(rows, extras, header: dict, path, cluster: str | None) -> pd.DataFrame:
    raw = pd.DataFrame(np.array(rows, dtype=float).reshape(-1, len(SWF_FIELDS)), columns=list(SWF_FIELDS))
    raw = raw.where(raw != -1)  # -1 means "not known"
    try:
        base = float(header.get("UnixStartTime", "0") or 0)
    except ValueError:
        raise InputFileError(path, f"header 'UnixStartTime' is not epoch seconds: {header['UnixStartTime']!r}") from None
    submit_s = base + raw["submit_time"]
    start_s = submit_s + raw["wait_time"]
    submit, bad_submit = epoch_times(submit_s)
    start, bad_start = epoch_times(start_s)
    end, bad_end = epoch_times(start_s + raw["run_time"])
    beyond = bad_submit | bad_start | bad_end
    req_cpus = raw["requested_processors"]
    as_id = lambda col: raw[col].map(lambda v: pd.NA if np.isnan(v) else str(int(v))).astype("string")  # noqa: E731
    jobs = pd.DataFrame(
        {
            "job_id": as_id("job_number"),
            "cluster": cluster or header.get("Computer") or os.path.basename(str(path)).split(".")[0],
            "user": as_id("user_id"),
            "account": as_id("group_id"),
            "partition": as_id("queue_number"),
            "app": as_id("executable_number"),
            "submit_time": submit,
            "start_time": start,
            "end_time": end,
            "req_cpus": req_cpus.round().astype("Int64"),
            "req_mem_bytes": raw["requested_memory_kb"] * 1024.0 * req_cpus,
            "time_limit_s": raw["requested_time"],
            "state": raw["status"].map(_STATUS).astype("string"),
            "runtime_s": raw["run_time"],
            "source": f"swf:{os.path.basename(str(path))}",
            "alloc_cpus": raw["allocated_processors"].round().astype("Int64"),
            "used_mem_bytes": raw["used_memory_kb"] * 1024.0 * raw["allocated_processors"],
            "cpu_time_s": raw["average_cpu_time"],
            "swf_partition": as_id("partition_number"),
            "swf_status": raw["status"].round().astype("Int64"),
            "_time_reason": pd.Series(np.where(beyond, "a time lies past what a timestamp holds (2262)", None), dtype=object).where(beyond, pd.NA),
        }
    )
    if _is_alea(extras):
        return _alea_columns(jobs, raw, extras)
    width = max((len(e) for e in extras), default=0)
    for i in range(width):
        jobs[f"swf_field_{len(SWF_FIELDS) + i + 1}"] = pd.Series(
            [e[i] if i < len(e) else pd.NA for e in extras], dtype="string"
        )
    return jobs


def _is_alea(extras) -> bool:
    """The Alea simulator's extended SWF: fields 19-21 are ``{node,...}``, queue name, PBS request."""
    return bool(extras) and all(len(e) >= 3 and e[0].startswith("{") for e in extras[:100])


def _alea_columns(jobs: pd.DataFrame, raw: pd.DataFrame, extras) -> pd.DataFrame:
    """Read the Alea fields; in these logs field 10 is the requested memory in bytes per job."""
    jobs["nodelist"] = [
        list(dict.fromkeys(h for h in e[0].strip("{}").split(",") if h)) if e and e[0].startswith("{") else []
        for e in extras
    ]
    jobs["alloc_nodes"] = pd.array([len(h) or pd.NA for h in jobs["nodelist"]], dtype="Int64")
    jobs["partition"] = pd.Series([e[1] if len(e) > 1 else pd.NA for e in extras], dtype="string")
    jobs["pbs_resource_request"] = pd.Series([" ".join(e[2:]) if len(e) > 2 else pd.NA for e in extras], dtype="string")
    jobs["req_mem_bytes"] = raw["requested_memory_kb"]
    jobs["used_mem_bytes"] = np.nan  # fields 6 and 7 hold constant placeholders (1, 1024) in these logs
    jobs["cpu_time_s"] = np.nan
    return jobs
