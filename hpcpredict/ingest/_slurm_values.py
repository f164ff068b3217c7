"""Vectorised parsers for the value syntaxes of Slurm's ``sacct``: times, durations, memory, TRES.

Each parser takes a pandas Series of strings and returns the parsed Series plus a boolean mask of
the values it could not read (empty and "not known" words are not errors: they parse to missing),
so the caller can quarantine the rows with a reason naming the field.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = [
    "TEXT",
    "as_text",
    "epoch_times",
    "extract",
    "in_ns_range",
    "numbers",
    "parse_durations",
    "parse_memory",
    "parse_times",
    "parse_tres",
    "snake_case",
]

#: Words sacct prints for "no value".
MISSING_WORDS = frozenset({"", "unknown", "none", "n/a", "invalid"})
_UNITS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_DURATION = re.compile(
    r"^(?:(?P<d>\d+)-)?(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)$"
)
_MEMORY = r"^(?P<v>\d+(?:\.\d+)?)(?P<u>[KMGTPE]?)(?P<per>[nc]?)$"


#: Strings backed by Arrow: regular expressions run in Arrow's C++ kernels, not per value in Python.
TEXT = pd.StringDtype("pyarrow")


def as_text(values: pd.Series) -> pd.Series:
    """``values`` as Arrow-backed strings (a no-op when they already are)."""
    return values if values.dtype == TEXT else values.astype(TEXT)


def extract(values: pd.Series, pattern: str) -> pd.DataFrame:
    """Named groups of ``pattern`` (RE2 syntax) as string columns; null where it does not match
    and where a group matched nothing (Arrow gives "" for an optional group left out).

    pandas falls back to a per-value Python loop for ``str.extract`` on Arrow strings; this runs
    in Arrow's regex kernel.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(as_text(values))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    result = pc.extract_regex(arr, pattern)
    mapper = {pa.string(): TEXT, pa.large_string(): TEXT}.get
    columns = {}
    for i, f in enumerate(result.type):
        field = result.field(i)
        field = pc.if_else(pc.equal(field, ""), pa.scalar(None, field.type), field)
        columns[f.name] = field.to_pandas(types_mapper=mapper)
    return pd.DataFrame(columns).set_axis(values.index)


_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


def numbers(values: pd.Series) -> pd.Series:
    """Strings to float64 (NaN where empty or not a number), in Arrow kernels.

    Examples
    --------
    >>> numbers(pd.Series(["1", " 2.5", "", "x", "1e3"])).tolist()
    [1.0, 2.5, nan, nan, 1000.0]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(as_text(values))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
    try:  # clean input casts directly; anything else goes through the pattern first
        out = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        valid = pc.match_substring_regex(arr, _NUMBER)
        out = pc.cast(pc.if_else(valid, pc.utf8_trim_whitespace(arr), pa.scalar(None, arr.type)), pa.float64())
    out = out.to_numpy(zero_copy_only=False).astype("float64")
    out[~np.isfinite(out)] = np.nan  # "inf" and "nan" are words here, not numbers
    return pd.Series(out, index=values.index, dtype="float64")


#: Epoch seconds that nanosecond timestamps can hold (1678 .. 2262), with a day of margin.
_NS_MIN_S, _NS_MAX_S = -9.2e9, 9.2e9


def epoch_times(seconds) -> tuple[pd.Series, np.ndarray]:
    """Epoch seconds (floats, NaN = missing) to UTC times, and the mask of values no timestamp
    holds (past 2262, before 1678, infinite): those are missing in the times, for the caller to
    quarantine.

    Examples
    --------
    >>> t, bad = epoch_times([0.0, 99999999999.0, float("inf"), float("nan")])
    >>> [str(x) for x in t], bad.tolist()
    (['1970-01-01 00:00:00+00:00', 'NaT', 'NaT', 'NaT'], [False, True, True, False])
    """
    values = np.asarray(seconds, dtype="float64")
    bad = ~np.isnan(values) & ~((values > _NS_MIN_S) & (values < _NS_MAX_S))
    safe = np.where(bad, np.nan, values)
    index = seconds.index if isinstance(seconds, pd.Series) else None
    times = pd.to_datetime(pd.Series(safe, index=index), unit="s", utc=True).astype("datetime64[ns, UTC]")
    return times, bad


def in_ns_range(parsed: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parsed times (any unit) as nanosecond times, and the mask of those out of its range."""
    lo, hi = pd.Timestamp(int(_NS_MIN_S), unit="s"), pd.Timestamp(int(_NS_MAX_S), unit="s")
    naive = parsed.dt.tz_convert(None) if isinstance(parsed.dtype, pd.DatetimeTZDtype) else parsed
    bad = ((naive <= lo) | (naive >= hi)).fillna(False).to_numpy(bool)
    kept = parsed.where(~bad)
    unit_ns = "datetime64[ns, UTC]" if isinstance(parsed.dtype, pd.DatetimeTZDtype) else "datetime64[ns]"
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        unit_ns = pd.DatetimeTZDtype("ns", parsed.dt.tz)
    return kept.astype(unit_ns), bad


