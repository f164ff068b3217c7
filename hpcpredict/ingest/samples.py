"""Generic node samples: long (``timestamp,host,metric,value``, e.g. a Prometheus export) or wide tables.

Wide tables have ``timestamp``, a host column (``host``, ``component``, ``node`` or ``instance``)
and one column per metric. Both come as CSV (plain or gzip) or Parquet. Timestamps are epoch
seconds or ISO-8601 text (UTC unless they say otherwise). Counters (known names, ``*_total``, or
those named in ``metrics``) become per-second rates as in the LDMS reader.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFileError, ParameterError
from ._samples import SamplesResult, counters_to_rates, derive_metrics, parse_numbers, write_samples
from .metrics import describe_metric
from .result import Quarantine

__all__ = ["read_samples", "read_topology"]

_HOST_NAMES = ("component", "host", "hostname", "node", "instance", "ProducerName")
_TIME_NAMES = ("timestamp", "time", "Time", "#Time", "ts")


def _load(path: Path) -> tuple[pd.DataFrame, int]:
    """The file as strings, and the line number of its first data row."""
    if not path.is_file():
        raise InputFileError(path, "no such file")
    try:
        if path.name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path).astype("string"), 1
        return pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False), 2
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputFileError(path, f"cannot read as a samples table ({exc})") from None


def _pick(columns, names, path, what) -> str:
    for n in names:
        if n in columns:
            return n
    raise InputFileError(path, f"no {what} column (looked for {', '.join(names)})", line=1)


def _times(raw: pd.Series) -> pd.Series:
    numeric = pd.to_numeric(raw, errors="coerce")
    if numeric.notna().all():
        return pd.to_datetime(numeric, unit="s", utc=True)
    parsed = pd.to_datetime(raw.where(numeric.isna()), utc=True, errors="coerce", format="ISO8601")
    return parsed.fillna(pd.to_datetime(numeric, unit="s", utc=True))


def read_samples(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str] | None = None,
    *,
    layout: str = "auto",
    metrics: Mapping[str, Mapping[str, str]] | None = None,
    counter_bits: int = 64,
    max_gap_s: float | None = None,
) -> SamplesResult:
    """Read long or wide sample tables into one samples table.

    Parameters
    ----------
    paths : path or sequence of paths
        CSV or Parquet files.
    output_dir : path, optional
        When given, the samples folder is written there.
    layout : {"auto", "long", "wide"}
        ``auto`` picks long when the file has ``metric`` and ``value`` columns.
    metrics : mapping, optional
        Overrides of the built-in metric table: ``{metric: {"kind", "unit", "role"}}``.
    counter_bits, max_gap_s
        As in :func:`~hpcpredict.ingest.ldms.read_ldms`.

    Examples
    --------
    >>> r = read_samples("node_metrics.csv")  # doctest: +SKIP
    >>> r.counts["samples"]  # doctest: +SKIP
    2880
    """
    if layout not in ("auto", "long", "wide"):
        raise ParameterError("layout", "'auto', 'long' or 'wide'", layout)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    q = Quarantine()
    frames = []
    lines_read = dupes = 0
    is_long = None
    for path in map(Path, paths):
        raw, first_line = _load(path)
        long_here = layout == "long" or (layout == "auto" and {"metric", "value"} <= set(raw.columns))
        if is_long is not None and long_here != is_long:
            raise InputFileError(path, "mixes long and wide sample tables; read them separately")
        is_long = long_here
        tcol = _pick(raw.columns, _TIME_NAMES, path, "timestamp")
        hcol = _pick(raw.columns, _HOST_NAMES, path, "host")
        lines_read += len(raw)
        reason = pd.Series(pd.NA, index=raw.index, dtype="object")
        ts = _times(raw[tcol].str.strip())
        reason[ts.isna()] = f"field {tcol!r} is not a time"
        host = raw[hcol].str.strip()
        reason[reason.isna() & (host.isna() | host.eq(""))] = f"field {hcol!r} is empty"
        value_cols = ["value"] if long_here else [c for c in raw.columns if c not in (tcol, hcol)]
        for c in value_cols:
            s = raw[c].fillna("").str.strip()
            _, bad = parse_numbers(s.where(s != "", "nan"))
            reason[reason.isna() & bad] = f"field {c!r} is not a number"
        if long_here:
            reason[reason.isna() & (raw["metric"].isna() | raw["metric"].str.strip().eq(""))] = "field 'metric' is empty"
        for i in np.flatnonzero(reason.notna().to_numpy()):
            q.add(path, i + first_line, ",".join(map(str, raw.iloc[i].tolist())), str(reason.iat[i]))
        ok = reason.isna().to_numpy()
        part = pd.DataFrame({"timestamp": ts[ok].to_numpy(), "component": host[ok].to_numpy(object)})
        part["timestamp"] = pd.to_datetime(part["timestamp"], utc=True)
        if long_here:
            part["metric"] = raw.loc[ok, "metric"].str.strip().to_numpy(object)
            part["value"] = pd.to_numeric(raw.loc[ok, "value"], errors="coerce").to_numpy("float64")
        else:
            for c in value_cols:
                s = raw.loc[ok, c].fillna("").str.strip()
                part[c] = parse_numbers(s.where(s != "", "nan"))[0]
        frames.append(part)
    table = pd.concat(frames, ignore_index=True)
    if is_long:
        before = len(table)
        table = table.drop_duplicates(["timestamp", "component", "metric"], keep="last")
        dupes = before - len(table)
        records = len(table)
        table = table.pivot(index=["timestamp", "component"], columns="metric", values="value").reset_index()
        table.columns.name = None
    else:
        before = len(table)
        table = table.drop_duplicates(["timestamp", "component"], keep="last")
        dupes = before - len(table)
        records = len(table)
    names = [c for c in table.columns if c not in ("timestamp", "component")]
    infos = [describe_metric(n, overrides=metrics) for n in names]
    table = table.rename(columns={i.source: i.column for i in infos})
    table = counters_to_rates(table, [i.column for i in infos if i.kind == "counter"], bits=counter_bits, max_gap_s=max_gap_s)
    for i in infos:
        table[i.column] = table[i.column].astype("float64")
    table, infos = derive_metrics(table, infos)
    table = table.sort_values(["component", "timestamp"], kind="stable").reset_index(drop=True)
    result = SamplesResult(table, infos, q.to_frame(), lines_read, records, dupes, metadata={"source": "long" if is_long else "wide"})
    result.check_reconciles()
    if output_dir is not None:
        write_samples(result, output_dir)
    return result


def read_topology(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a topology CSV ``host,router,group,cabinet`` into ``component, router, group, cabinet``.

    ``host`` may also be called ``component``, ``node`` or ``hostname``; ``router``, ``group`` and
    ``cabinet`` are each optional but at least one must be present.

    Examples
    --------
    >>> read_topology("topology.csv").columns.tolist()  # doctest: +SKIP
    ['component', 'router', 'group', 'cabinet']
    """
    path = Path(path)
    raw, _ = _load(path)
    hcol = _pick(raw.columns, _HOST_NAMES, path, "host")
    keep = [c for c in ("router", "group", "cabinet") if c in raw.columns]
    if not keep:
        raise InputFileError(path, "no router, group or cabinet column", line=1)
    topo = raw[[hcol, *keep]].rename(columns={hcol: "component"}).astype("string")
    topo["component"] = topo["component"].str.strip()
    dupes = topo["component"].duplicated()
    if dupes.any():
        line = int(np.flatnonzero(dupes.to_numpy())[0]) + 2
        raise InputFileError(path, f"host {topo['component'][dupes].iloc[0]!r} appears twice", line=line, field=hcol)
    return topo.reset_index(drop=True)
