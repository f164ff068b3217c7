"""The canonical tables every reader produces and every later stage consumes.

See ``DESIGN.md``: the **jobs** table has one row per job, times are tz-aware UTC, durations are
seconds, memory is bytes, and unknown extra columns are kept. :func:`conform_jobs` turns what a
reader built into that shape, so downstream code is blind to the input format.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "JOB_COLUMNS",
    "JOB_STATES",
    "TIME_COLUMNS",
    "Plausibility",
    "conform_jobs",
    "empty_jobs",
    "implausible",
    "normalise_state",
    "plausibility",
    "plausibility_rules",
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


@dataclass(frozen=True)
class Plausibility:
    """What a job record may hold; a row breaking a rule is quarantined with the rule as reason.

    Times lie in ``[earliest, latest)``; ``submit <= start <= end`` where known; durations
    (``runtime_s``, ``time_limit_s``) and memory are finite and non-negative, durations at most
    ``max_duration_s``; counts (nodes, CPUs) are non-negative and at most ``max_count``; a state
    the reader found is one of :data:`JOB_STATES`.

    The window defaults to 1980-01-01 .. 2100-01-01; the environment variable
    ``HPCPREDICT_DATE_WINDOW`` (``1970-01-01/2200-01-01``) or :func:`plausibility_rules` changes it.
    """

    earliest: pd.Timestamp = pd.Timestamp("1980-01-01", tz="UTC")
    latest: pd.Timestamp = pd.Timestamp("2100-01-01", tz="UTC")
    max_duration_s: float = 100 * 366 * 86400.0
    max_count: float = 1e9
    max_bytes: float = 2.0**70

    @classmethod
    def from_environment(cls) -> "Plausibility":
        """The default rules, with the date window of ``HPCPREDICT_DATE_WINDOW`` when set."""
        window = os.environ.get("HPCPREDICT_DATE_WINDOW")
        if not window:
            return cls()
        start, _, end = window.partition("/")
        return cls(earliest=pd.Timestamp(start, tz="UTC"), latest=pd.Timestamp(end, tz="UTC"))


_RULES: contextvars.ContextVar[Plausibility | None] = contextvars.ContextVar("hpcpredict_plausibility", default=None)


def plausibility() -> Plausibility:
    """The rules in force (see :func:`plausibility_rules`)."""
    return _RULES.get() or Plausibility.from_environment()


@contextlib.contextmanager
def plausibility_rules(rules: Plausibility) -> Iterator[Plausibility]:
    """Read with other rules inside the block, e.g. a trace from the 1970s.

    Examples
    --------
    >>> with plausibility_rules(Plausibility(earliest=pd.Timestamp("1960-01-01", tz="UTC"))):
    ...     plausibility().earliest.year
    1960
    """
    token = _RULES.set(rules)
    try:
        yield rules
    finally:
        _RULES.reset(token)


_DURATIONS = ("runtime_s", "time_limit_s")
_COUNTS = ("req_nodes", "req_cpus", "alloc_nodes", "alloc_cpus")
_BYTES = ("req_mem_bytes",)


def implausible(jobs: pd.DataFrame, rules: Plausibility | None = None) -> pd.Series:
    """The first rule each row breaks, as a reason; missing where the row keeps every rule.

    Missing values break no rule. ``jobs`` needs only the columns it has: a reader checks its
    rows before conforming them.

    Examples
    --------
    >>> t = pd.to_datetime(["2023-01-01 10:00", "2023-01-01 10:00", "9000-01-01"], utc=True, format="mixed")
    >>> jobs = pd.DataFrame({"start_time": t[:2].append(pd.DatetimeIndex([pd.NaT], tz="UTC")),
    ...                      "end_time": pd.to_datetime(["2023-01-01 11:00", "2023-01-01 09:00", None], utc=True),
    ...                      "runtime_s": [3600.0, float("inf"), -1.0]})
    >>> implausible(jobs).tolist()
    [<NA>, "'end_time' 2023-01-01 09:00:00+00:00 is before 'start_time' 2023-01-01 10:00:00+00:00", "'runtime_s' is negative: -1.0"]
    """
    rules = rules or plausibility()
    reasons = pd.Series(pd.NA, index=jobs.index, dtype="object")

    def rule(mask, make) -> None:
        mask = np.asarray(mask, dtype=bool) & reasons.isna().to_numpy()
        if mask.any():
            reasons[mask] = [make(i) for i in np.flatnonzero(mask)]

    times = {c: _as_utc(jobs[c]) for c in TIME_COLUMNS if c in jobs}
    for col, values in times.items():
        early = (values < rules.earliest).fillna(False).to_numpy(bool)
        late = (values >= rules.latest).fillna(False).to_numpy(bool)
        rule(early | late, lambda i, c=col, v=values: f"{c!r} {v.iloc[i]} is outside {rules.earliest:%Y-%m-%d} .. {rules.latest:%Y-%m-%d}")
    for later, earlier in (("start_time", "submit_time"), ("end_time", "start_time")):
        if later in times and earlier in times:
            a, b = times[later], times[earlier]
            rule((a < b).fillna(False).to_numpy(bool), lambda i, a=a, b=b, x=later, y=earlier: f"{x!r} {a.iloc[i]} is before {y!r} {b.iloc[i]}")
    for cols, top, unit in ((_DURATIONS, rules.max_duration_s, "s"), (_COUNTS, rules.max_count, ""), (_BYTES, rules.max_bytes, " bytes")):
        for col in cols:
            if col not in jobs:
                continue
            values = pd.to_numeric(jobs[col], errors="coerce").astype("float64").to_numpy()
            rule(values < 0, lambda i, c=col, v=values: f"{c!r} is negative: {v[i]}")
            rule(~np.isnan(values) & ~(values <= top), lambda i, c=col, v=values, t=top: f"{c!r} is beyond {t:g}{unit}: {v[i]}")
    if "state" in jobs and "state_raw" in jobs:
        raw = jobs["state_raw"].astype("string").str.strip()
        unknown = jobs["state"].isna() & raw.notna() & (raw != "")
        rule(unknown.to_numpy(bool), lambda i: f"'state' {raw.iloc[i]!r} is not a known job state")
    return reasons


def _as_utc(col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return col
    return pd.to_datetime(col, utc=True, errors="coerce")