def _missing(values: pd.Series) -> pd.Series:
    return values.isna() | values.str.strip().str.lower().isin(MISSING_WORDS)


def parse_times(values: pd.Series, *, tz: str = "UTC") -> tuple[pd.Series, pd.Series]:
    """Parse sacct times: ISO ``2023-01-05T10:00:00``, epoch seconds, ``Unknown``/``None``.

    ISO values are wall-clock times in ``tz`` (sacct prints local time); epoch seconds are
    absolute. Returns UTC times and the mask of unreadable values.

    Examples
    --------
    >>> t, bad = parse_times(pd.Series(["2023-01-05T10:00:00", "1672912800", "Unknown", "soon"]))
    >>> [str(x) for x in t], list(bad)
    (['2023-01-05 10:00:00+00:00', '2023-01-05 10:00:00+00:00', 'NaT', 'NaT'], [False, False, False, True])
    """
    values = as_text(values).str.strip()
    missing = _missing(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    epoch = values.str.fullmatch(r"\d{1,11}").fillna(False) & ~missing
    bad = pd.Series(False, index=values.index)
    if epoch.any():
        out[epoch], beyond = epoch_times(values[epoch].astype("float64"))
        bad[epoch] = beyond
    iso = ~missing & ~epoch
    # Times with their own offset are absolute; the others are wall-clock times in ``tz``. Parsed
    # apart: pandas refuses a column that mixes the two.
    offset = values.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).fillna(False)
    for part, aware in ((iso & ~offset, False), (iso & offset, True)):
        if not part.any():
            continue
        try:
            parsed = pd.to_datetime(values[part], format="ISO8601", errors="coerce", utc=aware)
        except ValueError:  # e.g. "2023-01-01T00:00:00+99:00"
            parsed = pd.Series([_one_time(v) for v in values[part]], index=values[part].index, dtype="datetime64[ns, UTC]")
        parsed, beyond = in_ns_range(parsed)  # a year such as 9999 parses, but no timestamp holds it
        if parsed.dt.tz is None:
            parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        out[part] = parsed.dt.tz_convert("UTC")
        bad[part] = parsed.isna().to_numpy() | beyond
    return out, bad


def _one_time(text: str):
    try:
        value = pd.Timestamp(text)
        return value.tz_convert("UTC") if value.tzinfo is not None else pd.NaT
    except (ValueError, OverflowError):
        return pd.NaT


