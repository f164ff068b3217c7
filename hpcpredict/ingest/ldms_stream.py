"""LDMS ingest in bounded memory: read the files in time order, write the samples folder a day at a time.

:func:`~hpcpredict.ingest.read_ldms` holds every sampler's whole table to turn counters into
rates and join the samplers. Months of 1-minute samples from thousands of hosts do not fit, so
:func:`stream_ldms` walks the roll-over files of all samplers together, always reading next the
file of the sampler that is furthest behind. Everything stamped before the *watermark* — the
earliest "read up to" time among samplers that still have files — is complete: no file still to
come can add a sample or a sampler's column to it. Those rows are turned into rates (with each
host's last raw counter value carried over from the rows before), joined across samplers and put
into per-day buffers; a day is written as soon as the watermark passes its end. Memory holds about
one roll-over file per sampler plus one day of output, whatever the length of the record.

The folder is the one :func:`~hpcpredict.ingest.read_ldms` writes (tests compare them), with two
differences that only show on odd input: the longest gap a rate may span (``max_gap_s``) defaults to
3 x the median interval of the first rows each sampler emits rather than of all its rows; and a
record that repeats an already written (host, time) keeps the first copy rather than the last.
"""

from __future__ import annotations

import collections
import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._atomic import atomic_dir, write_json, write_parquet
from ..errors import InputFileError
from ..progress import progress
from ..scale import client_for, n_workers
from ._samples import default_max_gap_s, flush_days, merge_samplers, stream_counts
from .ldms import plan_files, raw_to_samples, read_one, sampler_metrics
from .metrics import MetricInfo
from .result import Quarantine, new_run_id, quarantine_path

__all__ = ["stream_ldms"]

_CARRY = "_carried"  # marks the carried-over rows, which give the first new row its rate and then go


@dataclass
class _Sampler:
    """One sampler's walk through its files."""

    name: str
    files: collections.deque  # (path, header) still to read, in time order
    futures: collections.deque = field(default_factory=collections.deque)  # Dask: files read ahead
    pending: list[pd.DataFrame] = field(default_factory=list)  # raw rows read, not yet emitted
    high: pd.Timestamp | None = None  # latest time read so far
    empty: pd.DataFrame | None = None  # the first file's raw layout, no rows
    infos: list[MetricInfo] | None = None
    carry: pd.DataFrame | None = None  # each host's last emitted raw row
    max_gap_s: float | None = None

    @property
    def done(self) -> bool:
        return not self.files and not self.futures


