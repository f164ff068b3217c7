"""Bring-your-own per-job tables: data that already comes one row per job, without hpcpredict metadata.

Every column except the target, the time column and those matched by an ``exclude`` pattern becomes
a feature: numbers stay numeric, text, booleans and categories become native categoricals. Other
date/time columns are left out (an end time restates the duration), and so are text columns with a
distinct value on most rows (identifiers). Each feature's family is the prefix of its name before
the first ``_`` when at least two columns share it (``fs_``, ``darshan_``), else ``table``.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pandas as pd

from ..errors import InputFileError, ParameterError
from ..metadata import with_metadata

__all__ = ["TABLE_HORIZON", "job_table_features", "read_job_table"]

#: The horizon recorded for a bring-your-own table: its columns are taken as given.
TABLE_HORIZON = "table"


def read_job_table(
    path: str | os.PathLike[str] | pd.DataFrame,
    *,
    target: str,
    time: str,
    app: str | None = None,
    exclude: tuple[str, ...] | list[str] = (),
) -> pd.DataFrame:
    """Read a CSV or Parquet table of one row per job and mark its feature columns.

    Parameters
    ----------
    path : path or DataFrame
        ``.csv``, ``.csv.gz`` or Parquet. A CSV whose first header name is empty has a pandas
        index column, which is dropped.
    target : str
        The column to predict.
    time : str
        When each job happened (parsed as a date/time, or as Unix seconds when numeric); splits and
        early stopping follow it.
    app : str, optional
        The application column, for leave-one-application-out and per-application baselines. It
        stays a feature unless excluded.
    exclude : list of str
        Regular expressions; a column whose name matches any (``re.search``) is not a feature.

    Returns
    -------
    DataFrame
        The table with ``time`` as tz-aware UTC; its :func:`~hpcpredict.metadata.table_metadata`
        holds the feature specs (name, family, horizon, kind), the horizon ``"table"`` and
        ``table_source`` (the arguments), as a written feature table's Parquet metadata would.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 2, 3], "bw": [1.0, 2.0, 3.0], "nprocs": [4, 8, 4], "app": ["a", "b", "a"]})
    >>> from hpcpredict.metadata import feature_specs
    >>> [f["name"] for f in feature_specs(read_job_table(df, target="bw", time="t"))]
    ['nprocs', 'app']
    """
    table = path.copy() if isinstance(path, pd.DataFrame) else _read(path)
    where = "the table" if isinstance(path, pd.DataFrame) else os.fspath(path)
    for role, col in (("target", target), ("time", time), ("app", app)):
        if col is not None and col not in table.columns:
            raise InputFileError(where, f"no column {col!r} (the --{role} column); columns: {', '.join(map(str, table.columns[:12]))}...")
    try:
        patterns = [re.compile(p) for p in exclude]
    except re.error as exc:
        raise ParameterError("exclude", "valid regular expressions", f"{exc.pattern} ({exc})") from None
    table[time] = _as_time(table[time], where, time)
    if "end_time" in table.columns and time != "end_time":
        # train() keeps only jobs that had ended by the test cut: end_time must be a time, and as
        # one it is no feature (a numeric end time would restate the runtime)
        table["end_time"] = _as_time(table["end_time"], where, "end_time")
    table[target] = pd.to_numeric(table[target], errors="coerce")
    specs = job_table_features(table, target=target, time=time, patterns=patterns)
    for f in specs:
        if f["kind"] == "categorical":
            table[f["name"]] = table[f["name"]].astype("string").astype("category")
    source = {"target": target, "time": time, "app": app, "exclude": list(exclude)}
    return with_metadata(table, table="features", horizon=TABLE_HORIZON, features=specs, table_source=source)


def job_table_features(table: pd.DataFrame, *, target: str, time: str, patterns: list[re.Pattern]) -> list[dict]:
    """Feature specs of a per-job table: every usable column but the target and time."""
    names = []
    for col in table.columns:
        name = str(col)
        if col in (target, time) or any(p.search(name) for p in patterns):
            continue
        series = table[col]
        if pd.api.types.is_datetime64_any_dtype(series) or series.notna().sum() == 0:
            continue
        kind = "numeric" if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) else "categorical"
        if kind == "categorical" and series.nunique() > max(50, 0.5 * len(series)):
            continue  # an identifier: a category per row teaches nothing that carries to new jobs
        names.append((name, kind))
    prefixes = Counter(_prefix(n) for n, _ in names)
    return [
        {"name": n, "family": _prefix(n) if prefixes[_prefix(n)] >= 2 and _prefix(n) else "table", "horizon": TABLE_HORIZON, "kind": k, "description": f"column {n!r} of the input table"}
        for n, k in names
    ]


def _prefix(name: str) -> str:
    return name.lstrip("_").split("_", 1)[0] if "_" in name.lstrip("_") else ""


def _as_time(col: pd.Series, where: str, name: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col):
        out = col
    elif pd.api.types.is_numeric_dtype(col):
        out = pd.to_datetime(col, unit="s", errors="coerce")
    else:
        out = pd.to_datetime(col, errors="coerce", format="mixed")
    if out.isna().all():
        raise InputFileError(where, "cannot read any value as a date/time", field=name)
    if out.dt.tz is None:
        out = out.dt.tz_localize("UTC")
    return out.dt.tz_convert("UTC")


def _read(path: str | os.PathLike[str]) -> pd.DataFrame:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileError(path, "no such file")
    try:
        if path.endswith((".csv", ".csv.gz")):
            table = pd.read_csv(path, low_memory=False)
            first = str(table.columns[0])
            if first == "" or first.startswith("Unnamed: 0"):
                table = table.drop(columns=table.columns[0])  # a saved pandas index, not data
            return table
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputFileError(path, f"cannot read as a table ({exc})") from None
