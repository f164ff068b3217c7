"""Slurm accounting as printed by ``sacct --parsable2`` (or ``--parsable``, or exported as CSV).

One line per job or job step under a header line naming the fields. Steps (``123.batch``,
``123.extern``, ``123.0``) are folded into their job: the allocation line gives the job's row,
and usage figures of the steps (``MaxRSS``, ``MaxVMSize``, disk I/O, ``TotalCPU``) are combined
into it (their maximum). Array tasks (``123_4``, pending ``123_[5-9]``) and heterogeneous
components (``123+0``) are jobs of their own, with ``array_job_id``/``array_task_id`` and
``het_job_id``/``het_job_offset`` columns. Times may be ISO (local time of ``tz``), epoch seconds
(``SLURM_TIME_FORMAT=%s``), ``Unknown`` or ``None``. The recommended ``--format`` list is in
``docs/ingest.md``.

The file is read a block of lines at a time and each block written out as it is ready, so memory
stays bounded whatever the dump's size (:func:`stream_sacct`); :func:`read_sacct` collects the
blocks into one :class:`IngestResult`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import hostlist
import numpy as np
import pandas as pd

from ..errors import InputFileError
from ..progress import progress
from ..schema import JOB_COLUMNS, conform_jobs, implausible, normalise_state
from ._chunks import Header, RawLines, file_size, iter_chunks, read_header
from ._slurm_values import TEXT, extract, numbers, parse_durations, parse_memory, parse_times, parse_tres, snake_case
from ._text import check_timezone
from .result import RECORD_COLUMNS, IngestResult, StreamStats

__all__ = ["SACCT_FIELDS", "read_sacct", "stream_sacct"]

#: The ``sacct --format`` field list that gives hpcpredict the most (see docs/ingest.md).
SACCT_FIELDS = (
    "JobID,JobIDRaw,Cluster,User,Group,Account,Partition,QOS,JobName,Submit,Eligible,Start,End,"
    "Elapsed,Timelimit,ReqNodes,NNodes,ReqCPUS,AllocCPUS,ReqMem,ReqTRES,AllocTRES,NodeList,State,"
    "ExitCode,DerivedExitCode,MaxRSS,MaxVMSize,MaxDiskRead,MaxDiskWrite,TotalCPU,Priority,WorkDir"
)

# sacct field (lower case) → our column; the parsing is chosen by the column below.
_NAMES = {
    "jobid": "job_id", "cluster": "cluster", "user": "user", "account": "account",
    "partition": "partition", "qos": "qos", "jobname": "app", "submit": "submit_time",
    "eligible": "eligible_time", "start": "start_time", "end": "end_time", "reqnodes": "req_nodes",
    "nnodes": "alloc_nodes", "allocnodes": "alloc_nodes", "reqcpus": "req_cpus", "alloccpus": "alloc_cpus",
    "ncpus": "alloc_cpus", "reqmem": "req_mem_bytes", "timelimit": "time_limit_s", "elapsed": "runtime_s",
    "nodelist": "nodelist", "state": "state", "exitcode": "exit_code", "reqtres": "req_tres",
    "alloctres": "alloc_tres", "maxrss": "max_rss_bytes", "maxvmsize": "max_vmsize_bytes",
    "averss": "ave_rss_bytes", "maxdiskread": "max_disk_read_bytes", "maxdiskwrite": "max_disk_write_bytes",
    "totalcpu": "total_cpu_s", "cputime": "cpu_time_s", "elapsedraw": "elapsed_raw_s",
    "timelimitraw": "timelimit_raw_min", "derivedexitcode": "derived_exit_code",
}
_TIMES = ("submit_time", "eligible_time", "start_time", "end_time")
_COUNTS = ("req_nodes", "alloc_nodes", "req_cpus", "alloc_cpus")
_DURATIONS = ("time_limit_s", "runtime_s", "total_cpu_s", "cpu_time_s")
#: Usage figures measured per step; the job gets the maximum over its lines.
_STEP_MAX = ("max_rss_bytes", "max_vmsize_bytes", "ave_rss_bytes", "max_disk_read_bytes", "max_disk_write_bytes")
_DERIVED = {
    "alloc_cpus": "Int64", "exit_signal": "Int64", "state_raw": "string", "array_job_id": "string",
    "array_task_id": "string", "het_job_id": "string", "het_job_offset": "Int64", "n_steps": "Int64",
    "total_cpu_s": "float64", "cpu_time_s": "float64",
    **{c: "float64" for c in _STEP_MAX},
    **{f"{p}_{s}": "float64" for p in ("req", "alloc") for s in ("tres_cpus", "tres_mem_bytes", "tres_nodes", "billing", "gpus", "energy_j")},
    "req_tres": "string", "alloc_tres": "string", "derived_exit_code": "string",
}
_NO_NODES = frozenset({"", "none assigned", "(null)", "none", "unknown"})


def read_sacct(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    tz: str = "UTC",
    cluster: str | None = None,
    columns: Sequence[str] | None = None,
    strict: bool = False,
    chunk_lines: int = 100_000,
) -> IngestResult:
    """Read ``sacct`` dumps into the canonical jobs table, one row per job.

    Parameters
    ----------
    paths : path or sequence of paths
        ``sacct --parsable2`` / ``--parsable`` output or CSV exports, plain or gzip. Each file has
        a header line naming its fields (``JobID`` at least); the header repeated inside a
        concatenated dump is skipped.
    tz : str, default "UTC"
        Time zone of ISO times in the dump (sacct prints the local time of the machine it ran
        on, e.g. ``"America/Denver"``). Epoch-second times are absolute and unaffected.
    cluster : str, optional
        Value of ``cluster`` where the dump has no ``Cluster`` field.
    columns : sequence of str, optional
        Field names of a dump written with ``--noheader`` (the ``--format`` list, in order).
    strict : bool, default False
        Stop at the first bad line with an error naming it, instead of quarantining it.
    chunk_lines : int, default 100000
        Lines held in memory at once.

    Returns
    -------
    IngestResult
        ``lines_read == jobs + quarantined + duplicates_merged``, where ``duplicates_merged``
        counts the step lines folded into their job plus repeated records of a job (the latest
        record that has an end wins, else the latest: a job RUNNING in one daily dump and
        COMPLETED in the next is kept as completed); ``metadata`` gives the two apart.

    Raises
    ------
    InputFileError
        A missing or unreadable file, or one whose first line is not a sacct header.

    Examples
    --------
    >>> result = read_sacct("tests/data/sacct-parsable2.txt")  # doctest: +SKIP
    >>> result.jobs.loc[0, ["job_id", "state", "max_rss_bytes"]].tolist()  # doctest: +SKIP
    ['1001', 'COMPLETED', 2147483648.0]
    """
    stats = StreamStats()
    jobs, quarantined = [], []
    for job_chunk, q_chunk in stream_sacct(paths, stats, tz=tz, cluster=cluster, columns=columns,
                                           strict=strict, chunk_lines=chunk_lines):
        jobs.append(job_chunk)
        quarantined.append(q_chunk)
    return stats.result(jobs, quarantined, fmt="sacct")


def stream_sacct(
    paths, stats: StreamStats, *, tz: str = "UTC", cluster: str | None = None,
    columns: Sequence[str] | None = None, strict: bool = False, chunk_lines: int = 100_000,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield ``(jobs, quarantine)`` blocks of the dumps, updating ``stats`` as it goes.

    Every block has the same columns and dtypes (:attr:`StreamStats.columns`), so the blocks can
    be appended to one Parquet file. See :func:`read_sacct` for the parameters.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    check_timezone(tz)
    headers = [read_header(p, required=("JobID", "JobIDRaw"), what="sacct dump", columns=columns) for p in paths]
    extras = _extra_columns(headers)
    stats.columns = {**{c: d for c, d in JOB_COLUMNS.items()}, **_DERIVED, **{c: "string" for c in extras}, **RECORD_COLUMNS}
    with progress(total=sum(file_size(p) for p in paths) or None, description="reading sacct") as advance:
        for path, header in zip(paths, headers):
            names = _column_names(header.names)
            carry: pd.DataFrame | None = None
            carry_raw = RawLines([])
            # Jobs whose own line was quarantined: their step lines must not stand in for them.
            lost: set[str] = set()
            for chunk in iter_chunks(path, header, chunk_lines=chunk_lines):
                advance(chunk.bytes_read)
                stats.lines_read += chunk.lines_read
                if strict and chunk.bad:
                    line, _, reason = chunk.bad[0]
                    raise InputFileError(path, reason, line=line)
                stats.add_quarantine(path, chunk.bad)
                lost.update(_lost_job(raw_line, header.delimiter) for _, raw_line, _ in chunk.bad)
                frame, raw = chunk.frame, chunk.raw
                frame.columns = [*names, "_line"]
                if carry is not None:
                    frame, raw = pd.concat([carry, frame], ignore_index=True), carry_raw + raw
                frame, raw, carry, carry_raw = _split_last_job(frame, raw)
                jobs = _fold(frame, raw, path, stats, tz=tz, cluster=cluster, strict=strict, lost=lost)
                yield stats.conform(jobs), stats.take_quarantine()
            if carry is not None and len(carry):
                jobs = _fold(carry, carry_raw, path, stats, tz=tz, cluster=cluster, strict=strict, lost=lost)
                yield stats.conform(jobs), stats.take_quarantine()


def _lost_job(line: str, delimiter: str) -> str:
    """The job a quarantined line belonged to (its first field, the JobID, up to a step's dot)."""
    return line.split(delimiter, 1)[0].strip().split(".", 1)[0]


def _column_names(names: list[str]) -> list[str]:
    out, used = [], set()
    for name in names:
        col = _NAMES.get(name.lower(), snake_case(name))
        if col in JOB_COLUMNS and name.lower() not in _NAMES:
            col = f"sacct_{col}"  # an unknown field whose snake name collides with a canonical one
        while col in used:
            col += "_dup"
        used.add(col)
        out.append(col)
    return out


def _extra_columns(headers: list[Header]) -> list[str]:
    extras: list[str] = []
    for header in headers:
        for col in _column_names(header.names):
            if col not in JOB_COLUMNS and col not in _DERIVED and col not in _TIMES and col not in extras:
                extras.append(col)
    return [c for c in extras if c not in ("elapsed_raw_s", "timelimit_raw_min")] + [
        c for c in ("elapsed_raw_s", "timelimit_raw_min") if c in extras
    ]


def _split_last_job(frame: pd.DataFrame, raw: RawLines):
    """Hold back the lines of the last job: its steps may continue in the next block."""
    id_column = "job_id" if "job_id" in frame else "job_id_raw"
    if not len(frame) or id_column not in frame:
        return frame, raw, None, RawLines([])
    keys = _job_keys(frame[id_column])
    last = keys.iloc[-1]
    same = (keys.to_numpy(dtype=object, na_value="")[::-1] == last)
    tail = int(np.minimum.accumulate(same).sum())
    cut = len(frame) - tail
    return frame.iloc[:cut], raw[:cut], frame.iloc[cut:].reset_index(drop=True), raw[cut:]


def _job_keys(job_ids: pd.Series) -> pd.Series:
    return extract(job_ids.fillna("").str.strip(), r"^(?P<k>[^.]*)")["k"].fillna("")


def _fold(frame, raw, path, stats: StreamStats, *, tz, cluster, strict, lost=frozenset()):
    """Fold steps into their record, parse the records' job lines.

    A job's allocation line opens a record and the step lines after it belong to it. A job seen
    twice (concatenated daily dumps, where a job running at one dump's end is RUNNING there and
    COMPLETED in the next) gives two records; the writer keeps one per job (see
    :data:`~hpcpredict.ingest.result.RECORD_COLUMNS`).
    """
    if not len(frame):
        return pd.DataFrame()
    frame = frame.reset_index(drop=True)
    if "job_id" not in frame:
        frame["job_id"] = frame["job_id_raw"]
    ids = frame["job_id"].fillna("").str.strip()
    keys = _job_keys(ids)
    clusters = frame["cluster"].fillna("") if "cluster" in frame and cluster is None else pd.Series(cluster or "", index=frame.index)
    hashes = pd.util.hash_pandas_object(clusters.astype(str) + "\x00" + keys.astype(str), index=False).to_numpy()
    empty_id = keys == ""
    stats.add_quarantine(path, [(int(frame.at[i, "_line"]), raw[i], "field 'JobID' is empty") for i in np.flatnonzero(empty_id)])
    if strict and empty_id.any():
        raise InputFileError(path, "is empty", line=int(frame.loc[empty_id, "_line"].iloc[0]), field="JobID")
    is_step = ids.str.contains(".", regex=False).to_numpy()
    live = ~empty_id.to_numpy()
    # Record n of a job: its n-th allocation line and the steps after it; steps before any
    # allocation line of their job (a dump cut mid-job) are a record of their own.
    copy = pd.Series(~is_step).groupby(hashes).cumsum().to_numpy()
    job_hashes = hashes
    hashes = pd.util.hash_pandas_object(pd.DataFrame({"h": hashes, "c": copy}), index=False).to_numpy()
    # The record's line: its allocation line, else its first step line.
    order = np.where(is_step, 1, 0)
    cand = pd.DataFrame({"h": hashes, "o": order, "i": np.arange(len(frame))})[live]
    first = cand.sort_values(["h", "o", "i"], kind="stable").drop_duplicates("h")["i"].to_numpy()
    is_job = np.zeros(len(frame), dtype=bool)
    is_job[first] = True
    jobs = frame[is_job].copy()
    jobs["_hash"] = hashes[is_job]
    jobs["_record_key"] = job_hashes[is_job]
    jobs["_pos"] = np.flatnonzero(is_job)  # raw text is decoded only for the rows quarantined
    jobs, reasons = _parse_jobs(jobs, tz=tz, cluster=cluster)
    bad = reasons.notna()
    if strict and bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raise InputFileError(path, reasons.iloc[i], line=int(jobs["_line"].iloc[i]))
    stats.add_quarantine(path, [(int(line), raw[int(pos)], reason) for line, pos, reason
                                in zip(jobs.loc[bad, "_line"], jobs.loc[bad, "_pos"], reasons[bad])])
    # A record opened by a step line of a job whose own line was quarantined earlier (a '|' in
    # its name, say) is that job's remains, not a job.
    remains = (jobs["job_id"].str.contains(".", regex=False).to_numpy(dtype=bool, na_value=False)
               & _job_keys(jobs["job_id"]).isin(lost).to_numpy() & ~bad.to_numpy())
    bad_hashes = jobs.loc[bad | remains, "_hash"].to_numpy()
    if remains.any():
        stats.add_quarantine(path, [(int(line), raw[int(pos)], "step of a quarantined job") for line, pos
                                    in zip(jobs.loc[remains, "_line"], jobs.loc[remains, "_pos"])])
    jobs = jobs[~(bad | remains)]
    # Steps of a quarantined job go to the quarantine too: nothing of it is counted as written.
    steps = live & ~is_job & is_step
    orphan = steps & np.isin(hashes, bad_hashes)
    stats.add_quarantine(path, [(int(frame.at[i, "_line"]), raw[i], "step of a quarantined job") for i in np.flatnonzero(orphan)])
    stats.steps_folded += int((steps & ~orphan).sum())
    jobs = _add_step_figures(jobs, frame[live & ~orphan], hashes[live & ~orphan])
    jobs["_record_final"] = jobs["end_time"].notna().to_numpy() if "end_time" in jobs else False
    return jobs.drop(columns=["_hash", "_pos", "_line"])


def _on_uniques(parse, values: pd.Series, *args):
    """Parse each distinct value once: requests (TRES, limits) repeat across thousands of jobs."""
    codes, uniques = pd.factorize(values.fillna(""))
    parsed, bad = parse(pd.Series(uniques, dtype=TEXT), *args)
    return parsed.iloc[codes].set_axis(values.index), bad.iloc[codes].set_axis(values.index)


def _parse_jobs(jobs: pd.DataFrame, *, tz: str, cluster: str | None) -> tuple[pd.DataFrame, pd.Series]:
    reasons = pd.Series(pd.NA, index=jobs.index, dtype="object")

    def fail(mask, field, values):
        mask = mask & reasons.isna()
        if mask.any():
            reasons[mask] = [f"field {field!r}: cannot read {v!r}" for v in values[mask]]

    out = {c: jobs[c] for c in jobs.columns}  # a dict: setting many DataFrame columns one by one is slow
    out["job_id"] = jobs["job_id"].str.strip()
    if cluster is not None:
        out["cluster"] = cluster
    for col in _TIMES:
        if col in jobs:
            out[col], bad = parse_times(jobs[col], tz=tz)
            fail(bad, col, jobs[col])
    for col in _COUNTS:
        if col in jobs:
            text = jobs[col].str.strip()
            value = numbers(text)
            value = value.where(value.abs() < 2.0**53)  # 1e308 is a number, but no count
            out[col] = value.round().astype("Int64")
            fail(value.isna() & (text != "").to_numpy(dtype=bool, na_value=False), col, jobs[col])
    for col in _DURATIONS:
        if col in jobs:
            out[col], bad = _on_uniques(parse_durations, jobs[col])
            fail(bad, col, jobs[col])
    if "elapsed_raw_s" in jobs and "runtime_s" not in jobs:
        out["runtime_s"] = pd.to_numeric(jobs["elapsed_raw_s"], errors="coerce").astype("float64")
    if "timelimit_raw_min" in jobs and "time_limit_s" not in jobs:
        out["time_limit_s"] = pd.to_numeric(jobs["timelimit_raw_min"], errors="coerce").astype("float64") * 60
    if "req_mem_bytes" in jobs:
        nodes = out["req_nodes"] if "req_nodes" in out else out.get("alloc_nodes")
        cpus = out["req_cpus"] if "req_cpus" in out else out.get("alloc_cpus")
        out["req_mem_bytes"], bad = parse_memory(jobs["req_mem_bytes"], default_unit="M", nodes=nodes, cpus=cpus)
        fail(bad, "ReqMem", jobs["req_mem_bytes"])
    for col in _STEP_MAX:
        if col in jobs:
            out[col], bad = parse_memory(jobs[col])
            fail(bad, col, jobs[col])
    for col, prefix in (("req_tres", "req"), ("alloc_tres", "alloc")):
        if col in jobs:
            parsed, bad = _on_uniques(parse_tres, jobs[col], prefix)
            out.update({c: parsed[c] for c in parsed.columns})
            fail(bad, col, jobs[col])
    for col, tres in (("req_cpus", "req_tres_cpus"), ("req_nodes", "req_tres_nodes"), ("alloc_cpus", "alloc_tres_cpus"),
                      ("alloc_nodes", "alloc_tres_nodes"), ("req_mem_bytes", "req_tres_mem_bytes")):
        if tres in out:  # sacct versions or formats without the plain field still carry it in the TRES
            from_tres = out[tres].round().astype("Int64") if col != "req_mem_bytes" else out[tres]
            out[col] = out[col].fillna(from_tres) if col in out else from_tres
    if "nodelist" in jobs:
        text = jobs["nodelist"].fillna("").str.strip()
        uniques = pd.unique(text)
        expanded = {u: _expand(u) for u in uniques}
        hosts = pd.Series([expanded[t] for t in text], index=text.index, dtype=object)
        fail(hosts.isna(), "NodeList", jobs["nodelist"])
        out["nodelist"] = pd.Series([h if h is not None else [] for h in hosts], index=text.index, dtype=object)
    if "state" in jobs:
        out["state_raw"] = jobs["state"].str.strip()
        uniques = pd.unique(out["state_raw"].fillna(""))
        out["state"] = out["state_raw"].fillna("").map({u: normalise_state(u) for u in uniques}).astype("string")
    if "exit_code" in jobs:
        parts = extract(jobs["exit_code"].str.strip(), r"^(?P<code>-?\d+)(?::(?P<signal>\d+))?$")
        out["exit_code"] = numbers(parts["code"]).astype("Int64")
        out["exit_signal"] = numbers(parts["signal"]).astype("Int64")
        fail(parts["code"].isna() & (jobs["exit_code"].str.strip() != ""), "ExitCode", jobs["exit_code"])
    ids = out["job_id"]
    array = extract(ids, r"^(?P<job>\d+)_(?P<task>\[[^\]]*\]|\d+)$")
    out["array_job_id"], out["array_task_id"] = array["job"].astype("string"), array["task"].astype("string")
    het = extract(ids, r"^(?P<job>\d+)\+(?P<offset>\d+)$")
    out["het_job_id"] = het["job"].astype("string")
    out["het_job_offset"] = numbers(het["offset"]).astype("Int64")
    out["source"] = pd.Series("sacct", index=jobs.index, dtype="string")
    frame = pd.DataFrame(out, index=jobs.index)
    # A record that parses but breaks a plausibility rule (end before start, a date in 1900, a
    # negative count, an unknown state) is quarantined the same way, with the rule as reason.
    return frame, reasons.fillna(implausible(frame))


_SIMPLE_HOSTLIST = re.compile(r"([A-Za-z][\w.-]*?)\[([\d,-]+)\]")
_RANGE = re.compile(r"(\d+)(?:-(\d+))?")


def _expand_simple(text: str) -> list[str] | None:
    """``prefix[ranges]``, comma-separated: the forms Slurm prints, expanded ~10x faster than
    python-hostlist's general parser (which gets every other form). None when not this form."""
    if "[" not in text and "]" not in text:
        return [h for h in text.split(",") if h]
    return _expand_groups(text)


def _expand_groups(text: str) -> list[str] | None:
    hosts: list[str] = []
    end = 0
    for match in _SIMPLE_HOSTLIST.finditer(text):
        between = text[end:match.start()].strip(",")
        if between and ("[" in between or "]" in between):
            return None
        hosts.extend(h for h in between.split(",") if h)
        prefix, ranges = match.groups()
        for lo, hi in _RANGE.findall(ranges):
            if hi and (len(hi) > len(lo) and lo.startswith("0") or int(hi) < int(lo) or int(hi) - int(lo) > 100_000):
                return None  # let python-hostlist judge the unusual cases
            width = len(lo)
            hosts += [f"{prefix}{i:0{width}d}" for i in range(int(lo), int(hi or lo) + 1)]
        end = match.end()
        if end < len(text) and text[end] not in ",":
            return None
    tail = text[end:].strip(",")
    if "[" in tail or "]" in tail:
        return None
    hosts.extend(h for h in tail.split(",") if h)
    return hosts


@lru_cache(maxsize=65536)
def _expand_cached(text: str) -> tuple[str, ...] | None:
    simple = _expand_simple(text)
    if simple is not None:
        return tuple(dict.fromkeys(simple))  # python-hostlist drops repeats, keeping the order
    try:
        return tuple(hostlist.expand_hostlist(text))
    except (hostlist.BadHostlist, ValueError, IndexError):
        return None


def _expand(text: str) -> list[str] | None:
    if text.lower() in _NO_NODES:
        return []
    hosts = _expand_cached(text)
    return None if hosts is None else list(hosts)


def _add_step_figures(jobs: pd.DataFrame, lines: pd.DataFrame, hashes: np.ndarray) -> pd.DataFrame:
    """Give each job the maximum of each usage figure over all its lines, and its step count."""
    is_step = lines["job_id"].fillna("").str.contains(".", regex=False).to_numpy()
    steps_per_job = pd.Series(hashes[is_step]).value_counts()
    jobs["n_steps"] = jobs["_hash"].map(steps_per_job).fillna(0).astype("Int64").to_numpy()
    cols = [c for c in _STEP_MAX if c in lines]
    if not cols or not is_step.any():
        return jobs
    figures = pd.DataFrame({c: parse_memory(lines.loc[is_step, c])[0].to_numpy() for c in cols})
    figures["_hash"] = hashes[is_step]
    best = figures.groupby("_hash").max()
    for col in cols:
        from_steps = jobs["_hash"].map(best[col])
        jobs[col] = np.fmax(jobs[col].to_numpy(dtype="float64"), from_steps.to_numpy(dtype="float64"))
    return jobs

