"""Reading a samples folder (or DataFrame) through DuckDB, by role and by time bucket.

Time is cut into buckets of :data:`BUCKET_S` seconds (the usual sampling interval); a sample
belongs to bucket ``floor(t / BUCKET_S)``. Windows are whole buckets, so what a feature may see
is decided by bucket edges: a window ending at moment ``h`` uses buckets that end at or before
``h``, i.e. samples stamped strictly before ``h``.

A sample describes the interval that ends at its stamp (a rate is the counter's change since the
previous sample), so a job's own window (:func:`run_buckets`) takes only samples whose interval
lies inside its run: the sample stamped at the start second covers the second before it, which
belongs to whatever ran then, and one stamped after the end is the next job's.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFileError
from ..ingest.metrics import ROLES, describe_metric
from ..metadata import table_metadata

__all__ = ["BUCKET_S", "QUANTITY", "SampleSource", "files_between", "open_samples", "run_buckets", "source_over", "to_seconds", "window_bounds"]

#: Width of a time bucket, in seconds.
BUCKET_S = 60

#: role → the quantity name features use (with its unit).
QUANTITY = {
    "fs_read_bytes": "fs_read_bytes_per_s",
    "fs_write_bytes": "fs_write_bytes_per_s",
    "fs_metadata_ops": "fs_metadata_ops_per_s",
    "net_flits": "net_flits_per_s",
    "net_stalls": "net_stalls_per_s",
    "net_bytes": "net_bytes_per_s",
    "cpu_busy": "cpu_busy_frac",
    "mem_used": "mem_used_bytes",
}
assert set(QUANTITY) == set(ROLES)


def to_seconds(times: pd.Series) -> np.ndarray:
    """UTC times as float epoch seconds (NaN for NaT)."""
    t = pd.to_datetime(times, utc=True)
    out = t.to_numpy("datetime64[ns]").astype("int64") / 1e9
    out[t.isna().to_numpy()] = np.nan
    return out


def window_bounds(h: np.ndarray, width: float, *, k0: int, n: int, bucket_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Prefix-sum indices of the whole buckets inside ``[h - width, h)``, clipped to ``0 .. n``.

    With ``prefix[i]`` the total over buckets ``k0 .. k0 + i - 1``, a window's total is
    ``prefix[hi] - prefix[lo]``; NaN moments give an empty window.
    """
    lo = np.clip(np.nan_to_num(np.ceil((h - width) / bucket_s) - k0), 0, n).astype(np.int64)
    hi = np.clip(np.nan_to_num(np.floor(h / bucket_s) - k0), 0, n).astype(np.int64)
    return lo, hi


