"""Shared machinery of the samples readers: parsing columns, counters → rates, writing the folder.

A samples folder holds one Parquet file per UTC day (``samples-YYYY-MM-DD.parquet``, rows sorted
by component then timestamp) and ``_metrics.json`` describing every metric column; each Parquet
file carries the same description in its schema metadata (key ``hpcpredict``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import atomic_dir, write_json, write_parquet
from .metrics import MetricInfo
from .result import new_run_id, quarantine_path

__all__ = ["SamplesResult", "counters_to_rates", "default_max_gap_s", "derive_metrics", "flush_days", "parse_numbers", "write_day", "write_samples", "merge_samplers"]

_UINT = r"^\d+$"
_UINT64_MAX = str(2**64 - 1)
_FLOAT = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(nan|inf)$"


@dataclass
class SamplesResult:
    """What a samples reader returns.

    The counts reconcile: ``lines_read == records + quarantined + duplicates_merged``, where a
    record is one kept input line (LDMS, wide) or value (long). ``samples`` is a table with
    ``timestamp`` (UTC), ``component`` (host) and one column per metric (counters as rates).
    """

    samples: pd.DataFrame
    metrics: list[MetricInfo]
    quarantine: pd.DataFrame
    lines_read: int
    records: int
    duplicates_merged: int = 0
    metadata: dict = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Lines read, records kept, lines quarantined, duplicates merged, rows and hosts out."""
        return {
            "lines_read": self.lines_read,
            "records": self.records,
            "quarantined": len(self.quarantine),
            "duplicates_merged": self.duplicates_merged,
            "samples": len(self.samples),
            "hosts": int(self.samples["component"].nunique()) if len(self.samples) else 0,
            "metrics": len(self.metrics),
        }

    def check_reconciles(self) -> None:
        """Raise AssertionError if an input line is unaccounted for."""
        reconciled(self.counts)


def reconciled(counts: dict[str, int], *, source: str = "samples") -> dict[str, int]:
    """Return ``counts`` once every input record is accounted for (kept, quarantined or merged);
    raise AssertionError naming ``source`` otherwise."""
    if counts["records"] + counts["quarantined"] + counts["duplicates_merged"] != counts["lines_read"]:
        raise AssertionError(f"{source} ingest lost records: {counts}")
    return counts


def stream_counts(stream, *, metrics: int, source: str = "samples", **extra: int) -> dict[str, int]:
    """The reconciled counts of a streamed samples ingest (LDMS or PCP): ``stream`` has
    ``lines_read``, ``records``, ``quarantine``, ``duplicates``, ``rows_out`` and ``hosts``."""
    return reconciled({
        "lines_read": stream.lines_read,
        "records": stream.records,
        "quarantined": len(stream.quarantine),
        "duplicates_merged": stream.duplicates,
        "samples": stream.rows_out,
        "hosts": len(stream.hosts),
        "metrics": metrics,
        **extra,
    }, source=source)


