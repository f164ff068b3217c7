"""The replayed workload: each job's submission, size, limit and real runtime, and the machine size.

A workload comes from a jobs table (Parquet from ``hpcpredict ingest``, or a DataFrame) or straight
from an SWF trace. Jobs are counted in nodes when the table knows nodes (``alloc_nodes`` or
``req_nodes``, as Slurm dumps do) and in processors otherwise (SWF traces), and the machine size
comes from ``--nodes``, else the SWF header (``MaxNodes``/``MaxProcs``), else Alea's ``.machines``
file beside the trace, else the largest job (said in ``machine_source``). A job the replay cannot
place (no submit time, no size, or larger than the machine) is set aside with its reason, so the
counts reconcile: jobs in = jobs replayed + jobs set aside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFileError, ParameterError
from ..schema import conform_jobs

__all__ = ["Workload", "job_sizes", "load_workload", "workload_from_jobs"]

_SWF_SUFFIXES = (".swf", ".swf.gz")


@dataclass(frozen=True)
class Workload:
    """Jobs in submission order, as the replay sees them (times in seconds from the first submit).

    Attributes
    ----------
    jobs : DataFrame
        The kept rows of the jobs table, in submission order (the predictors read it).
    submit_s, runtime_s, limit_s, size : ndarray
        Per job: submit time, runtime as run (cut at the limit: jobs are killed there), time limit,
        resources requested (nodes or processors).
    machine_size : int
        Resources of the machine, in the same unit as ``size``.
    unit : str
        ``"nodes"`` or ``"processors"``.
    machine_source : str
        Where ``machine_size`` came from.
    origin : pandas.Timestamp
        The moment ``submit_s == 0`` stands for.
    set_aside : dict
        Reason → number of jobs left out of the replay.
    default_limit_jobs : int
        Jobs without a time limit: they get the site's default, the largest limit in the trace
        (the longest runtime when no job has a limit), so they can be planned and killed.
    """

    jobs: pd.DataFrame
    submit_s: np.ndarray
    runtime_s: np.ndarray
    limit_s: np.ndarray
    size: np.ndarray
    machine_size: int
    unit: str
    machine_source: str
    origin: pd.Timestamp
    set_aside: dict[str, int] = field(default_factory=dict)
    default_limit_jobs: int = 0

    def __len__(self) -> int:
        return len(self.submit_s)


def load_workload(path: str | os.PathLike[str], *, nodes: int | None = None) -> Workload:
    """Read a jobs table (Parquet/CSV) or an SWF trace into a :class:`Workload`.

    Parameters
    ----------
    path : path
        A jobs table from ``hpcpredict ingest``, or an SWF trace (``.swf`` or ``.swf.gz``).
    nodes : int, optional
        Machine size; overrides what the trace says.

    Returns
    -------
    Workload

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    header: dict[str, str] = {}
    if path.name.endswith(_SWF_SUFFIXES):
        from ..ingest import read_swf

        result = read_swf(path)
        jobs = result.jobs
        header = result.metadata["headers"][str(path)]
    else:
        from ..features.build import _read_table

        jobs = _read_table(path)
    return workload_from_jobs(jobs, nodes=nodes, header=header, machines_file=_machines_file(path))


def workload_from_jobs(
    jobs: pd.DataFrame,
    *,
    nodes: int | None = None,
    header: dict[str, str] | None = None,
    machines_file: str | os.PathLike[str] | None = None,
) -> Workload:
    """Turn a canonical jobs table into a :class:`Workload`.

    Parameters
    ----------
    jobs : DataFrame
        Canonical jobs rows with ``submit_time``, ``runtime_s`` (or start and end times),
        ``time_limit_s`` and a size column.
    nodes : int, optional
        Machine size; overrides ``header`` and ``machines_file``.
    header : dict, optional
        SWF header fields (``MaxNodes``, ``MaxProcs``).
    machines_file : path, optional
        Alea ``.machines`` description (``id name nodes cpus_per_node ...`` per line).

    Examples
    --------
    >>> t = pd.DataFrame({"job_id": ["1", "2"], "submit_time": pd.to_datetime([0, 60], unit="s", utc=True),
    ...                   "runtime_s": [100.0, 50.0], "time_limit_s": [80.0, 600.0], "req_nodes": [2, 1]})
    >>> w = workload_from_jobs(t, nodes=4)
    >>> w.runtime_s.tolist(), w.submit_s.tolist(), w.unit
    ([80.0, 50.0], [0.0, 60.0], 'nodes')
    """
    if nodes is not None and nodes < 1:
        raise ParameterError("nodes", "a positive number of nodes", nodes)
    jobs = conform_jobs(jobs)
    unit, size = job_sizes(jobs)
    submit = pd.to_datetime(jobs["submit_time"], utc=True) if "submit_time" in jobs.columns else pd.Series(pd.NaT, index=jobs.index)
    runtime = _runtimes(jobs)
    machine, source = _machine_size(nodes, header or {}, machines_file, unit, size)
    reasons = {
        "no submit time": submit.isna().to_numpy(),
        "no runtime": ~np.isfinite(runtime) | (runtime < 0),
        f"no size in {unit}": ~np.isfinite(size) | (size < 1),
    }
    reasons[f"larger than the machine ({machine} {unit})"] = np.nan_to_num(size) > machine
    keep = np.ones(len(jobs), dtype=bool)
    set_aside: dict[str, int] = {}
    for reason, bad in reasons.items():
        bad = bad & keep
        if bad.any():
            set_aside[reason] = int(bad.sum())
        keep &= ~bad
    kept = jobs.loc[keep]
    order = np.argsort(submit[keep].to_numpy(dtype="datetime64[ns]"), kind="stable")
    kept = kept.iloc[order].reset_index(drop=True)
    ns = submit[keep].to_numpy(dtype="datetime64[ns]")[order].astype("int64")
    origin_ns = int(ns[0]) if len(ns) else 0
    limit = pd.to_numeric(kept["time_limit_s"], errors="coerce").to_numpy(float) if "time_limit_s" in kept.columns else np.full(len(kept), np.nan)
    known = np.isfinite(limit) & (limit > 0)
    runtime = runtime[keep][order]
    # A job without a limit runs under the site's default: the largest limit seen, else the longest job.
    default = float(limit[known].max()) if known.any() else float(np.nanmax(runtime, initial=1.0))
    limit = np.where(known, limit, max(default, 1.0))
    return Workload(
        jobs=kept,
        submit_s=(ns - origin_ns) / 1e9,
        runtime_s=np.minimum(runtime, limit),
        limit_s=limit,
        size=size[keep][order].astype(np.int64),
        machine_size=int(machine),
        unit=unit,
        machine_source=source,
        origin=pd.Timestamp(origin_ns, tz="UTC"),
        set_aside=set_aside,
        default_limit_jobs=int((~known).sum()),
    )


