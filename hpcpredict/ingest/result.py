"""What every reader returns, and how it is written: jobs, quarantine and the counts that reconcile."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._atomic import write_parquet

__all__ = ["IngestResult", "Quarantine", "quarantine_path", "write_ingest_result"]

QUARANTINE_COLUMNS = ("file", "line", "raw", "reason")


class Quarantine:
    """Collects the input lines a reader could not use, each with the reason why.

    Examples
    --------
    >>> q = Quarantine()
    >>> q.add("log.swf", 12, "1 2 3", "expected 18 fields, found 3")
    >>> len(q), q.to_frame().loc[0, "reason"]
    (1, 'expected 18 fields, found 3')
    """

    def __init__(self) -> None:
        self._rows: list[tuple[str, int, str, str]] = []

    def add(self, file: str | os.PathLike[str], line: int, raw: str, reason: str) -> None:
        """Record one rejected line (``line`` is 1-based)."""
        self._rows.append((str(file), int(line), raw, reason))

    def __len__(self) -> int:
        return len(self._rows)

    def to_frame(self) -> pd.DataFrame:
        """The quarantine table: ``file``, ``line``, ``raw``, ``reason``."""
        frame = pd.DataFrame(self._rows, columns=list(QUARANTINE_COLUMNS))
        return frame.astype({"file": "string", "line": "int64", "raw": "string", "reason": "string"})


@dataclass
class IngestResult:
    """The outcome of reading one or more accounting files.

    The counts reconcile: ``lines_read == len(jobs) + len(quarantine) + duplicates_merged``.

    Attributes
    ----------
    jobs : DataFrame
        The canonical jobs table (:mod:`hpcpredict.schema`).
    quarantine : DataFrame
        Rejected lines with file, line number, raw text and reason.
    lines_read : int
        Data lines read (records; comments and blank lines are not counted).
    duplicates_merged : int
        Records merged into another record of the same job.
    """

    jobs: pd.DataFrame
    quarantine: pd.DataFrame
    lines_read: int
    duplicates_merged: int = 0
    metadata: dict = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Lines read, jobs written, lines quarantined and duplicates merged."""
        return {
            "lines_read": self.lines_read,
            "jobs": len(self.jobs),
            "quarantined": len(self.quarantine),
            "duplicates_merged": self.duplicates_merged,
        }

    def check_reconciles(self) -> None:
        """Raise AssertionError if a record went missing: every line must be accounted for."""
        c = self.counts
        accounted = c["jobs"] + c["quarantined"] + c["duplicates_merged"]
        if accounted != c["lines_read"]:
            raise AssertionError(f"ingest lost records: {c}")


def quarantine_path(output: str | os.PathLike[str]) -> Path:
    """``jobs.parquet`` → ``jobs.quarantine.parquet``, beside it."""
    output = Path(output)
    stem = output.name[: -len(".parquet")] if output.name.endswith(".parquet") else output.name
    return output.with_name(f"{stem}.quarantine.parquet")


def write_ingest_result(result: IngestResult, output: str | os.PathLike[str]) -> dict[str, int]:
    """Write the jobs table and its quarantine table atomically; return the counts."""
    result.check_reconciles()
    write_parquet(result.jobs, output, metadata={"table": "jobs", **result.metadata, "counts": result.counts})
    write_parquet(result.quarantine, quarantine_path(output), metadata={"table": "quarantine"})
    return result.counts
