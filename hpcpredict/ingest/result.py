"""What every reader returns, and how it is written: jobs, quarantine and the counts that reconcile."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import atomic_files, read_parquet_metadata, temp_sibling
from ..errors import InputFileError
from ..schema import JOB_COLUMNS, conform_jobs

__all__ = [
    "IngestResult",
    "Quarantine",
    "StreamStats",
    "new_run_id",
    "quarantine_path",
    "read_quarantine",
    "write_ingest_result",
    "write_jobs_and_quarantine",
    "write_stream",
]

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


def new_run_id() -> str:
    """A fresh id tying an output to its quarantine: both record it, so a mixed pair is seen."""
    return uuid.uuid4().hex


def read_quarantine(output: str | os.PathLike[str]) -> pd.DataFrame:
    """The quarantine of the jobs table (or samples folder) ``output``, checked to be its own.

    The jobs table (the samples folder's ``_metrics.json``) records the run id of the quarantine
    written with it; a quarantine of another run (an ingest killed between the two renames, a
    file copied from elsewhere) is refused rather than shown as this table's.

    Raises
    ------
    InputFileError
        If the quarantine is missing or belongs to another run.
    """
    output = Path(output)
    q_path = quarantine_path(output)
    if output.is_dir():
        expected = json.loads((output / "_metrics.json").read_text()).get("quarantine_run")
    else:
        expected = (read_parquet_metadata(output) or {}).get("quarantine_run")
    if not q_path.is_file():
        raise InputFileError(q_path, f"missing: the quarantine of {output} is not beside it")
    found = (read_parquet_metadata(q_path) or {}).get("run")
    if expected is not None and found != expected:
        raise InputFileError(q_path, f"belongs to another run than {output} (an interrupted ingest?); ingest again")
    return pd.read_parquet(q_path)


def _write_table(df: pd.DataFrame, path: Path, metadata: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..metadata import without_metadata

    table = pa.Table.from_pandas(without_metadata(df), preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"hpcpredict": json.dumps(metadata).encode()})
    pq.write_table(table, path)


def write_ingest_result(result: IngestResult, output: str | os.PathLike[str]) -> dict[str, int]:
    """Write the jobs table and its quarantine table atomically, as a pair; return the counts.

    The quarantine is renamed into place first and the jobs table last: the jobs table names the
    run of its quarantine (:func:`read_quarantine` checks it).
    """
    result.check_reconciles()
    write_jobs_and_quarantine(result.jobs, result.quarantine, output, metadata={**result.metadata, "counts": result.counts})
    return result.counts


def write_jobs_and_quarantine(jobs: pd.DataFrame, quarantine: pd.DataFrame, output: str | os.PathLike[str], *,
                              metadata: dict) -> None:
    """Write a jobs table and its quarantine (:func:`quarantine_path`) atomically, as a pair.

    The quarantine is renamed into place first and the jobs table last; both record one fresh run
    id, which :func:`read_quarantine` checks. ``metadata`` goes into the jobs table.
    """
    run = new_run_id()
    with atomic_files(quarantine_path(output), output) as (tmp_q, tmp_jobs):
        _write_table(quarantine, tmp_q, {"table": "quarantine", "run": run})
        _write_table(jobs, tmp_jobs, {"table": "jobs", **metadata, "quarantine_run": run})


#: Helper columns of a streamed block whose rows are records that a later record of the same job
#: may supersede: the job's key (a hash) and whether the record has an end. Of each key's records
#: the latest with an end is kept, else the latest; the others count as duplicates merged.
RECORD_COLUMNS = {"_record_key": "uint64", "_record_final": "bool"}


def latest_records(keys: np.ndarray, final: np.ndarray) -> np.ndarray:
    """Mask of the record kept per key: the last (in input order) with ``final``, else the last.

    Examples
    --------
    >>> latest_records(np.array([7, 7, 7, 9]), np.array([False, True, False, False])).tolist()
    [False, True, False, True]
    """
    n = len(keys)
    order = np.lexsort((np.arange(n), np.asarray(final, bool), np.asarray(keys)))
    ranked = np.asarray(keys)[order]
    last = np.ones(n, bool)
    last[:-1] = ranked[:-1] != ranked[1:]
    keep = np.zeros(n, bool)
    keep[order[last]] = True
    return keep


class StreamStats:
    """Counts and pending quarantine rows of a reader that yields its jobs block by block.

    ``columns`` (name → dtype) fixes the columns of every block, so blocks append to one file.
    """

    def __init__(self) -> None:
        self.columns: dict[str, object] = {}
        self.lines_read = 0
        self.steps_folded = 0
        self.duplicate_records = 0
        self.quarantined = 0
        self.jobs = 0
        self._pending = Quarantine()

    @property
    def duplicates_merged(self) -> int:
        """Records merged into another record of the same job (steps and repeats)."""
        return self.steps_folded + self.duplicate_records

    def add_quarantine(self, path, rows) -> None:
        """Queue ``(line, raw, reason)`` rows of ``path`` for the quarantine table."""
        for line, raw, reason in rows:
            self._pending.add(path, line, raw, reason)
        self.quarantined += len(rows)

    def take_quarantine(self) -> pd.DataFrame:
        """The queued quarantine rows, as a table; the queue is emptied."""
        frame = self._pending.to_frame()
        self._pending = Quarantine()
        return frame

    def conform(self, jobs: pd.DataFrame) -> pd.DataFrame:
        """``jobs`` with exactly :attr:`columns`, in order, with their dtypes."""
        out = conform_jobs(jobs)
        for col, dtype in self.columns.items():
            if col not in out:
                out[col] = pd.Series(index=out.index, dtype=dtype)
            elif col not in JOB_COLUMNS:
                out[col] = out[col].astype(dtype)
        self.jobs += len(out)
        return out[list(self.columns)]

    def superseded(self, n: int) -> None:
        """``n`` records written were replaced by a later record of their job."""
        self.jobs -= n
        self.duplicate_records += n

    def counts(self) -> dict[str, int]:
        """The counts, which reconcile."""
        return {"lines_read": self.lines_read, "jobs": self.jobs, "quarantined": self.quarantined,
                "duplicates_merged": self.duplicates_merged}

    def metadata(self, fmt: str) -> dict:
        """What the written tables record about how they were made."""
        return {"format": fmt, "steps_folded": self.steps_folded, "duplicate_records": self.duplicate_records}

    def result(self, jobs: list[pd.DataFrame], quarantine: list[pd.DataFrame], *, fmt: str) -> IngestResult:
        """Collect the blocks into one :class:`IngestResult`."""
        frames = [j for j in jobs if len(j)]
        table = pd.concat(frames, ignore_index=True) if frames else self.conform(pd.DataFrame())
        if set(RECORD_COLUMNS) <= set(table.columns):
            keep = latest_records(table["_record_key"].to_numpy(), table["_record_final"].to_numpy())
            self.superseded(int((~keep).sum()))
            table = table[keep].drop(columns=list(RECORD_COLUMNS)).reset_index(drop=True)
        q = [f for f in quarantine if len(f)]
        return IngestResult(
            jobs=table,
            quarantine=pd.concat(q, ignore_index=True) if q else Quarantine().to_frame(),
            lines_read=self.lines_read,
            duplicates_merged=self.duplicates_merged,
            metadata=self.metadata(fmt),
        )


def arrow_schema(columns: dict[str, object]):
    """The Parquet schema of a table with these pandas dtypes (``nodelist``: list of strings)."""
    import pyarrow as pa

    empty = pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})
    schema = pa.Schema.from_pandas(empty, preserve_index=False)
    fields = []
    for f in schema:
        if f.name == "nodelist":
            f = pa.field("nodelist", pa.list_(pa.string()))
        elif pa.types.is_null(f.type):
            f = pa.field(f.name, pa.string())
        fields.append(f)
    return pa.schema(fields, metadata=schema.metadata)


def write_stream(blocks, stats: StreamStats, output: str | os.PathLike[str], *, fmt: str) -> dict[str, int]:
    """Write ``(jobs, quarantine)`` blocks to ``output`` and its quarantine file as they come.

    Both files are written atomically; memory holds one block at a time. Blocks carrying
    :data:`RECORD_COLUMNS` go to a scratch file first; a second pass then copies the record kept
    for each job, reading back only the two helper columns whole. Returns the counts.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    run = new_run_id()
    q_schema = arrow_schema({"file": "string", "line": "int64", "raw": "string", "reason": "string"})
    with atomic_files(quarantine_path(output), output) as (tmp_q, tmp_jobs), _scratch(output) as scratch:
        jobs_writer = q_writer = None
        try:
            for jobs, quarantine in blocks:
                if jobs_writer is None:
                    schema = arrow_schema(stats.columns)
                    jobs_writer = pq.ParquetWriter(scratch, schema)
                    q_writer = pq.ParquetWriter(tmp_q, q_schema)
                if len(jobs):
                    jobs_writer.write_table(pa.Table.from_pandas(jobs, schema=schema, preserve_index=False))
                if len(quarantine):
                    q_writer.write_table(pa.Table.from_pandas(quarantine, schema=q_schema, preserve_index=False))
            if jobs_writer is None:  # no input line at all
                schema = arrow_schema(stats.columns or dict(JOB_COLUMNS))
                jobs_writer = pq.ParquetWriter(scratch, schema)
                q_writer = pq.ParquetWriter(tmp_q, q_schema)
            q_writer.add_key_value_metadata({"hpcpredict": json.dumps({"table": "quarantine", "run": run})})
        finally:
            for writer in (jobs_writer, q_writer):
                if writer is not None:
                    writer.close()
        final = arrow_schema({c: d for c, d in (stats.columns or dict(JOB_COLUMNS)).items() if c not in RECORD_COLUMNS})
        keep = None
        if set(RECORD_COLUMNS) <= set(schema.names):
            helpers = pq.read_table(scratch, columns=list(RECORD_COLUMNS))
            keep = latest_records(helpers["_record_key"].to_numpy(), helpers["_record_final"].to_numpy(zero_copy_only=False))
            stats.superseded(int((~keep).sum()))
        counts = stats.counts()
        accounted = counts["jobs"] + counts["quarantined"] + counts["duplicates_merged"]
        if accounted != counts["lines_read"]:
            raise AssertionError(f"ingest lost records: {counts}")
        with pq.ParquetWriter(tmp_jobs, final) as writer:
            offset = 0
            for batch in pq.ParquetFile(scratch).iter_batches(batch_size=1 << 16):
                table = pa.Table.from_batches([batch])
                if keep is not None:
                    table = table.filter(pa.array(keep[offset : offset + len(table)]))
                offset += batch.num_rows
                writer.write_table(table.select(final.names).cast(final))
            writer.add_key_value_metadata({"hpcpredict": json.dumps({"table": "jobs", **stats.metadata(fmt), "counts": counts, "quarantine_run": run})})
    return counts


@contextlib.contextmanager
def _scratch(output: str | os.PathLike[str]):
    """A temporary file beside ``output``, removed on exit whatever happens."""
    scratch = temp_sibling(output, ".records")
    try:
        yield scratch
    finally:
        scratch.unlink(missing_ok=True)
