"""Keep a jobs table current from a live Slurm: ``hpcpredict collect``.

Runs ``sacct`` itself, with the field list hpcpredict needs (:data:`~hpcpredict.ingest.slurm.SACCT_FIELDS`),
every state named (a window query without ``--state`` leaves out jobs that were never eligible,
e.g. held then cancelled) and the ASCII unit separator as delimiter (no job name, comment or
working directory carries it, so no line needs repair). The answer is merged into the table: one
row per job, a job seen again replaces its older row (a job RUNNING at the last run and COMPLETED
now is updated), nothing is duplicated. The next run starts where the table still has unfinished
jobs, or at the end of the last window, so a site runs it from cron or lets ``serve --refresh``
run it, with no field list or script of its own.

Lines of sacct's answer that cannot be read go to the table's quarantine, ``jobs.quarantine.parquet``
beside ``jobs.parquet`` (as ``hpcpredict ingest`` writes it, read with
:func:`~hpcpredict.ingest.result.read_quarantine`): it accumulates over runs, one row per distinct
line (a line seen again in an overlapping window replaces its older row), each naming the window
that gave it. Every run reconciles: lines read = jobs + steps and repeats merged + quarantined.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._atomic import read_parquet_metadata
from ._outputs import check_output
from .errors import HpcPredictError
from .ingest.result import quarantine_path, read_quarantine, write_jobs_and_quarantine
from .ingest.slurm import SACCT_FIELDS, read_sacct

__all__ = ["SACCT_STATES", "CollectResult", "collect"]

#: Every job state, by name (``sacct --state``).
SACCT_STATES = "BF,CA,CD,DL,F,NF,OOM,PD,PR,R,RQ,RS,RV,S,TO"
_UNIT_SEPARATOR = "\x1f"
#: Look back this far before the end of the last window: accounting of jobs that ended just before
#: it may reach slurmdbd a little late.
_OVERLAP = pd.Timedelta(minutes=5)


class CollectError(HpcPredictError):
    """sacct could not be run or answered with an error."""


@dataclass
class CollectResult:
    """What one run of :func:`collect` did."""

    table: Path
    since: pd.Timestamp
    until: pd.Timestamp
    read: int  # job rows sacct gave for the window
    added: int  # jobs new to the table
    updated: int  # jobs already in the table whose row changed (e.g. they ended)
    quarantined: int  # lines of sacct's answer that could not be read
    total: int  # jobs in the table now
    lines_read: int = 0  # lines of sacct's answer: read + merged + quarantined
    merged: int = 0  # step lines folded into their job, and repeated records of a job
    quarantine: Path | None = None  # where the quarantined lines are kept (all runs)
    quarantine_added: int = 0  # quarantined lines not already in it from an earlier run
    quarantine_total: int = 0  # rows in the quarantine now


def collect(
    table: str | os.PathLike[str],
    *,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
    sacct: str = "sacct",
    cluster: str | None = None,
) -> CollectResult:
    """Append the jobs sacct knows for a time window to a jobs table, without duplicates.

    Parameters
    ----------
    table : path
        The jobs table (Parquet), created when missing and replaced atomically.
    since : time, optional
        Start of the window. Default: the earliest submission of a job the table holds as not
        yet ended, else the end of the last window (less five minutes); required for a new table.
    until : time, optional
        End of the window; default now.
    sacct : str
        The sacct program (a path, for another installation).
    cluster : str, optional
        Ask only this cluster (``sacct --clusters``); default sacct's own.

    Returns
    -------
    CollectResult
        Its counts reconcile: ``lines_read == read + merged + quarantined``.

    Raises
    ------
    CollectError
        sacct is missing or fails (its message is given).
    InputFileError
        The quarantine beside the table belongs to another run (see
        :func:`~hpcpredict.ingest.result.read_quarantine`).

    Examples
    --------
    >>> collect("jobs.parquet", since="2026-12-01T00:00:00")  # doctest: +SKIP
    CollectResult(table=PosixPath('jobs.parquet'), ..., added=1234, updated=0, ...)
    """
    q_path = quarantine_path(table)
    table = check_output(table, folder=False, companions=[q_path])  # both replaced: only files hpcpredict wrote
    old = pd.read_parquet(table) if table.exists() else None
    # a table from an older collect (or none) has no quarantine yet: it starts here
    old_q = read_quarantine(table) if old is not None and q_path.exists() else None
    # sacct takes whole seconds: round now up, or a job submitted in this very second is left out
    until_ts = _timestamp(until) if until is not None else pd.Timestamp.now(tz="UTC").ceil("s") + pd.Timedelta(seconds=1)
    since_ts = _timestamp(since) if since is not None else _resume_point(table, old)
    if since_ts is None:
        raise CollectError(f"{table} does not exist yet: give --since for the first window")
    with tempfile.TemporaryDirectory(prefix="hpcpredict-collect-") as folder:
        dump = Path(folder) / "sacct.usv"
        _run_sacct(sacct, dump, since_ts, until_ts, cluster)
        result = read_sacct(dump)
    result.check_reconciles()
    new = result.jobs
    merged, added, updated = _merge(old, new)
    window = f"sacct {since_ts:%Y-%m-%dT%H:%M:%S}Z to {until_ts:%Y-%m-%dT%H:%M:%S}Z"
    quarantine, q_added = _merge_quarantine(old_q, result.quarantine.assign(file=window).astype({"file": "string"}))
    write_jobs_and_quarantine(merged, quarantine, table, metadata={
        "format": "sacct", "collect": {"until": until_ts.isoformat(), "fields": SACCT_FIELDS, "counts": result.counts}})
    return CollectResult(table, since_ts, until_ts, len(new), added, updated, len(result.quarantine), len(merged),
                         lines_read=result.lines_read, merged=result.duplicates_merged, quarantine=q_path,
                         quarantine_added=q_added, quarantine_total=len(quarantine))


def _timestamp(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _resume_point(table: Path, old: pd.DataFrame | None) -> pd.Timestamp | None:
    if old is None:
        return None
    unfinished = old.loc[old["end_time"].isna(), "submit_time"].dropna()
    meta = (read_parquet_metadata(table) or {}).get("collect", {})
    last = _timestamp(meta["until"]) - _OVERLAP if meta.get("until") else None
    candidates = [t for t in (unfinished.min() if len(unfinished) else None, last) if t is not None and pd.notna(t)]
    return min(candidates) if candidates else None


def _run_sacct(sacct: str, dump: Path, since: pd.Timestamp, until: pd.Timestamp, cluster: str | None) -> None:
    program = shutil.which(sacct)
    if program is None:
        raise CollectError(f"cannot run sacct: {sacct!r} is not on PATH")
    fmt = "%Y-%m-%dT%H:%M:%S"
    argv = [program, "--allusers", "--duplicates", "--parsable2", f"--delimiter={_UNIT_SEPARATOR}",
            f"--state={SACCT_STATES}", f"--format={SACCT_FIELDS}",
            # sacct reads -S/-E in the machine's local time; SLURM_TIME_FORMAT=%s makes it print epochs
            f"--starttime={since.tz_convert(None).strftime(fmt)}", f"--endtime={until.tz_convert(None).strftime(fmt)}"]
    if cluster:
        argv.append(f"--clusters={cluster}")
    env = {**os.environ, "SLURM_TIME_FORMAT": "%s", "TZ": "UTC"}
    with open(dump, "wb") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, env=env, timeout=600, check=False)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise CollectError(f"sacct failed (exit {done.returncode}): {message[-1] if message else 'no message'}")


def _merge_quarantine(old: pd.DataFrame | None, new: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The quarantine of every run: one row per distinct raw line, the latest window's row kept;
    and how many of ``new`` were not there before."""
    if old is None or old.empty:
        return new.drop_duplicates("raw", keep="last").reset_index(drop=True), int(new["raw"].nunique())
    added = int((~new["raw"].drop_duplicates().isin(old["raw"])).sum())
    both = pd.concat([old, new], ignore_index=True).drop_duplicates("raw", keep="last")
    return both.reset_index(drop=True), added


def _merge(old: pd.DataFrame | None, new: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """One row per (cluster, job_id): the newer answer wins."""
    if old is None or old.empty:
        return new.reset_index(drop=True), len(new), 0
    key = ["cluster", "job_id"] if "cluster" in new and "cluster" in old else ["job_id"]
    old_keys = pd.MultiIndex.from_frame(old[key].astype("string"))
    new_keys = pd.MultiIndex.from_frame(new[key].astype("string"))
    seen = new_keys.isin(old_keys)
    kept_old = old[~old_keys.isin(new_keys)]
    compare = [c for c in ("state", "end_time", "runtime_s", "start_time") if c in old and c in new]
    before = old[old_keys.isin(new_keys)].set_index(key)[compare]
    after = new[seen].set_index(key)[compare]
    changed = int((before.reindex(after.index).astype("string").fillna("") != after.astype("string").fillna("")).any(axis=1).sum())
    merged = pd.concat([kept_old, new], ignore_index=True)
    return merged, int((~seen).sum()), changed