def run_buckets(start_s: np.ndarray, end_s: np.ndarray, bucket_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Bucket range ``[lo, hi)`` whose samples cover only the run ``[start, end]``.

    A sample stamped ``t`` covers the bucket-wide interval ending at ``t``. Its interval lies in
    the run when ``start + bucket_s <= t <= end``; whatever the samples' phase, that holds for
    every sample of the buckets from the one after the start's first whole bucket up to the last
    bucket that ends by the end. NaN times give NaN bounds.

    Examples
    --------
    >>> lo, hi = run_buckets(np.array([120.0]), np.array([450.0]), 60)
    >>> lo.tolist(), hi.tolist()  # samples stamped in [180, 420) s: each covers 60 s inside the run
    ([3.0], [7.0])
    """
    with np.errstate(invalid="ignore"):
        return np.ceil(start_s / bucket_s) + 1, np.floor(end_s / bucket_s)


@dataclass
class SampleSource:
    """Samples reachable from DuckDB as ``relation``, with each role's columns.

    ``files`` (the Parquet files behind ``relation``) or ``frame`` (the registered DataFrame)
    say where the samples came from, so a part of them can be opened again elsewhere
    (:func:`source_over`); both are None for a source built by hand.
    """

    con: object
    relation: str
    roles: dict[str, list[str]]
    bucket_s: int = BUCKET_S
    files: list[str] | None = field(default=None, repr=False)
    frame: pd.DataFrame | None = field(default=None, repr=False)

    def role_sql(self, role: str) -> str:
        """SQL for one role's value per sample: the sum of its columns, NULL when all are NULL."""
        cols = [f'"{c}"' for c in self.roles[role]]
        if len(cols) == 1:
            return f"CAST({cols[0]} AS DOUBLE)"
        all_null = " AND ".join(f"{c} IS NULL" for c in cols)
        return f"CASE WHEN {all_null} THEN NULL ELSE {' + '.join(f'coalesce({c}, 0)' for c in cols)} END"

    def bucket_sql(self) -> str:
        """SQL for a sample's bucket number."""
        return f"(epoch_us(timestamp) // {int(self.bucket_s * 1_000_000)})"

    def bucket_range(self) -> tuple[int, int] | None:
        """First and last bucket holding a sample, or None for no samples."""
        lo, hi = self.con.execute(f"SELECT min({self.bucket_sql()}), max({self.bucket_sql()}) FROM {self.relation}").fetchall()[0]
        return None if lo is None else (int(lo), int(hi))


def _roles_from(infos: list[dict], columns: list[str]) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    for info in infos:
        if info.get("role") in ROLES and info["column"] in columns:
            roles.setdefault(info["role"], []).append(info["column"])
    return roles


def _infer(columns: list[str]) -> list[dict]:
    out = []
    for c in columns:
        if c in ("timestamp", "component"):
            continue
        name = c[: -len("_per_s")] if c.endswith("_per_s") else c
        info = describe_metric(name).to_dict()
        info["column"] = c
        out.append(info)
    return out


def open_samples(samples, *, bucket_s: int | None = None) -> SampleSource | None:
    """Open ``samples`` (a samples folder, a Parquet file, or a DataFrame) for DuckDB queries.

    Role columns come from the folder's ``_metrics.json`` (or the DataFrame's metadata ``metrics``, :func:`~hpcpredict.metadata.table_metadata`),
    else from the column names. Buckets are ``bucket_s`` wide, else as wide as the folder's
    ``_metrics.json`` says (``"bucket_s"``: its sampling interval, written by ``ingest pcp``), else
    :data:`BUCKET_S`: system totals sum one sample per host and bucket, so a bucket must not hold
    several samples of a host. Returns None when ``samples`` is None.
    """
    import duckdb

    if samples is None:
        return None
    con = _connect()
    if isinstance(samples, pd.DataFrame):
        bucket_s = bucket_s or BUCKET_S
        for col in ("timestamp", "component"):
            if col not in samples.columns:
                raise InputFileError("<samples DataFrame>", f"no {col!r} column")
        frame = samples.copy()
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        con.register("samples_df", frame)
        infos = table_metadata(samples).get("metrics") or _infer(list(frame.columns))
        return SampleSource(con, "samples_df", _roles_from(infos, list(frame.columns)), bucket_s, frame=frame)
    path = Path(os.fspath(samples))
    if path.is_dir():
        files = sorted(str(f) for f in path.glob("samples-*.parquet")) or sorted(str(f) for f in path.glob("*.parquet"))
        meta_file = path / "_metrics.json"
        folder_meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        infos = folder_meta.get("metrics")
        bucket_s = bucket_s or folder_meta.get("bucket_s")
    elif path.is_file():
        files, infos = [str(path)], None
    else:
        raise InputFileError(path, "no such samples folder or file")
    if not files:
        raise InputFileError(path, "no Parquet samples in this folder; write one with `hpcpredict ingest ldms`")
    relation = f"read_parquet({files!r}, union_by_name = true)"
    try:
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    except duckdb.Error as exc:
        raise InputFileError(path, f"cannot read the samples ({exc})") from None
    if infos is None:
        from .._atomic import read_parquet_metadata

        meta = read_parquet_metadata(files[0]) or {}
        infos = meta.get("metrics") or _infer(columns)
        bucket_s = bucket_s or meta.get("bucket_s")
    return SampleSource(con, relation, _roles_from(infos, columns), int(bucket_s or BUCKET_S), files=files)


def _connect():
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # naive timestamps in a Parquet file are UTC, whatever the machine's zone
    try:
        con.execute("SET enable_progress_bar = false")  # stdout belongs to the CLI (--json)
    except duckdb.InvalidInputException:
        pass  # in Jupyter without ipywidgets duckdb refuses any change of the setting; its bar is off there
    return con


_DAY_FILE = re.compile(r"samples-(\d{4}-\d{2}-\d{2})\.parquet$")


def files_between(files: list[str], t0_s: float, t1_s: float) -> list[str]:
    """The day files ``samples-YYYY-MM-DD.parquet`` (UTC days) that overlap ``[t0_s, t1_s)``.

    Any other file name means the days are unknown: then every file is returned.
    """
    days = [_DAY_FILE.search(os.path.basename(f)) for f in files]
    if not all(days):
        return list(files)
    starts = [pd.Timestamp(d.group(1), tz="UTC").value / 1e9 for d in days]
    return [f for f, s in zip(files, starts) if s < t1_s and s + 86400 > t0_s]


def source_over(roles: dict[str, list[str]], *, files: list[str] | None = None, frame: pd.DataFrame | None = None, bucket_s: int = BUCKET_S) -> SampleSource:
    """A source with a DuckDB connection of its own over some of a source's files, or rows.

    ``frame`` must already carry UTC ``timestamp``s (as :attr:`SampleSource.frame` does). A role
    column that the given files lack reads as NULL; no files and no frame give no samples.
    """
    con = _connect()
    columns = [c for cols in roles.values() for c in cols]
    if frame is not None:
        con.register("samples_df", frame)
        return SampleSource(con, "samples_df", roles, bucket_s, frame=frame)
    if not files:
        empty = pd.DataFrame({"timestamp": pd.Series(dtype="datetime64[ns, UTC]"), "component": pd.Series(dtype=object)})
        for c in columns:
            empty[c] = pd.Series(dtype="float64")
        con.register("samples_df", empty)
        return SampleSource(con, "samples_df", roles, bucket_s, frame=empty)
    relation = f"read_parquet({list(files)!r}, union_by_name = true)"
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    missing = [c for c in columns if c not in have]
    if missing:  # e.g. a metric that appeared later in the folder than these days
        nulls = ", ".join('CAST(NULL AS DOUBLE) AS "%s"' % c for c in missing)
        relation = f"(SELECT *, {nulls} FROM {relation})"
    return SampleSource(con, relation, roles, bucket_s, files=list(files))
