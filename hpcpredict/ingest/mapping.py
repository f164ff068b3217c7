"""The schema of a column mapping (``--map`` files and the shipped presets), checked before any row is read.

A typo must not change data silently: ``unti = "h"`` once left 3 h as 3 s, and ``unit = "GiB"``
turned 2 GiB into 2 bytes. Every rule is parsed by a pydantic model that forbids unknown keys and
values outside the listed units, formats and list syntaxes, and the error names the mapping and
the rule.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputFileError

__all__ = ["UNITS", "validate_mapping"]

#: Unit → factor to seconds, bytes or a plain count (KB, MB, ... are powers of 1024, as Slurm's; KiB, MiB, ... too).
UNITS = {
    "s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0, "d": 86400.0,
    "bytes": 1.0, "KB": 1024.0, "MB": 1024.0**2, "GB": 1024.0**3, "TB": 1024.0**4,
    "KiB": 1024.0, "MiB": 1024.0**2, "GiB": 1024.0**3, "TiB": 1024.0**4, "count": 1.0,
}

Unit = Literal["s", "ms", "min", "h", "d", "bytes", "count", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "duration", "wait_status", "slurm"]


class _Rule(BaseModel):
    """One canonical column: where it comes from and how it is converted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from", min_length=1)
    unit: Unit | None = None
    format: Literal["auto", "epoch_s", "iso"] | None = None
    tz: str | None = None
    missing: list[str | int | float] = []
    map: dict[str, str] | None = None
    parse: Literal["hostlist", "python_list", "comma"] | None = None
    id: bool = False
    ids: bool = False


class _Read(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["auto", "csv", "parquet"] = "auto"
    delimiter: str = Field(",", min_length=1, max_length=1)
    tz: str = "UTC"


class _Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    read: _Read = _Read()
    columns: dict[str, str | _Rule] = Field(min_length=1)


def validate_mapping(loaded: dict, source: str) -> dict:
    """``loaded`` (a parsed TOML mapping) checked and normalised: rules as dicts with ``from``.

    Raises
    ------
    InputFileError
        One line naming ``source`` and the rule, e.g. ``columns.time_limit_s: unknown key 'unti'``.

    Examples
    --------
    >>> validate_mapping({"columns": {"req_mem_bytes": {"from": "mem", "unit": "GiB"}}}, "m.toml")["columns"]
    {'req_mem_bytes': {'from': 'mem', 'unit': 'GiB'}}
    >>> validate_mapping({"columns": {"time_limit_s": {"from": "limit", "unti": "h"}}}, "m.toml")
    Traceback (most recent call last):
    ...
    hpcpredict.errors.InputFileError: m.toml: columns.time_limit_s: unknown key 'unti'
    """
    try:
        mapping = _Mapping.model_validate(loaded)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if e["type"] != "string_type"] or exc.errors()  # the dict branch says more
        raise InputFileError(source, _describe(errors[0])) from None
    columns = {
        name: rule if isinstance(rule, str) else {"from": rule.source, **rule.model_dump(exclude={"source"}, exclude_defaults=True)}
        for name, rule in mapping.columns.items()
    }
    return {"description": mapping.description, "read": mapping.read.model_dump(), "columns": columns}


def _describe(error: dict) -> str:
    # A rule is "str | _Rule": pydantic reports the union's branch in the path; drop it.
    where = ".".join(str(p) for p in error["loc"] if p not in ("str", "_Rule"))
    if error["type"] == "extra_forbidden":
        parent, _, key = where.rpartition(".")
        return f"{parent or 'mapping'}: unknown key {key!r}"
    if error["type"] == "literal_error":
        return f"{where}: {error['input']!r} is not one of {error['ctx']['expected']}"
    if error["type"] == "missing":
        return f"{where}: missing"
    return f"{where}: {error['msg']} (got {error['input']!r})"
