"""PBS Professional / Torque accounting logs (``server_priv/accounting/YYYYMMDD``).

One record per line: ``MM/DD/YYYY HH:MM:SS;TYPE;ID;key=value key=value ...``. The records of a
job are merged into one row: ``Q`` (queued) gives the queue, ``S`` (started) the request, times
and hosts, ``E`` (ended) the usage and exit status; ``D`` (deleted) and ``A`` (aborted) end a
job that never finished. A job seen only queued is PENDING, started but not ended RUNNING. Keys
used: ``user group account project jobname queue ctime qtime etime start end exec_host
Exit_status Resource_List.{walltime,nodect,ncpus,mem,select} resources_used.{walltime,cput,mem,vmem}``;
every other key is kept as a column (``Resource_List.place`` → ``pbs_resource_list_place``).
Records of other kinds (``L`` licence lines, ``R`` reruns without a job id) are not jobs and are
counted neither as records nor quarantined. Format reference: PBS Professional Administrator's
Guide, chapter "Accounting" (record types and the key=value message text), Torque Administrator
Guide appendix "Job Accounting".
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from ..errors import InputFileError
from ..schema import conform_jobs, implausible, plausibility
from ._slurm_values import epoch_times, parse_durations, parse_memory, snake_case
from ._text import check_timezone, iter_lines
from .result import IngestResult, Quarantine

__all__ = ["read_pbs"]

_RECORD = re.compile(r"^(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d);([A-Za-z]);([^;]*);(.*)$")
_JOB_TYPES = frozenset("QSEDAR")  # job records; others (L licence, M, C, T...) are not jobs
_PAIR = re.compile(r"(\S+?)=((?:\"[^\"]*\"|\S)*)")
_KNOWN = {
    "user": "user", "group": "group", "account": "account", "project": "project", "jobname": "app",
    "queue": "partition", "exec_host": "exec_host", "Exit_status": "exit_code",
    "Resource_List.walltime": "time_limit_s", "Resource_List.nodect": "req_nodes",
    "Resource_List.ncpus": "req_cpus", "Resource_List.mem": "req_mem_bytes",
    "resources_used.walltime": "runtime_s", "resources_used.cput": "cpu_time_s",
    "resources_used.mem": "max_rss_bytes", "resources_used.vmem": "max_vmsize_bytes",
    "qtime": "submit_time", "etime": "eligible_time", "start": "start_time", "end": "end_time",
    "ctime": "create_time",
}


def read_pbs(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    tz: str = "UTC",
    strict: bool = False,
) -> IngestResult:
    """Read PBS Pro or Torque accounting logs into the canonical jobs table.

    Parameters
    ----------
    paths : path or sequence of paths
        Accounting log files (one per day on a PBS server), plain or gzip.
    tz : str, default "UTC"
        Time zone of the record time stamps (the server's local time); ``qtime``, ``start``
        and ``end`` are epoch seconds and absolute.
    strict : bool, default False
        Stop at the first bad line with an error naming it, instead of quarantining it.

    Returns
    -------
    IngestResult
        One row per job; ``duplicates_merged`` counts the records merged into a job's row
        (its Q and S records, and records repeated by concatenated logs).

    Raises
    ------
    InputFileError
        A missing or unreadable file, or one in which no line is a PBS record.

    Examples
    --------
    >>> result = read_pbs("tests/data/pbs-accounting-20240305")  # doctest: +SKIP
    >>> result.jobs.loc[0, ["job_id", "state", "runtime_s"]].tolist()  # doctest: +SKIP
    ['4101', 'COMPLETED', 1805.0]
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    check_timezone(tz)
    quarantine = Quarantine()
    jobs: dict[tuple[str, str], dict] = {}
    lines_read = records = 0
    for path in paths:
        n_good, first_bad = 0, None
        for lineno, line in iter_lines(path):
            if not line.strip():
                continue
            match = _RECORD.match(line)
            if match and match.group(2).upper() not in _JOB_TYPES:
                continue
            lines_read += 1
            reason = None if match else "not a PBS accounting record 'MM/DD/YYYY HH:MM:SS;TYPE;ID;key=value ...'"
            if match:
                stamp, kind, job, message = match.groups()
                reason = _merge(jobs, stamp, kind.upper(), job.strip(), message, tz, where=(path, lineno, line))
            if reason is not None:
                if strict:
                    raise InputFileError(path, reason, line=lineno)
                quarantine.add(path, lineno, line, reason)
                first_bad = first_bad or (lineno, reason)
                continue
            n_good += 1
            records += 1
        if n_good == 0 and first_bad is not None:
            raise InputFileError(path, f"not a PBS accounting log: {first_bad[1]}", line=first_bad[0])
    rows = list(jobs.values())
    frame = _to_jobs(rows)
    merged = records - len(frame)
    # A job whose records parse but break a plausibility rule is quarantined (its last record's
    # line) with the rule as reason; its other records stay counted as merged into it.
    reasons = implausible(frame) if len(frame) else pd.Series(dtype=object)
    bad = reasons.notna().to_numpy()
    if bad.any():
        if strict:
            i = int(np.flatnonzero(bad)[0])
            raise InputFileError(rows[i]["_where"][0], reasons.iloc[i], line=rows[i]["_where"][1])
        for i in np.flatnonzero(bad):
            quarantine.add(*rows[i]["_where"], reasons.iloc[i])
        frame = frame[~bad]
    return IngestResult(
        jobs=conform_jobs(frame),
        quarantine=quarantine.to_frame(),
        lines_read=lines_read,
        duplicates_merged=merged,
        metadata={"format": "pbs"},
    )


def _merge(jobs, stamp: str, kind: str, job: str, message: str, tz: str, *, where: tuple) -> str | None:
    if not job:
        return "empty job id"
    try:
        when = pd.Timestamp(datetime.strptime(stamp, "%m/%d/%Y %H:%M:%S")).tz_localize(
            tz, ambiguous="NaT", nonexistent="NaT")
    except ValueError as exc:
        return f"bad record time {stamp!r} ({exc})"
    rules = plausibility()
    if pd.notna(when) and not rules.earliest <= when < rules.latest:
        return f"record time {stamp!r} is outside {rules.earliest:%Y-%m-%d} .. {rules.latest:%Y-%m-%d}"
    when = when.as_unit("ns") if pd.notna(when) else when
    pairs = {key: value.strip('"') for key, value in _PAIR.findall(message)}
    if kind in "SE" and not pairs:
        return f"{kind} record without key=value pairs"
    for key in ("qtime", "etime", "start", "end", "ctime"):
        if key in pairs and not (pairs[key].lstrip("-").isdigit() and len(pairs[key]) <= 11 and abs(int(pairs[key])) < 9_200_000_000):
            return f"field {key!r}: not epoch seconds (1678 .. 2262): {pairs[key][:40]!r}"
    for key in ("Exit_status", "Resource_List.nodect", "Resource_List.ncpus"):
        if key in pairs and not (pairs[key].lstrip("-").isdigit() and len(pairs[key]) <= 15):
            return f"field {key!r}: not an integer: {pairs[key][:40]!r}"
    number, _, server = job.partition(".")
    key = (server, number)
    row = jobs.setdefault(key, {"job_id": number, "cluster": server or pd.NA, "_kinds": ""})
    row["_kinds"] += kind
    row.update(pairs)
    row[f"_time_{kind}"] = when
    row["_where"] = where
    return None


def _state(row: dict) -> str:
    kinds = row["_kinds"]
    if "E" in kinds:
        status = int(row.get("Exit_status", 0))
        if status == 0:
            return "COMPLETED"
        limit, used = row.get("Resource_List.walltime"), row.get("resources_used.walltime")
        if status >= 256 and limit and used and _seconds(used) >= _seconds(limit):
            return "TIMEOUT"  # killed by a signal (256 + n) at its walltime limit
        return "CANCELLED" if "D" in kinds else "FAILED"
    if "D" in kinds:
        return "CANCELLED"
    if "A" in kinds:
        return "FAILED"
    return "RUNNING" if "S" in kinds else "PENDING"


def _seconds(text: str) -> float:
    value, _ = parse_durations(pd.Series([text], dtype="string"))
    return float(value.iloc[0]) if pd.notna(value.iloc[0]) else float("nan")


def _hosts(exec_host) -> list[str]:
    if not isinstance(exec_host, str) or not exec_host:
        return []
    hosts: list[str] = []
    for part in exec_host.split("+"):
        host = part.split("/")[0].strip("()")
        if host and host not in hosts:
            hosts.append(host)
    return hosts


def _to_jobs(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame()
    raw = pd.DataFrame(rows)
    out = pd.DataFrame({"job_id": raw["job_id"].astype("string"), "cluster": raw["cluster"].astype("string")})
    out["state"] = [_state(r) for r in rows]
    out["nodelist"] = [_hosts(r.get("exec_host")) for r in rows]
    text = lambda k: raw[k].astype("string") if k in raw else pd.Series(pd.NA, index=raw.index, dtype="string")  # noqa: E731
    for key, col in _KNOWN.items():
        values = text(key)
        if col.endswith("_time"):
            out[col] = epoch_times(pd.to_numeric(values, errors="coerce").astype("float64"))[0]  # checked in _merge
        elif col.endswith("_s"):
            out[col] = parse_durations(values)[0]
        elif col.endswith("_bytes"):
            out[col] = parse_memory(values.str.upper().str.replace(r"B$", "", regex=True), default_unit="")[0]
        elif col in ("req_nodes", "req_cpus", "exit_code"):
            out[col] = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif col != "exec_host":
            out[col] = values
    # A job deleted before it ended has no ``end``: its D/A record time is when it stopped.
    for kind in "EDA":
        stamp = raw.get(f"_time_{kind}")
        if stamp is not None:
            out["end_time"] = out["end_time"].fillna(pd.to_datetime(stamp, utc=True))
    out.loc[out["state"].isin(["PENDING", "RUNNING"]), "end_time"] = pd.NaT
    if "exec_host" in raw:
        out["exec_host"] = text("exec_host")
    out["alloc_nodes"] = pd.array([len(h) or pd.NA for h in out["nodelist"]], dtype="Int64")
    out["source"] = "pbs"
    out["pbs_records"] = raw["_kinds"].astype("string")
    for key in raw.columns:
        if key.startswith("_") or key in _KNOWN or key in ("job_id", "cluster"):
            continue
        out[f"pbs_{snake_case(key)}"] = text(key)
    return out