def stream_ldms(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    metrics: Mapping[str, Mapping[str, str]] | None = None,
    round_s: float = 1.0,
    counter_bits: int = 64,
    max_gap_s: float | None = None,
    strict: bool = False,
    dask=None,
) -> dict[str, int]:
    """Read LDMS ``store_csv`` files into the samples folder ``output_dir`` in bounded memory.

    Takes the arguments of :func:`~hpcpredict.ingest.read_ldms` and writes the same folder
    (``samples-YYYY-MM-DD.parquet`` per UTC day, ``_metrics.json``, the quarantine beside it),
    atomically. With ``dask``, files are parsed on the workers a few at a time ahead of need.

    Returns
    -------
    dict
        The counts: ``lines_read == records + quarantined + duplicates_merged``; ``samples``
        rows written, ``hosts``, ``metrics``.

    Raises
    ------
    InputFileError
        A file holds samples older than ones already written from earlier files (its roll-over
        order does not follow time); :func:`~hpcpredict.ingest.read_ldms` reads such sets in memory.

    Examples
    --------
    >>> stream_ldms("ldms/", "samples/")["quarantined"]  # doctest: +SKIP
    0
    """
    tasks = plan_files(paths)
    samplers: dict[str, _Sampler] = {}
    for name, path, header in tasks:
        samplers.setdefault(name, _Sampler(name, collections.deque())).files.append((path, header))
    walk = _Walk(list(samplers.values()), metrics=metrics, counter_bits=counter_bits, max_gap_s=max_gap_s)
    output_dir = Path(output_dir)
    with contextlib.ExitStack() as stack:
        client = None if dask is None else stack.enter_context(client_for(dask))
        tmp = stack.enter_context(atomic_dir(output_dir, kind="samples"))
        advance = stack.enter_context(progress(total=len(tasks), description="LDMS files"))
        ahead = 1 if client is None else max(2, -(-2 * n_workers(client) // len(samplers)))
        while not all(s.done for s in walk.samplers):
            sampler = walk.next_sampler()
            path, (frame, n_lines, rejected) = _next_file(sampler, client, ahead, round_s=round_s, strict=strict)
            for row in rejected:
                walk.quarantine.add(*row)
            walk.lines_read += n_lines
            walk.add(sampler, frame, path)
            mark = walk.watermark()
            if mark is not None:
                walk.emit(tmp, until=mark)
            advance(1)
        walk.emit(tmp, until=None)
        counts = walk.counts()
        run = new_run_id()
        write_json({**walk.meta(), "counts": counts, "quarantine_run": run}, tmp / "_metrics.json")
        # The quarantine lands before the folder (the commit point), which names its run.
        write_parquet(walk.quarantine.to_frame(), quarantine_path(output_dir), metadata={"table": "quarantine", "run": run})
    return counts


def _next_file(sampler: _Sampler, client, ahead: int, *, round_s: float, strict: bool):
    """``(path, parsed)`` of the sampler's next file, read here or (keeping ``ahead`` files in
    flight) on Dask."""
    if client is None:
        path, header = sampler.files.popleft()
        return path, read_one(path, header, round_s=round_s, strict=strict)
    while sampler.files and len(sampler.futures) < ahead:
        path, header = sampler.files.popleft()
        sampler.futures.append((path, client.submit(read_one, path, header, round_s=round_s, strict=strict, pure=False)))
    path, future = sampler.futures.popleft()
    return path, future.result()


class _Walk:
    """The state of a streaming ingest: samplers, day buffers and counts."""

    def __init__(self, samplers: list[_Sampler], *, metrics, counter_bits: int, max_gap_s: float | None) -> None:
        self.samplers, self.overrides = samplers, metrics
        self.counter_bits, self.max_gap_s = counter_bits, max_gap_s
        self.quarantine = Quarantine()
        self.lines_read = self.records = self.duplicates = self.rows_out = 0
        self.hosts: set[str] = set()
        self.cut: pd.Timestamp | None = None  # every row before it has been emitted
        self.days: dict[str, list[pd.DataFrame]] = {}
        self.infos: list[MetricInfo] | None = None

    def next_sampler(self) -> _Sampler:
        """The sampler with files left that has read least far (one not yet read first)."""
        left = [s for s in self.samplers if not s.done]
        unread = [s for s in left if s.high is None]
        return unread[0] if unread else min(left, key=lambda s: s.high)

    def add(self, sampler: _Sampler, frame: pd.DataFrame, path) -> None:
        """Take one parsed file's raw rows into the sampler's pending rows."""
        if sampler.empty is None:
            sampler.empty = frame.iloc[0:0]
            sampler.infos = sampler_metrics(frame.columns, sampler.name, self.overrides)
        elif frame.columns.tolist() != sampler.empty.columns.tolist():
            frame = frame.reindex(columns=sampler.empty.columns)  # a later header lost metrics: keep the first layout
        if not len(frame):
            return  # a sampler whose files are all empty holds nothing back once they are read (done)
        if self.cut is not None:
            frame = self._drop_repeats(sampler, frame, path)
        self.records += len(frame)
        sampler.pending.append(frame)
        latest = frame["timestamp"].max()
        sampler.high = latest if sampler.high is None else max(sampler.high, latest)

    def _drop_repeats(self, sampler: _Sampler, frame: pd.DataFrame, path) -> pd.DataFrame:
        """Rows older than what was written: a repeat of a host's last written row is a merged
        duplicate; anything else means the files are not in time order."""
        late = (frame["timestamp"] < self.cut).to_numpy()
        if not late.any():
            return frame
        last = sampler.carry.set_index("component")["timestamp"] if sampler.carry is not None else pd.Series(dtype=object)
        old = frame[late]
        repeat = old["timestamp"].to_numpy() == old["component"].map(last).to_numpy()
        if not repeat.all():
            row = old[~repeat].iloc[0]
            raise InputFileError(
                path or sampler.name,
                f"sample of {row['component']} at {row['timestamp']} is older than samples already written from "
                f"earlier {sampler.name} files (roll-over files out of time order); read this set in memory with "
                "hpcpredict.ingest.read_ldms",
            )
        self.duplicates += int(repeat.sum())
        return frame[~late]

    def watermark(self) -> pd.Timestamp | None:
        """Rows before this time are complete; None while a sampler has not been read yet."""
        if any(s.empty is None for s in self.samplers):
            return None
        left = [s.high for s in self.samplers if not s.done]
        if any(h is None for h in left):
            return None
        return min(left) if left else pd.Timestamp.max.tz_localize("UTC")

    def emit(self, folder: Path, *, until: pd.Timestamp | None) -> None:
        """Rates, join and day buffers for every pending row before ``until`` (all rows when None);
        then write each day that is complete."""
        if until is not None and self.cut is not None and until <= self.cut:
            return
        parts = [self._rates(s, until) for s in self.samplers]
        merged, infos = merge_samplers(parts)
        self.infos = infos
        if len(merged):
            self.rows_out += len(merged)
            self.hosts.update(merged["component"].unique().tolist())
            days = merged["timestamp"].dt.strftime("%Y-%m-%d")
            for day, part in merged.groupby(days, sort=True):
                self.days.setdefault(day, []).append(part)
        self.cut = until
        flush_days(self.days, folder, self.meta(), before=None if until is None else until.strftime("%Y-%m-%d"))

    def _rates(self, sampler: _Sampler, until: pd.Timestamp | None) -> tuple[pd.DataFrame, list[MetricInfo]]:
        raw = pd.concat(sampler.pending, ignore_index=True) if sampler.pending else sampler.empty
        if until is not None and len(raw):
            now = (raw["timestamp"] < until).to_numpy()
            take, rest = raw[now], raw[~now]
            sampler.pending = [rest] if len(rest) else []
        else:
            take, sampler.pending = raw, []
        before = len(take)
        take = take.drop_duplicates(["component", "timestamp"], keep="last")
        self.duplicates += before - len(take)
        self.records -= before - len(take)
        if sampler.max_gap_s is None and len(take):
            sampler.max_gap_s = self.max_gap_s if self.max_gap_s is not None else default_max_gap_s(take)
        carried = sampler.carry if sampler.carry is not None else sampler.empty
        both = pd.concat([carried.assign(**{_CARRY: True}), take.assign(**{_CARRY: False})], ignore_index=True)
        if len(take):
            # (component, timestamp) is unique here, so each host's latest row needs no sort;
            # raw_to_samples sorts once below
            latest = both.loc[both.groupby("component", sort=False)["timestamp"].idxmax()]
            sampler.carry = latest.drop(columns=_CARRY).reset_index(drop=True)
        samples, infos = raw_to_samples(both, sampler.infos, counter_bits=self.counter_bits, max_gap_s=sampler.max_gap_s)
        return samples[~samples[_CARRY].to_numpy(bool)].drop(columns=_CARRY).reset_index(drop=True), infos

    def meta(self) -> dict:
        return {"table": "samples", "metrics": [m.to_dict() for m in self.infos or []], "source": "ldms",
                "samplers": sorted(s.name for s in self.samplers)}

    def counts(self) -> dict[str, int]:
        return stream_counts(self, metrics=len(self.infos or []))
