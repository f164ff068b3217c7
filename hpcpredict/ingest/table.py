"""Per-job tables (CSV or Parquet) whose columns map onto the canonical ones.

A mapping says, for each canonical column, which source column it comes from and how to convert
it (unit, time format, missing-value sentinels, a value map, a list syntax). It is a TOML file
(see ``docs/ingest.md``) or one of the presets shipped in ``hpcpredict/ingest/presets/``
(``nrel-eagle``, ``mit-supercloud``). Source columns the mapping does not name are kept, under
their snake_case names. One row is one job: rows are never merged, since per-job exports often
repeat ids (array tasks under their array's id).
"""

from __future__ import annotations

import ast
import os
import tomllib
from importlib import resources
from pathlib import Path

import hostlist
import numpy as np
import pandas as pd

from ..errors import InputFileError, ParameterError
from ..schema import JOB_COLUMNS, conform_jobs, implausible, normalise_state
from ._text import READ_ERRORS, check_timezone
from ._slurm_values import parse_durations, parse_memory, parse_times, parse_tres, snake_case
from .mapping import UNITS, validate_mapping
from .result import IngestResult, Quarantine

__all__ = ["PRESETS", "load_mapping", "read_table"]

#: Slurm's numeric TRES ids, as stored in its database and in the SuperCloud logs.
_TRES_IDS = {"1": "cpu", "2": "mem", "3": "energy", "4": "node", "5": "billing", "1001": "gres/gpu"}


def _preset_names() -> list[str]:
    folder = resources.files("hpcpredict.ingest") / "presets"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


PRESETS = tuple(_preset_names())


def load_mapping(*, preset: str | None = None, mapping: str | os.PathLike[str] | dict | None = None) -> dict:
    """Load a preset by name, a TOML mapping file, or take a mapping dict as it is.

    Examples
    --------
    >>> load_mapping(preset="nrel-eagle")["columns"]["time_limit_s"]
    {'from': 'wallclock_req', 'unit': 's'}
    """
    if (preset is None) == (mapping is None):
        raise ParameterError("preset/mapping", "exactly one of a preset name or a mapping file", (preset, mapping))
    if isinstance(mapping, dict):
        return validate_mapping(mapping, "the mapping")
    if preset is not None:
        if preset not in PRESETS:
            raise ParameterError("preset", f"one of {list(PRESETS)}", preset)
        text = (resources.files("hpcpredict.ingest") / "presets" / f"{preset}.toml").read_text()
        source = f"preset {preset}"
    else:
        path = Path(mapping)
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(path, f"cannot read mapping file ({exc})") from None
        source = str(path)
    try:
        loaded = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(source, f"not valid TOML ({exc})") from None
    if not isinstance(loaded.get("columns"), dict):
        raise InputFileError(source, "a mapping needs a [columns] table (canonical column = source column)")
    return validate_mapping(loaded, source)


def read_table(
    paths: str | os.PathLike[str] | list,
    *,
    preset: str | None = None,
    mapping: str | os.PathLike[str] | dict | None = None,
    strict: bool = False,
) -> IngestResult:
    """Read per-job CSV or Parquet tables through a column mapping.

    Parameters
    ----------
    paths : path or sequence of paths
        CSV (plain or gzip, header row) or Parquet files with one row per job.
    preset : str, optional
        A shipped mapping: one of :data:`PRESETS`.
    mapping : path or dict, optional
        A TOML mapping file (or its parsed dict); exactly one of ``preset`` and ``mapping``.
    strict : bool, default False
        Stop at the first row a value of which cannot be converted, instead of quarantining it.

    Returns
    -------
    IngestResult
        One job per good row; rows with unreadable values are quarantined with the field named.

    Raises
    ------
    InputFileError
        A missing or unreadable file, or one lacking a column the mapping names.

    Examples
    --------
    >>> r = read_table("../shared/data/real/nrel-eagle-sample/sample_eagle_data.csv", preset="nrel-eagle")  # doctest: +SKIP
    >>> r.counts["jobs"]  # doctest: +SKIP
    1000
    """
    spec = load_mapping(preset=preset, mapping=mapping)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    frames, quarantine, lines = [], Quarantine(), 0
    for path in paths:
        raw = _read(Path(path), spec)
        lines += len(raw)
        jobs, reasons = _convert(raw, spec, Path(path))
        bad = reasons.notna().to_numpy()
        if strict and bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputFileError(path, reasons.iloc[i], line=int(raw["_line"].iloc[i]))
        for i in np.flatnonzero(bad):
            quarantine.add(path, int(raw["_line"].iloc[i]), _raw_text(raw.iloc[i]), reasons.iloc[i])
        frames.append(jobs[~bad])
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return IngestResult(jobs=conform_jobs(table), quarantine=quarantine.to_frame(), lines_read=lines,
                        metadata={"format": "table", "preset": preset})


