"""Read the pending jobs a site has at hand: ``squeue --json``, ``squeue --format``, sacct, CSV.

Every reader returns canonical jobs rows (:mod:`hpcpredict.schema`) in state PENDING, so queued
jobs go through the same feature code as the offline pipeline.

The ``squeue --format`` field list hpcpredict understands (header line required)::

    squeue --states=PENDING --format="%i|%j|%u|%a|%P|%q|%V|%l|%D|%C|%m|%T"

which prints the header ``JOBID|NAME|USER|ACCOUNT|PARTITION|QOS|SUBMIT_TIME|TIME_LIMIT|NODES|
CPUS|MIN_MEMORY|STATE``. Extra columns are kept; missing ones are left empty.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..errors import InputFileError, ParameterError
from ..ingest._slurm_values import parse_durations, parse_memory, parse_times
from ..schema import conform_jobs

__all__ = ["QUEUE_FORMATS", "read_queue"]

QUEUE_FORMATS = ("squeue-json", "squeue", "sacct", "csv")

_SQUEUE_COLUMNS = {
    "JOBID": "job_id",
    "NAME": "app",
    "USER": "user",
    "ACCOUNT": "account",
    "PARTITION": "partition",
    "QOS": "qos",
    "SUBMIT_TIME": "submit_time",
    "TIME_LIMIT": "time_limit",
    "NODES": "req_nodes",
    "CPUS": "req_cpus",
    "MIN_MEMORY": "min_memory",
    "STATE": "state",
}


def read_queue(path: str | os.PathLike[str], *, fmt: str | None = None, tz: str = "UTC") -> pd.DataFrame:
    """Read pending jobs from ``path``; the format is detected unless ``fmt`` names it.

    Parameters
    ----------
    path : path
        ``squeue --json`` output, ``squeue --format`` text with the documented header,
        ``sacct --state=PENDING --parsable2`` output, or a CSV with canonical column names
        (``job_id, user, app, partition, submit_time, time_limit_s, req_nodes, req_cpus`` ...).
    fmt : {"squeue-json", "squeue", "sacct", "csv"}, optional
        Skip detection.
    tz : str
        Time zone of naive times in the text formats.

    Returns
    -------
    DataFrame
        Canonical jobs rows with ``state`` PENDING.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    fmt = fmt or _detect(path)
    if fmt not in QUEUE_FORMATS:
        raise ParameterError("fmt", f"one of {', '.join(QUEUE_FORMATS)}", fmt)
    reader = {"squeue-json": _read_squeue_json, "squeue": _read_squeue_text, "sacct": _read_sacct, "csv": _read_csv}[fmt]
    jobs = reader(path, tz)
    jobs["state"] = "PENDING"
    jobs["source"] = f"queue:{fmt}"
    return conform_jobs(jobs)


def _detect(path: Path) -> str:
    head = path.read_text(errors="replace")[:4096].lstrip()
    first = head.splitlines()[0] if head else ""
    if head.startswith("{"):
        return "squeue-json"
    if "|" in first and first.split("|")[0].strip() == "JobID":
        return "sacct"
    if "|" in first and first.split("|")[0].strip().upper() == "JOBID":
        return "squeue"
    if "," in first:
        return "csv"
    raise InputFileError(path, "unknown queue format: expected squeue --json, squeue --format with a header, sacct --parsable2 or CSV", line=1)


def _number(value):
    """Slurm JSON numbers come plain (old API) or as {"set", "infinite", "number"} (v0.0.40+)."""
    if isinstance(value, dict):
        if not value.get("set", True) or value.get("infinite", False):
            return None
        return value.get("number")
    return value


