"""Read the pending jobs a site has at hand: ``squeue --json``, ``squeue --format``, sacct, CSV.

Every reader returns canonical jobs rows (:mod:`hpcpredict.schema`) in state PENDING, so queued
jobs go through the same feature code as the offline pipeline. All formats agree on ids: a pending
array is **one row per pending task** (``10_3``, ``10_4``, ... with ``array_job_id`` and
``array_task_id``; ``10_[3-5%2]`` in text, one record in JSON), a heterogeneous job one row per
component (``12+0``, ``12+1``; JSON's separate job ids are mapped back). ``req_gpus`` is the GPUs
the job asks for, from the TRES, ``%b`` or the JSON ``tres_per_*`` fields.

The ``squeue`` text hpcpredict reads best (a header line is required)::

    squeue --states=PENDING -O "JobArrayID:|,Name:|,...,tres-alloc:"   # SQUEUE_FIELDS

``tres-alloc`` gives each job's memory in total. ``%m`` of ``squeue --format`` (SQUEUE_FORMAT,
``%i|%j|%u|%a|%P|%q|%V|%l|%D|%C|%m|%T|%b|%r``) is per CPU for jobs that asked ``--mem-per-cpu``
or got ``DefMemPerCPU`` and per node otherwise, and nothing in the line (no other field of
SQUEUE_FORMAT either) says which: without a ``TRES_ALLOC`` column it is read as per node, exact
for jobs with one CPU per node and ``%C/%D`` times too small for a per-CPU job on more CPUs. A ``|`` in a job's name is put back into the name
(:func:`hpcpredict.ingest._repair.repair_fields`); a line that cannot be repaired is left out
with a warning naming it. Extra columns are kept; missing ones are left empty.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFileError, ParameterError
from ..ingest._repair import repair_fields
from ..ingest._slurm_values import parse_durations, parse_memory, parse_times, parse_tres
from ..schema import conform_jobs

__all__ = ["QUEUE_FORMATS", "SQUEUE_FIELDS", "SQUEUE_FORMAT", "QueueLineSkipped", "read_queue"]

QUEUE_FORMATS = ("squeue-json", "squeue", "sacct", "csv")

#: The ``squeue --format`` list hpcpredict reads (``%b``: the GPU request, ``%r``: the reason).
SQUEUE_FORMAT = "%i|%j|%u|%a|%P|%q|%V|%l|%D|%C|%m|%T|%b|%r"
#: The ``squeue -O`` list: ``tres-alloc`` carries the job's total memory, whatever ``%m`` means.
SQUEUE_FIELDS = ",".join(f"{f}:|" for f in (
    "JobArrayID", "Name", "UserName", "Account", "Partition", "QOS", "SubmitTime", "TimeLimit", "NumNodes",
    "NumCPUs", "MinMemory", "State", "tres-per-node", "Reason")) + ",tres-alloc:"

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
    "TRES_PER_NODE": "tres_per_node",
    "TRES_ALLOC": "tres_alloc",
    "REASON": "reason",
    "ARRAY_JOB_ID": "job_id",
}
_ARRAY = re.compile(r"^(?P<job>\d+)_\[(?P<tasks>[^\]]+)\]$")
_GRES_GPU = re.compile(r"gpu(?::[^:,]+)?[:=](?P<n>\d+)")


class QueueLineSkipped(UserWarning):
    """A queue line that could not be read (e.g. an unrepairable ``|``): that job gets no prediction."""


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
    jobs = _one_row_per_task(reader(path, tz))
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
        rows.append(
            {
                "job_id": _json_id(job),
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
                "req_gpus": _json_gpus(job, nodes),
                "reason": job.get("state_reason"),
            }
        )
    return pd.DataFrame(rows, columns=["job_id", "app", "user", "account", "partition", "qos", "submit_time",
                                       "time_limit_s", "req_nodes", "req_cpus", "req_mem_bytes", "req_gpus", "reason"])


def _json_id(job: dict) -> str:
    """The id the text formats print: ``10_[1-5%2]``/``10_3`` for arrays, ``12+1`` for het parts."""
    array_job, task = _number(job.get("array_job_id")), _number(job.get("array_task_id"))
    if array_job:
        if task is not None:
            return f"{array_job}_{task}"
        tasks = job.get("array_task_string") or ""
        if tasks:
            return f"{array_job}_[{tasks}]"
    het_job = _number(job.get("het_job_id"))
    if het_job:
        return f"{het_job}+{_number(job.get('het_job_offset')) or 0}"
    return str(job["job_id"])


def _json_gpus(job: dict, nodes) -> float | None:
    """GPUs asked: the TRES request, else ``tres_per_job``/``tres_per_node`` (``gres:gpu:2``)."""
    tres = job.get("tres_req_str") or ""
    if "gres/gpu" in tres:
        return float(parse_tres(pd.Series([tres]), "req")[0].loc[0, "req_gpus"])
    for key, times in (("tres_per_job", 1), ("tres_per_node", nodes or 1)):
        match = _GRES_GPU.search(job.get(key) or "")
        if match:
            return float(match["n"]) * times
    return 0.0


def _one_row_per_task(jobs: pd.DataFrame) -> pd.DataFrame:
    """A pending array (``10_[1-5%2]``: tasks 1 to 5, at most 2 at once) becomes one row per task."""
    ids = jobs["job_id"].astype("string").fillna("")
    arrays = ids.str.extract(_ARRAY)
    rows = []
    for i, (job, tasks) in enumerate(zip(arrays["job"], arrays["tasks"])):
        if pd.isna(job):
            rows.append((i, ids.iloc[i], pd.NA, pd.NA))
            continue
        for task in _task_ids(tasks.split("%")[0]):
            rows.append((i, f"{job}_{task}", job, str(task)))
    plain = ids.str.extract(r"^(?P<job>\d+)_(?P<task>\d+)$")
    out = jobs.iloc[[r[0] for r in rows]].reset_index(drop=True)
    out["job_id"] = [r[1] for r in rows]
    out["array_job_id"] = pd.array([r[2] if pd.notna(r[2]) else plain["job"].iloc[r[0]] for r in rows], dtype="string")
    out["array_task_id"] = pd.array([r[3] if pd.notna(r[3]) else plain["task"].iloc[r[0]] for r in rows], dtype="string")
    return out


def _task_ids(ranges: str) -> list[int]:
    """``1-5``, ``3,5-9:2`` (with a step) as task numbers."""
    out: list[int] = []
    for part in ranges.split(","):
        bounds, _, step = part.partition(":")
        lo, _, hi = bounds.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1, int(step or 1)))
    return out


def _read_squeue_text(path: Path, tz: str) -> pd.DataFrame:
    lines = path.read_text().splitlines()
    header = [h.strip().upper() for h in lines[0].split("|")]
    rows, numbers = [], []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != len(header):
            fields, reason = repair_fields(fields, header)
            if fields is None:
                warnings.warn(f"{path}, line {lineno}: {reason}; this job is left out", QueueLineSkipped, stacklevel=3)
                continue
        rows.append([f.strip() for f in fields])
        numbers.append(lineno)
    raw = pd.DataFrame(rows, columns=header).rename(columns=_SQUEUE_COLUMNS)
    out = raw.drop(columns=[c for c in ("submit_time", "time_limit", "min_memory", "state", "tres_per_node",
                                        "tres_alloc") if c in raw.columns])
    for col in ("req_nodes", "req_cpus"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce")
    if "submit_time" in raw.columns:
        out["submit_time"], bad = parse_times(raw["submit_time"], tz=tz)
        _refuse(bad, raw["submit_time"], numbers, path, "SUBMIT_TIME", "not a time")
    if "time_limit" in raw.columns:
        out["time_limit_s"], bad = parse_durations(raw["time_limit"])
        _refuse(bad, raw["time_limit"], numbers, path, "TIME_LIMIT", "not a Slurm duration")
    nodes = out["req_nodes"].fillna(1) if "req_nodes" in out.columns else 1
    tres = parse_tres(raw["tres_alloc"].replace("N/A", ""), "req")[0] if "tres_alloc" in raw.columns else None
    if "min_memory" in raw.columns:
        # %m: per node, or per CPU for --mem-per-cpu/DefMemPerCPU jobs (the line does not say)
        per_node, bad = parse_memory(raw["min_memory"], default_unit="M")
        _refuse(bad, raw["min_memory"], numbers, path, "MIN_MEMORY", "not a memory size")
        out["req_mem_bytes"] = per_node * nodes
    if tres is not None:  # the job's total, whichever way it asked
        out["req_mem_bytes"] = tres["req_tres_mem_bytes"].fillna(out.get("req_mem_bytes", np.nan))
        out["req_gpus"] = tres["req_gpus"].fillna(0.0)
    elif "tres_per_node" in raw.columns:
        per = raw["tres_per_node"].str.extract(_GRES_GPU)["n"].astype("float64").fillna(0.0)
        out["req_gpus"] = per * nodes
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
    jobs = jobs.loc[jobs["state"] == "PENDING"].copy()  # a dump without --state=PENDING holds other jobs too
    if "req_gpus" in jobs and "req_tres" in jobs:  # a TRES request without gres/gpu asks for none
        jobs["req_gpus"] = jobs["req_gpus"].where(jobs["req_tres"].isna() | jobs["req_gpus"].notna(), 0.0)
    return jobs.drop(columns=["array_job_id", "array_task_id"], errors="ignore").reset_index(drop=True)


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