def _read(path: Path, spec: dict) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError(path, "no such file" if not path.exists() else "not a regular file")
    kind = spec.get("read", {}).get("format", "auto")
    is_parquet = kind == "parquet" or (kind == "auto" and path.read_bytes()[:4] == b"PAR1")
    try:
        if is_parquet:
            frame = pd.read_parquet(path).astype("string")
            frame["_line"] = np.arange(1, len(frame) + 1)  # row number, for the quarantine
        else:
            frame = pd.read_csv(path, dtype="string", keep_default_na=False, compression="infer",
                                sep=spec.get("read", {}).get("delimiter", ","))
            frame["_line"] = np.arange(2, len(frame) + 2)  # line 1 is the header
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, *READ_ERRORS) as exc:
        raise InputFileError(path, f"cannot read as {'Parquet' if is_parquet else 'CSV'} ({exc})".replace("\n", " ")) from None
    wanted = {s["from"] if isinstance(s, dict) else s for s in spec["columns"].values()}
    missing = sorted(w for w in wanted if w not in frame.columns)
    if missing:
        raise InputFileError(path, f"the mapping needs columns {missing}, the header has {list(frame.columns)[:12]}", line=1)
    return frame


def _raw_text(row: pd.Series) -> str:
    return ",".join("" if pd.isna(v) else str(v) for k, v in row.items() if k != "_line")


def _convert(raw: pd.DataFrame, spec: dict, path: Path) -> tuple[pd.DataFrame, pd.Series]:
    out = pd.DataFrame(index=raw.index)
    reasons = pd.Series(pd.NA, index=raw.index, dtype="object")
    tz = check_timezone(spec.get("read", {}).get("tz", "UTC"))
    used = set()
    for target, rule in spec["columns"].items():
        rule = {"from": rule} if isinstance(rule, str) else dict(rule)
        source = rule["from"]
        used.add(source)
        values = raw[source].str.strip()
        for sentinel in rule.get("missing", []):
            values = values.mask(pd.to_numeric(values, errors="coerce") == float(sentinel)) if isinstance(
                sentinel, (int, float)) else values.mask(values == sentinel)
        if "map" in rule:
            values = values.map(lambda v: rule["map"].get(v, v) if isinstance(v, str) else v).astype("string")
        parsed, bad = _convert_one(target, values, rule, tz)
        mask = bad & reasons.isna()
        if mask.any():
            reasons[mask] = [f"field {source!r}: cannot read {v!r}" for v in raw.loc[mask, source]]
        if isinstance(parsed, pd.DataFrame):
            out[parsed.columns] = parsed
        else:
            out[target] = parsed
    for col in raw.columns:
        if col not in used and col != "_line":
            name = snake_case(col)
            out[name if name not in out and name not in JOB_COLUMNS else f"src_{name}"] = raw[col]
    out["source"] = f"table:{path.name}"
    # A row that converts but breaks a plausibility rule is quarantined with the rule as reason.
    return out, reasons.fillna(implausible(out))


def _convert_one(target: str, values: pd.Series, rule: dict, tz: str):
    empty = values.isna() | (values == "")
    if target.endswith("_time"):
        fmt = rule.get("format", "auto")
        if fmt == "epoch_s" or fmt == "auto":
            return parse_times(values.str.replace(r"\.0+$", "", regex=True), tz=check_timezone(rule.get("tz", tz)))
        return parse_times(values.str.replace(" ", "T", n=1), tz=check_timezone(rule.get("tz", tz)))
    if target == "nodelist":
        hosts = [_hosts(v, rule.get("parse", "hostlist")) for v in values]
        bad = pd.Series([h is None for h in hosts], index=values.index)
        return pd.Series([h or [] for h in hosts], index=values.index, dtype=object), bad
    if target.endswith("_tres"):
        text = values.fillna("")
        if rule.get("ids"):
            text = text.str.replace(r"(^|,)(\d+)=", lambda m: f"{m.group(1)}{_TRES_IDS.get(m.group(2), 'tres' + m.group(2))}=", regex=True)
        cols, bad = parse_tres(text, target[: -len("_tres")])
        cols[target] = values
        return cols, bad
    if target == "state":
        states = values.map(lambda v: normalise_state(v) if isinstance(v, str) else None).astype("string")
        return states, states.isna() & ~empty
    if target == "req_mem_bytes" and rule.get("unit") in (None, "slurm"):
        return parse_memory(values, default_unit="M")
    unit = rule.get("unit")
    if unit is not None or target in JOB_COLUMNS and JOB_COLUMNS[target] in ("Int64", "float64"):
        if unit == "duration":
            return parse_durations(values)
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        numbers = numbers.where(numbers.abs() < 2.0**53)  # 1e308 and inf are numbers, but no value here
        bad = numbers.isna() & ~empty
        if unit == "wait_status":  # exit code * 256 + signal, as in Slurm's database
            numbers = np.floor(numbers / 256)
        else:
            numbers = numbers * UNITS[unit or "s"]
        if JOB_COLUMNS.get(target) == "Int64":
            return numbers.round().astype("Int64"), bad
        return numbers, bad
    if rule.get("id"):
        return values.str.replace(r"\.0+$", "", regex=True), pd.Series(False, index=values.index)
    return values, pd.Series(False, index=values.index)


def _hosts(value, syntax: str) -> list[str] | None:
    if not isinstance(value, str) or value.strip() in ("", "None assigned", "[]"):
        return []
    try:
        if syntax == "python_list":
            parsed = ast.literal_eval(value)
            return [str(h) for h in parsed] if isinstance(parsed, (list, tuple)) else None
        if syntax == "comma":
            return [h.strip() for h in value.split(",") if h.strip()]
        return hostlist.expand_hostlist(value)
    except (ValueError, SyntaxError, hostlist.BadHostlist, MemoryError, RecursionError):
        return None