def _read_squeue_json(path: Path, tz: str) -> pd.DataFrame:
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"not valid JSON ({exc})", line=getattr(exc, "lineno", None)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), list):
        raise InputFileError(path, "squeue --json output must have a 'jobs' list", field="jobs")
    rows = []
    for i, job in enumerate(doc["jobs"]):
        if not isinstance(job, dict) or job.get("job_id") is None:
            raise InputFileError(path, f"job #{i} has no job_id", field="job_id")
        state = job.get("job_state")
        state = state[0] if isinstance(state, list) and state else state
        if state not in (None, "PENDING"):
            continue
        nodes = _number(job.get("node_count"))
        cpus = _number(job.get("cpus"))
        per_node, per_cpu = _number(job.get("memory_per_node")), _number(job.get("memory_per_cpu"))
        mem_mb = per_node * (nodes or 1) if per_node else (per_cpu * (cpus or 1) if per_cpu else None)
        limit_min = _number(job.get("time_limit"))
        submit = _number(job.get("submit_time"))
        task = _number(job.get("array_task_id"))
        rows.append(
            {
                "job_id": f"{_number(job['array_job_id'])}_{task}" if task is not None and _number(job.get("array_job_id")) else str(job["job_id"]),
                "app": job.get("name"),
                "user": job.get("user_name") or job.get("user"),
                "account": job.get("account"),
                "partition": job.get("partition"),
                "qos": job.get("qos"),
                "submit_time": pd.Timestamp(submit, unit="s", tz="UTC") if submit else pd.NaT,
                "time_limit_s": limit_min * 60.0 if limit_min is not None else None,
                "req_nodes": nodes,
                "req_cpus": cpus,
                "req_mem_bytes": mem_mb * 1024.0**2 if mem_mb else None,
            }
        )
    return pd.DataFrame(rows, columns=["job_id", "app", "user", "account", "partition", "qos", "submit_time", "time_limit_s", "req_nodes", "req_cpus", "req_mem_bytes"])


def _read_squeue_text(path: Path, tz: str) -> pd.DataFrame:
    lines = path.read_text().splitlines()
    header = [h.strip().upper() for h in lines[0].split("|")]
    rows, numbers = [], []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != len(header):
            raise InputFileError(path, f"expected {len(header)} fields, found {len(fields)}", line=lineno)
        rows.append([f.strip() for f in fields])
        numbers.append(lineno)
    raw = pd.DataFrame(rows, columns=header).rename(columns=_SQUEUE_COLUMNS)
    out = raw.drop(columns=[c for c in ("submit_time", "time_limit", "min_memory", "state") if c in raw.columns])
    for col in ("req_nodes", "req_cpus"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    if "submit_time" in raw.columns:
        out["submit_time"], bad = parse_times(raw["submit_time"], tz=tz)
        _refuse(bad, raw["submit_time"], numbers, path, "SUBMIT_TIME", "not a time")
    if "time_limit" in raw.columns:
        out["time_limit_s"], bad = parse_durations(raw["time_limit"])
        _refuse(bad, raw["time_limit"], numbers, path, "TIME_LIMIT", "not a Slurm duration")
    if "min_memory" in raw.columns:
        # %m is the minimum memory per node, in megabytes unless a unit is given
        nodes = out["req_nodes"] if "req_nodes" in out.columns else None
        per_node, bad = parse_memory(raw["min_memory"], default_unit="M")
        _refuse(bad, raw["min_memory"], numbers, path, "MIN_MEMORY", "not a memory size")
        out["req_mem_bytes"] = (per_node * nodes.fillna(1)) if nodes is not None else per_node
    return out


def _refuse(bad: pd.Series, values: pd.Series, line_numbers: list[int], path: Path, field: str, what: str) -> None:
    """Raise naming the first unreadable value's line and field."""
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputFileError(path, f"{what}: {values.iloc[i]!r}", line=line_numbers[i], field=field)


def _read_sacct(path: Path, tz: str) -> pd.DataFrame:
    from ..ingest import READERS

    if "sacct" not in READERS:
        raise ParameterError("fmt", "a format whose reader is installed", "sacct")
    jobs = READERS["sacct"]([path], tz=tz).jobs
    return jobs.loc[jobs["state"] == "PENDING"]  # a dump without --state=PENDING holds other jobs too


def _read_csv(path: Path, tz: str) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path, dtype={"job_id": str, "user": str, "app": str, "partition": str})
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read as CSV ({exc})") from None
    if "job_id" not in raw.columns:
        raise InputFileError(path, "a queue CSV needs a 'job_id' column", line=1, field="job_id")
    if "submit_time" in raw.columns:
        raw["submit_time"], bad = parse_times(raw["submit_time"], tz=tz)
        _refuse(bad, raw["submit_time"], list(range(2, len(raw) + 2)), path, "submit_time", "not a time")
    for field in ("time_limit_s", "req_nodes", "req_cpus", "req_mem_bytes"):
        if field in raw.columns:
            numbers = pd.to_numeric(raw[field], errors="coerce")
            _refuse(numbers.isna() & raw[field].notna(), raw[field], list(range(2, len(raw) + 2)), path, field, "not a number")
            raw[field] = numbers
    return raw