def parse_durations(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse sacct durations into seconds: ``D-HH:MM:SS``, ``HH:MM:SS``, ``MM:SS``, ``MM:SS.mmm``.

    ``UNLIMITED``, ``Partition_Limit``, ``Unknown``, ``INVALID`` and empty values are missing
    (not errors); plain integers are taken as minutes, as Slurm does for ``--time``.

    Examples
    --------
    >>> s, bad = parse_durations(pd.Series(["1-02:03:04", "02:03:04", "03:04", "00:01.500", "UNLIMITED", "x"]))
    >>> list(s), list(bad)
    ([93784.0, 7384.0, 184.0, 1.5, nan, nan], [False, False, False, False, False, True])
    """
    values = as_text(values).str.strip()
    missing = _missing(values) | values.str.lower().isin(["unlimited", "partition_limit"])
    parts = extract(values, _DURATION.pattern)
    seconds = (
        numbers(parts["d"]).fillna(0) * 86400
        + numbers(parts["h"]).fillna(0) * 3600
        + numbers(parts["m"]) * 60
        + numbers(parts["s"])
    )
    plain = numbers(values)  # plain integers are minutes
    seconds = seconds.where(plain.isna(), plain * 60)
    seconds = seconds.where(~missing).astype("float64")
    bad = seconds.isna() & ~missing
    return seconds, bad.astype(bool)


def parse_memory(
    values: pd.Series,
    *,
    default_unit: str = "",
    nodes: pd.Series | None = None,
    cpus: pd.Series | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Parse memory sizes into bytes: ``4000M``, ``4G``, ``2T``, ``1234K``, per-node ``Mn``, per-CPU ``Mc``.

    Units are powers of 1024 as in Slurm. A value without a unit is in ``default_unit`` (Slurm
    prints requests in megabytes, usage figures in bytes). Per-node and per-CPU amounts are
    multiplied by ``nodes`` and ``cpus`` into the job's total; when that count is unknown the
    total is missing.

    Examples
    --------
    >>> b, bad = parse_memory(pd.Series(["4000M", "4G", "2Mc", "1Gn", "16?"]),
    ...                       nodes=pd.Series([1, 1, 1, 2, 1]), cpus=pd.Series([1, 1, 4, 8, 1]))
    >>> list(b), list(bad)
    ([4194304000.0, 4294967296.0, 8388608.0, 2147483648.0, nan], [False, False, False, False, True])
    """
    values = as_text(values).str.strip()
    missing = _missing(values)
    parts = extract(values, _MEMORY)
    unit = parts["u"].fillna("").where(parts["u"].fillna("") != "", default_unit)
    power = unit.map(_UNITS).astype("float64")
    amount = numbers(parts["v"]) * np.power(1024.0, power)
    per = parts["per"].fillna("")
    if nodes is not None:
        amount = amount.where(per != "n", amount * pd.to_numeric(nodes, errors="coerce").astype("float64"))
    if cpus is not None:
        amount = amount.where(per != "c", amount * pd.to_numeric(cpus, errors="coerce").astype("float64"))
    amount = amount.where(~missing).astype("float64")
    bad = parts["v"].isna() & ~missing
    return amount, bad.astype(bool)


#: TRES keys turned into columns: key → (column suffix, is memory).
TRES_KEYS = {"cpu": ("tres_cpus", False), "mem": ("tres_mem_bytes", True), "node": ("tres_nodes", False),
             "billing": ("billing", False), "gres/gpu": ("gpus", False), "energy": ("energy_j", False)}


def parse_tres(values: pd.Series, prefix: str) -> tuple[pd.DataFrame, pd.Series]:
    """Split TRES strings (``billing=4,cpu=4,mem=16G,node=1,gres/gpu=2``) into columns.

    Columns are ``{prefix}_tres_cpus``, ``{prefix}_tres_mem_bytes``, ``{prefix}_tres_nodes``, ``{prefix}_billing``,
    ``{prefix}_gpus`` (typed GPUs such as ``gres/gpu:a100=2`` are summed into it) and
    ``{prefix}_energy_j``.

    Examples
    --------
    >>> cols, bad = parse_tres(pd.Series(["billing=4,cpu=4,mem=16G,node=1,gres/gpu=2", ""]), "req")
    >>> cols.loc[0, ["req_tres_cpus", "req_tres_mem_bytes", "req_gpus"]].tolist(), list(bad)
    ([4.0, 17179869184.0, 2.0], [False, False])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(as_text(values).fillna(""))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    # One pass over all strings: split into key=value items, then pick the wanted keys.
    items = pc.split_pattern(arr, ",")
    rows = pc.list_parent_indices(items).to_numpy()
    pairs = pc.split_pattern(pc.utf8_trim_whitespace(pc.list_flatten(items)), "=", max_splits=1)
    keys = pc.list_element(pairs, 0)
    has_value = pc.greater_equal(pc.list_value_length(pairs), 2).to_numpy(zero_copy_only=False)
    found = np.full(len(keys), None, dtype=object)
    found[has_value] = pc.list_flatten(pc.list_slice(pairs, 1, 2)).to_numpy(zero_copy_only=False)
    key_text = keys.to_numpy(zero_copy_only=False).astype(object)
    value_series = pd.Series(found, dtype=TEXT)
    n = len(values)
    out = pd.DataFrame(index=values.index)
    bad = np.zeros(n, dtype=bool)
    for key, (suffix, is_memory) in TRES_KEYS.items():
        where = key_text == key
        raw = value_series[where]
        if is_memory:
            parsed, wrong = parse_memory(raw, default_unit="M")
        else:
            parsed = numbers(raw)
            wrong = parsed.isna()
        column = np.full(n, np.nan)
        column[rows[where]] = parsed.to_numpy(dtype="float64")
        bad[rows[where][wrong.to_numpy(dtype=bool)]] = True
        if key == "gres/gpu":
            typed = np.char.startswith(key_text.astype(str), "gres/gpu:") if len(key_text) else np.zeros(0, bool)
            if typed.any():
                counts = numbers(value_series[typed]).fillna(0).to_numpy()
                sums = np.bincount(rows[typed], weights=counts, minlength=n)
                has = np.bincount(rows[typed], minlength=n) > 0
                column = np.where(np.isnan(column) & has, sums, column)
        out[f"{prefix}_{suffix}"] = column
    return out, pd.Series(bad, index=values.index)


def snake_case(name: str) -> str:
    """``MaxDiskRead`` → ``max_disk_read``; ``AllocTRES`` → ``alloc_tres``; ``TRESUsageInTot`` → ``tres_usage_in_tot``."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", name.strip())
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.strip("_").lower() or "column"