def job_sizes(jobs: pd.DataFrame, *, missing: float = np.nan) -> tuple[str, np.ndarray]:
    """Each job's size and its unit: nodes, unless processors are known for more of the jobs.

    SWF traces count processors; Slurm dumps know nodes (a queue may know nodes while the running
    jobs of an SWF-derived table know only processors: the unit known for more jobs wins).
    On a tie an SWF-derived table (``source`` ``swf:...``) counts processors.
    ``missing`` fills unknown sizes.

    Examples
    --------
    >>> job_sizes(pd.DataFrame({"req_nodes": [2, None], "req_cpus": [64, 8]}), missing=1)
    ('processors', array([64.,  8.]))
    >>> job_sizes(pd.DataFrame({"req_nodes": [2, 1], "req_cpus": [64, 8]}))
    ('nodes', array([2., 1.]))
    """
    best: tuple[int, str, np.ndarray] | None = None
    units = [("nodes", ("alloc_nodes", "req_nodes")), ("processors", ("alloc_cpus", "req_cpus"))]
    # SWF counts processors; an extended SWF's host list (Alea's CERIT-SC) names nodes that jobs
    # share, so on a tie an SWF-derived table counts processors (the first unit wins a tie).
    if "source" in jobs.columns and len(jobs) and jobs["source"].astype(str).str.startswith("swf").all():
        units.reverse()
    for unit, columns in units:
        values = [pd.to_numeric(jobs[c], errors="coerce").to_numpy(float, na_value=np.nan) for c in columns if c in jobs.columns]
        if not values:
            continue
        size = values[0]
        for more in values[1:]:
            size = np.where(np.isfinite(size) & (size > 0), size, more)
        known = int((np.isfinite(size) & (size > 0)).sum())
        if known and (best is None or known > best[0]):
            best = (known, unit, size)
    if best is None:
        raise ParameterError("jobs", "a table with a job size (alloc_nodes, req_nodes, alloc_cpus or req_cpus)", "none of them")
    _, unit, size = best
    return unit, np.where(np.isfinite(size) & (size > 0), size, missing)


def _runtimes(jobs: pd.DataFrame) -> np.ndarray:
    runtime = pd.to_numeric(jobs["runtime_s"], errors="coerce").to_numpy(float, na_value=np.nan) if "runtime_s" in jobs.columns else np.full(len(jobs), np.nan)
    if {"start_time", "end_time"} <= set(jobs.columns):
        spans = (pd.to_datetime(jobs["end_time"], utc=True) - pd.to_datetime(jobs["start_time"], utc=True)).dt.total_seconds().to_numpy(float, na_value=np.nan)
        runtime = np.where(np.isfinite(runtime), runtime, spans)
    return runtime


def _machine_size(nodes, header: dict, machines_file, unit: str, size: np.ndarray) -> tuple[int, str]:
    if nodes is not None:
        return int(nodes), "--nodes"
    keys = ("MaxProcs", "MaxNodes") if unit == "processors" else ("MaxNodes", "MaxProcs")
    for key in keys:
        value = header.get(key, "")
        if value.strip().lstrip("-").isdigit() and int(value) > 0:
            return int(value), f"SWF header {key}"
    if machines_file is not None:
        total = _alea_machines(machines_file, unit)
        if total:
            return total, f"Alea machines file {Path(machines_file).name}"
    largest = np.nanmax(size) if np.isfinite(size).any() else 1
    return int(largest), "the largest job (no machine size known: give --nodes)"


def _machines_file(path: Path) -> Path | None:
    stem = path.name[: -len(".gz")] if path.name.endswith(".gz") else path.name
    candidate = path.with_name(stem + ".machines")
    return candidate if candidate.is_file() else None


def _alea_machines(path, unit: str) -> int:
    """Alea's ``id name nodes cpus_per_node ...`` lines: total nodes or processors."""
    total = 0
    for line in Path(path).read_text().splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2].isdigit() and fields[3].isdigit():
            total += int(fields[2]) * (int(fields[3]) if unit == "processors" else 1)
    return total
