"""The canonical tables every reader produces and every later stage consumes.

See ``DESIGN.md``: the **jobs** table has one row per job, times are tz-aware UTC, durations are
seconds, memory is bytes, and unknown extra columns are kept. :func:`conform_jobs` turns what a
reader built into that shape, so downstream code is blind to the input format.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = [
    "JOB_COLUMNS",
    "JOB_STATES",
    "TIME_COLUMNS",
    "conform_jobs",
    "empty_jobs",
    "normalise_state",
]

UTC_NS = pd.DatetimeTZDtype("ns", "UTC")

#: Canonical columns of the jobs table and their dtypes, in order.
JOB_COLUMNS: dict[str, object] = {
    "job_id": "string",
    "cluster": "string",
    "user": "string",
    "account": "string",
    "partition": "string",
    "qos": "string",
    "app": "string",
    "submit_time": UTC_NS,
    "eligible_time": UTC_NS,
    "start_time": UTC_NS,
    "end_time": UTC_NS,
    "req_nodes": "Int64",
    "req_cpus": "Int64",
    "req_mem_bytes": "float64",
    "time_limit_s": "float64",
    "alloc_nodes": "Int64",
    "nodelist": "object",
    "state": "string",
    "exit_code": "Int64",
    "runtime_s": "float64",
    "source": "string",
}

TIME_COLUMNS = ("submit_time", "eligible_time", "start_time", "end_time")

#: The normalised job states.
JOB_STATES = (
    "COMPLETED",
    "FAILED",
    "TIMEOUT",
    "CANCELLED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PENDING",
    "RUNNING",
)

_STATE_ALIASES = {
    "CD": "COMPLETED",
    "COMPLETE": "COMPLETED",
    "F": "FAILED",
    "FAIL": "FAILED",
    "BOOT_FAIL": "NODE_FAIL",
    "DEADLINE": "TIMEOUT",
    "TO": "TIMEOUT",
    "CA": "CANCELLED",
    "CANCELED": "CANCELLED",
    "PREEMPTED": "CANCELLED",
    "REVOKED": "CANCELLED",
    "NF": "NODE_FAIL",
    "OOM": "OUT_OF_MEMORY",
    "PD": "PENDING",
    "QUEUED": "PENDING",
    "REQUEUED": "PENDING",
    "SUSPENDED": "RUNNING",
    "R": "RUNNING",
    "COMPLETING": "RUNNING",
}


def normalise_state(raw: object) -> str | None:
    """Map a scheduler's state word onto one of :data:`JOB_STATES`.

    Qualifiers such as Slurm's ``CANCELLED by 1234`` or a trailing ``+`` are dropped. Returns
    None for a word that is not a known state.

    Examples
    --------
    >>> normalise_state("CANCELLED by 1234")
    'CANCELLED'
    >>> normalise_state("oom") is None, normalise_state("OUT_OF_MEMORY")
    (False, 'OUT_OF_MEMORY')
    """
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return None
    word = re.split(r"[\s+]", str(raw).strip().upper(), maxsplit=1)[0]
    if word in JOB_STATES:
        return word
    return _STATE_ALIASES.get(word)


def empty_jobs() -> pd.DataFrame:
    """An empty jobs table with the canonical columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in JOB_COLUMNS.items()})


def conform_jobs(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with every canonical column present, in order, with its canonical dtype.

    Missing canonical columns are added empty; extra columns are kept after them; ``runtime_s``
    is derived from start and end times where a reader did not give it.
    """
    out = df.copy()
    for col, dtype in JOB_COLUMNS.items():
        if col not in out.columns:
            out[col] = pd.Series(index=out.index, dtype=dtype)
        if dtype == UTC_NS:
            out[col] = _to_utc(out[col])
        elif dtype == "object":
            out[col] = out[col].astype(object)
        else:
            out[col] = out[col].astype(dtype)
    derived = (out["end_time"] - out["start_time"]).dt.total_seconds()
    out["runtime_s"] = out["runtime_s"].fillna(derived)
    extras = [c for c in out.columns if c not in JOB_COLUMNS]
    return out[list(JOB_COLUMNS) + extras].reset_index(drop=True)


def _to_utc(col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return col.dt.tz_convert("UTC").astype(UTC_NS)
    converted = pd.to_datetime(col, utc=True)
    return converted.astype(UTC_NS)