def parse_numbers(strings: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of decimal strings; return ``(values, bad)``.

    All-integer columns become ``uint64`` (LDMS counters are unsigned 64-bit and exceed what a
    float64 holds exactly); anything else ``float64``. ``bad`` marks entries that are not numbers.
    """
    s = strings.astype("string").str.strip()
    is_uint = s.str.fullmatch(_UINT).fillna(False).to_numpy(bool)
    # 2**64 and beyond is no LDMS counter: the line is bad, not the whole file.
    digits = s.str.lstrip("0").str.len().fillna(0).to_numpy()
    too_big = is_uint & ((digits > 20) | ((digits == 20) & (s.str.lstrip("0") > _UINT64_MAX).fillna(False).to_numpy(bool)))
    if is_uint.all() and not too_big.any():
        return s.to_numpy(dtype=object).astype(np.uint64), np.zeros(len(s), bool)
    is_float = (is_uint & ~too_big) | (~is_uint & s.str.fullmatch(_FLOAT, case=False).fillna(False).to_numpy(bool))
    values = pd.to_numeric(s.where(is_float), errors="coerce").to_numpy(dtype="float64")
    return values, ~is_float


def counters_to_rates(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    bits: int = 64,
    max_gap_s: float | None = None,
) -> pd.DataFrame:
    """Turn cumulative counters into per-second rates, per component, in place of the counters.

    A drop in value is a wrap-around when the previous value lay in the top half of the counter's
    range and the difference modulo ``2**bits`` is below half of it; otherwise it is a reset
    (reboot, driver reload) and the counter is taken to have restarted from zero, so the rate is
    ``value / dt`` (Prometheus' convention). The first sample of a component, a non-increasing
    time and a gap longer than ``max_gap_s`` (default: 3 x the median sampling interval) give NaN:
    a rate averaged over a long gap would be attributed to one sample.

    Parameters
    ----------
    frame : DataFrame
        ``timestamp``, ``component`` and the counter columns (uint64 or float64).
    columns : sequence of str
        The counter columns.
    bits : int
        Counter width (64 for LDMS ``u64`` metrics).
    max_gap_s : float, optional
        Longest interval a rate may span.

    Returns
    -------
    DataFrame
        ``frame`` sorted by component and timestamp, counters replaced by float64 rates.

    Examples
    --------
    >>> t = pd.to_datetime([0, 60, 120, 180], unit="s", utc=True)
    >>> f = pd.DataFrame({"timestamp": t, "component": "n1", "c": np.array([2**64 - 60, 0, 60, 30], np.uint64)})
    >>> counters_to_rates(f, ["c"])["c"].tolist()
    [nan, 1.0, 1.0, 0.5]
    """
    frame = frame.sort_values(["component", "timestamp"], kind="stable").reset_index(drop=True)
    if not len(frame) or not columns:
        return frame
    t = frame["timestamp"].to_numpy("datetime64[ns]").astype("int64")
    comp = frame["component"].to_numpy(object)
    dt = np.empty(len(frame))
    dt[0] = np.nan
    dt[1:] = np.diff(t) / 1e9
    first = np.ones(len(frame), bool)
    first[1:] = comp[1:] != comp[:-1]
    if max_gap_s is None:
        max_gap_s = _default_max_gap_s(dt, first)
    invalid = first | ~(dt > 0) | (dt > max_gap_s)
    mask = (1 << bits) - 1
    for col in columns:
        v = frame[col].to_numpy()
        delta = np.empty(len(v))
        if v.dtype == np.uint64:
            prev, cur = v[:-1], v[1:]
            wrapped = (cur - prev) & np.uint64(mask)  # modular difference; uint64 arithmetic wraps
            drop = cur < prev
            is_wrap = drop & (prev >= np.uint64(1 << (bits - 1))) & (wrapped < np.uint64(1 << (bits - 1)))
            d = np.where(drop & ~is_wrap, cur, wrapped).astype("float64")
        else:
            prev, cur = v[:-1].astype("float64"), v[1:].astype("float64")
            d = np.where(cur < prev, cur, cur - prev)
        delta[0] = np.nan
        delta[1:] = d
        with np.errstate(divide="ignore", invalid="ignore"):  # dt <= 0 rows are set to NaN below
            rate = delta / dt
        rate[invalid] = np.nan
        frame[col] = rate
    return frame


def _default_max_gap_s(dt: np.ndarray, first: np.ndarray) -> float:
    steps = dt[~first & (dt > 0)]
    return 3 * float(np.median(steps)) if len(steps) else np.inf


def default_max_gap_s(frame: pd.DataFrame) -> float:
    """3 x the median sampling interval of ``frame`` (per component): what a rate may span at most.

    Examples
    --------
    >>> t = pd.to_datetime([0, 60, 120, 0, 60], unit="s", utc=True)
    >>> default_max_gap_s(pd.DataFrame({"timestamp": t, "component": ["a", "a", "a", "b", "b"]}))
    180.0
    """
    frame = frame.sort_values(["component", "timestamp"], kind="stable")
    t = frame["timestamp"].to_numpy("datetime64[ns]").astype("int64")
    comp = frame["component"].to_numpy(object)
    if not len(t):
        return np.inf
    dt = np.empty(len(t))
    dt[0] = np.nan
    dt[1:] = np.diff(t) / 1e9
    first = np.ones(len(t), bool)
    first[1:] = comp[1:] != comp[:-1]
    return _default_max_gap_s(dt, first)


def derive_metrics(frame: pd.DataFrame, infos: list[MetricInfo]) -> tuple[pd.DataFrame, list[MetricInfo]]:
    """Add ``cpu_busy_frac`` (procstat jiffy rates) and ``mem_used_bytes`` (meminfo) where possible."""
    by_source = {i.source: i for i in infos}
    present = {r for r in (i.role for i in infos) if r}
    added = []
    if "cpu_busy" not in present and {"user", "idle"} <= set(by_source) and ("sys" in by_source or "system" in by_source):
        busy_names = [n for n in ("user", "nice", "sys", "system", "irq", "softirq", "steal") if n in by_source]
        idle_names = [n for n in ("idle", "iowait") if n in by_source]
        busy = sum(frame[by_source[n].column] for n in busy_names)
        total = busy + sum(frame[by_source[n].column] for n in idle_names)
        frame["cpu_busy_frac"] = (busy / total.where(total > 0)).clip(0, 1)
        sampler = by_source["user"].sampler
        added.append(MetricInfo("cpu_busy_frac", "+".join(busy_names) + " / all", sampler, "gauge", "fraction", "cpu_busy"))
    if "mem_used" not in present and "MemTotal" in by_source and ({"MemAvailable", "MemFree"} & set(by_source)):
        free = "MemAvailable" if "MemAvailable" in by_source else "MemFree"
        total = frame[by_source["MemTotal"].column].astype("float64")
        frame["mem_used_bytes"] = (total - frame[by_source[free].column].astype("float64")) * 1024.0
        added.append(MetricInfo("mem_used_bytes", f"(MemTotal - {free}) * 1024", by_source["MemTotal"].sampler, "gauge", "bytes", "mem_used"))
    return frame, infos + added


def merge_samplers(parts: list[tuple[pd.DataFrame, list[MetricInfo]]]) -> tuple[pd.DataFrame, list[MetricInfo]]:
    """Outer-join the samplers' frames on (timestamp, component); clashing columns get the sampler prefix."""
    seen: dict[str, int] = {}
    for _, infos in parts:
        for i in infos:
            seen[i.column] = seen.get(i.column, 0) + 1
    merged: pd.DataFrame | None = None
    out_infos: list[MetricInfo] = []
    for frame, infos in parts:
        renames = {}
        for i in infos:
            if seen[i.column] > 1 and i.sampler:
                new = f"{i.sampler}_{i.column}"
                renames[i.column] = new
                i = MetricInfo(new, i.source, i.sampler, i.kind, i.unit, i.role)
            out_infos.append(i)
        frame = frame[["timestamp", "component"] + [i.column for i in infos]].rename(columns=renames)
        merged = frame if merged is None else merged.merge(frame, on=["timestamp", "component"], how="outer")
    if merged is None:
        merged = pd.DataFrame({"timestamp": pd.Series(dtype="datetime64[ns, UTC]"), "component": pd.Series(dtype="string")})
    merged = merged.sort_values(["component", "timestamp"], kind="stable").reset_index(drop=True)
    return merged, out_infos


def write_samples(result: SamplesResult, output_dir: str | os.PathLike[str]) -> dict[str, int]:
    """Write a samples folder atomically (one Parquet file per UTC day + ``_metrics.json``).

    The quarantine table goes beside the folder (``samples.quarantine.parquet``). Returns the counts.
    """
    result.check_reconciles()
    run = new_run_id()
    meta = {"table": "samples", "metrics": [m.to_dict() for m in result.metrics], "counts": result.counts, **result.metadata, "quarantine_run": run}
    frame = result.samples.copy()
    frame["component"] = frame["component"].astype("string")
    output_dir = Path(output_dir)
    with atomic_dir(output_dir, kind="samples") as tmp:
        days = frame["timestamp"].dt.strftime("%Y-%m-%d") if len(frame) else pd.Series([], dtype=str)
        for day, part in frame.groupby(days, sort=True):
            write_day(part, tmp, day, meta)
        write_json(meta, tmp / "_metrics.json")
        # The quarantine lands before the folder (the commit point), which names its run.
        write_parquet(result.quarantine, quarantine_path(output_dir), metadata={"table": "quarantine", "run": run})
    return result.counts


def flush_days(days: dict[str, list[pd.DataFrame]], folder: Path, meta: dict, *, before: str | None) -> None:
    """Write, and drop from ``days``, each buffered UTC day (``YYYY-MM-DD`` → parts) earlier than
    ``before`` (every day when None), rows sorted by component and timestamp."""
    for day in sorted(days):
        if before is not None and day >= before:
            break
        part = pd.concat(days.pop(day), ignore_index=True)
        part = part.sort_values(["component", "timestamp"], kind="stable")
        part["component"] = part["component"].astype("string")
        write_day(part, folder, day, meta)


def write_day(part: pd.DataFrame, folder: Path, day: str, meta: dict) -> None:
    """Write one UTC day of samples (already sorted) as ``samples-<day>.parquet`` in ``folder``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(part.reset_index(drop=True), preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"hpcpredict": _json(meta)})
    pq.write_table(table, folder / f"samples-{day}.parquet", row_group_size=1 << 20)


def _json(obj: dict) -> bytes:
    import json

    return json.dumps(obj).encode()
