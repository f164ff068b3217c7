"""Performance Co-Pilot (PCP) archives → the samples folder, one archive (a host-day) at a time.

Open XDMoD's SUPReMM realm keeps one ``pmlogger`` archive per compute node per day
(``HOST/YYYYMMDD.{0,index,meta}``). :func:`stream_pcp` reads such archives with PCP's own Python
bindings — a child process runs ``pmpython`` on :mod:`hpcpredict.ingest._pcp_dump`, so no code
here parses PCP's binary format — and writes the same samples folder as LDMS ingest: one Parquet
file per UTC day, ``_metrics.json``, the quarantine beside it. Which metrics are read and what
each becomes is the map of :mod:`hpcpredict.ingest.pcp_metrics`.

Counters become per-second rates here, with the project's rule (resets, wrap-arounds at the
counter's own width, no rate across a gap or a ``<mark>``), from the raw values of each metric
and instance, before instances are summed; discrete metrics (``mem.physmem``) carry forward.
Every archive record is accounted for: ``lines_read`` (records read) = ``records`` (kept, one
sample row each) + ``quarantined`` + ``duplicates_merged``. Quarantined are ``<mark>`` records
(pmlogger stopped), records holding none of the mapped metrics (pmlogger's own prologue and
epilogue, ``pmcd.pmlogger.*``), and records older than ones already read for their host
(overlapping archives); a record at the very time of the host's previous one is merged into it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import atomic_dir, write_json, write_parquet
from ..errors import InputFileError
from ..progress import progress
from ._samples import counters_to_rates, flush_days, stream_counts
from .metrics import MetricInfo
from .pcp_metrics import PCP_METRICS, PcpColumn, column_info, column_unit, derive_pcp, pcp_metric_names
from .result import Quarantine, new_run_id, quarantine_path

__all__ = ["find_archives", "pcp_python", "stream_pcp"]

_DUMP = Path(__file__).with_name("_pcp_dump.py")
_SUFFIXES = (".meta", ".index", ".0")
_INSTALL = "install PCP and its Python bindings (Debian/Ubuntu: apt-get install pcp python3-pcp; RHEL: dnf install pcp python3-pcp)"


def pcp_python() -> tuple[str, dict[str, str]]:
    """PCP's ``pmpython`` and the environment to run it in, or a one-line error saying what to install.

    ``pmpython`` runs the ``python3`` first on ``PATH``; a virtual environment's or pyenv's would
    lack PCP's bindings, so the folder holding ``pmpython`` (where PCP's packages put the system
    Python too) goes first.
    """
    pmpython = shutil.which("pmpython")
    if pmpython is None:
        raise InputFileError("pmpython", f"PCP is not installed (no pmpython on PATH): {_INSTALL}")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(Path(pmpython).parent), env.get("PATH", "")])
    return pmpython, env


def find_archives(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The archive base names (``HOST/20240101`` for ``HOST/20240101.{0,index,meta}``) in ``paths``.

    A folder is searched recursively (a SUPReMM tree of host folders); a file may be any of an
    archive's files, or its base name. Every archive must have its ``.meta`` and a ``.0`` volume
    (compressed ``.xz`` ones too).

    Examples
    --------
    >>> find_archives(["pmlogger/"])  # doctest: +SKIP
    [PosixPath('pmlogger/node01/20240101'), PosixPath('pmlogger/node02/20240101')]
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    bases: dict[Path, None] = {}
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _base(p) is not None)
            if not found:
                raise InputFileError(path, "no PCP archive here (no .meta, .index or .0 files)")
            bases.update(dict.fromkeys(_base(p) for p in found))
        elif path.is_file() and _base(path) is not None:
            bases[_base(path)] = None
        elif _volume(path, ".meta") is not None or _volume(path, ".0") is not None:
            bases[path] = None
        else:
            raise InputFileError(path, "no such PCP archive (expected ARCHIVE.meta, ARCHIVE.0 or a folder of archives)")
    for base in bases:
        for suffix in (".meta", ".0"):
            if _volume(base, suffix) is None:
                raise InputFileError(base, f"damaged PCP archive: {base.name}{suffix} is missing")
    return list(bases)


def _base(path: Path) -> Path | None:
    name = path.name
    for ext in ("", ".xz", ".gz", ".bz2", ".zst"):
        for suffix in _SUFFIXES:
            if ext and suffix == ".index":
                continue
            if name.endswith(suffix + ext) and len(name) > len(suffix + ext):
                return path.with_name(name[: -len(suffix + ext)])
    return None


def _volume(base: Path, suffix: str) -> Path | None:
    for ext in ("", ".xz", ".gz", ".bz2", ".zst"):
        candidate = base.with_name(base.name + suffix + ext)
        if candidate.is_file():
            return candidate
    return None


def _run(args: list[str], archive) -> Iterator[str]:
    """Lines printed by the dump script; a failure becomes one InputFileError naming ``archive``."""
    pmpython, env = pcp_python()
    proc = subprocess.Popen([pmpython, "-I", str(_DUMP), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        yield from proc.stdout
    finally:
        proc.stdout.close()
        err = proc.stderr.read().strip()
        proc.stderr.close()
        rc = proc.wait()
    if rc == 3:
        raise InputFileError("pmpython", f"PCP's Python bindings are missing ({err}): {_INSTALL}")
    if rc != 0:
        raise InputFileError(archive, f"cannot read this PCP archive: {err.splitlines()[-1] if err else f'exit status {rc}'}")


def archive_labels(archives: Sequence[Path]) -> list[dict]:
    """Each archive's host, start and end (epoch seconds), read in one child process."""
    if not archives:
        return []
    labels = [json.loads(line) for line in _run(["--labels", *map(str, archives)], archives[0])]
    for label, base in zip(labels, archives):
        label["archive"] = base
    return labels


def stream_pcp(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    keep_domain: bool = False,
    hosts: Mapping[str, str] | None = None,
    max_gap_s: float | None = None,
) -> dict[str, int]:
    """Read pmlogger archives into the samples folder ``output_dir``, one archive at a time.

    Parameters
    ----------
    paths : path or sequence of paths
        Archives (any of their files, or base names) or folders of them (``HOST/YYYYMMDD.*``).
    output_dir : path
        The samples folder to write (atomically): ``samples-YYYY-MM-DD.parquet`` per UTC day and
        ``_metrics.json``; the quarantine goes beside it (``samples.quarantine.parquet``).
    keep_domain : bool
        Keep the archive's host name whole; by default it is cut at the first dot
        (``node01.cluster.org`` → ``node01``), as Slurm names nodes.
    hosts : mapping, optional
        Archive host name (whole or cut) → component, where the scheduler names a node otherwise
        than the node names itself (``{"vm": "localhost"}``); other hosts keep their names.
    max_gap_s : float, optional
        Longest interval a rate may span (default: 3 x the metric's median logging interval).

    Returns
    -------
    dict
        ``lines_read`` (archive records) ``== records + quarantined + duplicates_merged``;
        ``samples`` rows written, ``hosts``, ``metrics``, ``archives``.

    Raises
    ------
    InputFileError
        PCP is not installed (naming the packages), or an archive is missing a file or is
        damaged (naming it): nothing is written then.

    Examples
    --------
    >>> stream_pcp("/var/log/pcp/pmlogger/", "samples/")["hosts"]  # doctest: +SKIP
    64
    """
    archives = find_archives(paths)
    labels = sorted(archive_labels(archives), key=lambda lab: (lab["start"], str(lab["archive"])))
    state = _State(keep_domain=keep_domain, hosts=dict(hosts or {}), max_gap_s=max_gap_s)
    output_dir = Path(output_dir)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_dir(output_dir, kind="samples"))
        advance = stack.enter_context(progress(total=len(labels), description="PCP archives"))
        for i, label in enumerate(labels):
            state.read_archive(label)
            following = labels[i + 1]["start"] if i + 1 < len(labels) else None
            state.flush(tmp, before=None if following is None else _day(following))
            advance(1)
        counts = state.counts(len(labels))
        run = new_run_id()
        write_json({**state.meta(), "counts": counts, "quarantine_run": run}, tmp / "_metrics.json")
        # The quarantine lands before the folder (the commit point), which names its run.
        write_parquet(state.quarantine.to_frame(), quarantine_path(output_dir), metadata={"table": "quarantine", "run": run})
    return counts


def _day(epoch_s: float) -> str:
    return pd.Timestamp(epoch_s, unit="s", tz="UTC").strftime("%Y-%m-%d")


class _State:
    """Counts, each host's carried counters and the day buffers of a streaming PCP ingest."""

    def __init__(self, *, keep_domain: bool, hosts: dict[str, str], max_gap_s: float | None) -> None:
        self.keep_domain, self.rename, self.max_gap_s = keep_domain, hosts, max_gap_s
        self.quarantine = Quarantine()
        self.lines_read = self.records = self.duplicates = self.rows_out = 0
        self.hosts: set[str] = set()
        self.infos: dict[str, MetricInfo] = {}
        self.last_time: dict[str, float] = {}  # host → time of its latest kept record
        self.carry: dict[tuple[str, str, str | None], tuple[float, object]] = {}  # host, metric, instance → last raw
        self.days: dict[str, list[pd.DataFrame]] = {}
        self.bucket_s: int | None = None  # the logging interval, from the first archive with two records

    def read_archive(self, label: dict) -> None:
        """Read one archive's records into the day buffers."""
        base = label["archive"]
        short = label["host"].split(".", 1)[0]
        host = self.rename.get(label["host"]) or self.rename.get(short) or (label["host"] if self.keep_domain else short)
        lines = _run([str(base), *pcp_metric_names()], base)
        header = json.loads(next(lines))
        times: list[float] = []
        cells: dict[tuple[str, str | None], tuple[list[int], list]] = {}
        segment: list[int] = []  # rows after a <mark> start a new segment: no rate spans one
        seg = 0
        last = self.last_time.get(host, -np.inf)
        for number, line in enumerate(lines, start=1):
            record = json.loads(line)
            if isinstance(record, dict):
                continue  # the closing {"records": n}; reading on lets the child's exit status be checked
            self.lines_read += 1
            t, n_metrics, values = record
            reason = None
            if n_metrics == 0:
                reason, seg = "pmlogger <mark> record: logging stopped here (no rate spans the gap)", seg + 1
            elif not values:
                reason = f"holds none of the mapped PCP metrics ({n_metrics} other metrics, e.g. pmlogger's own pmcd.pmlogger.*)"
            elif t < last:
                reason = "older than samples already read for this host (overlapping archives)"
            if reason is not None:
                self.quarantine.add(base, number, line.strip()[:200], reason)
                continue
            if t == last:
                self.duplicates += 1
                if not times:
                    continue  # the host's previous archive ended with this very record
                row = len(times) - 1
            else:
                times.append(t)
                segment.append(seg)
                row, last = len(times) - 1, t
                self.records += 1
            for name, inst, value in values:
                rows, vals = cells.setdefault((name, inst), ([], []))
                if rows and rows[-1] == row:
                    vals[-1] = value
                else:
                    rows.append(row)
                    vals.append(value)
        self.last_time[host] = last
        if self.bucket_s is None and len(times) > 1:
            self.bucket_s = int(min(60, max(1, round(float(np.median(np.diff(times)))))))
        if times:
            self._add_rows(host, header, np.array(times), np.array(segment), cells)

    def _add_rows(self, host: str, header: dict, times: np.ndarray, segment: np.ndarray, cells) -> None:
        # PCP stamps records to the microsecond; the samples table holds microseconds like LDMS's
        stamps = pd.to_datetime(np.round(times * 1e6).astype("int64"), unit="us", utc=True).astype("datetime64[us, UTC]")
        frame = pd.DataFrame({"timestamp": stamps, "component": host})
        infos = []
        for col in PCP_METRICS:
            source = next((s for s in col.sources if s in header["metrics"] and _instances(col, s, cells)), None)
            if source is None:
                continue
            meta = header["metrics"][source]
            factor, unit, kind = column_unit(col, meta["units"], meta["sem"])
            instances = _instances(col, source, cells)
            parts = [self._series(host, source, inst, meta, times, segment, cells) for inst in instances]
            frame[col.column] = pd.concat(parts, axis=1).sum(axis=1, min_count=1).to_numpy() * factor
            info = column_info(col, source, unit, kind, has_instances=instances != [None])
            infos.append(self.infos.setdefault(col.column, info))
        for info in derive_pcp(frame, infos)[len(infos):]:
            self.infos.setdefault(info.column, info)
        self.rows_out += len(frame)
        self.hosts.add(host)
        for day, part in frame.groupby(frame["timestamp"].dt.strftime("%Y-%m-%d"), sort=True):
            self.days.setdefault(day, []).append(part)

    def _series(self, host, source, inst, meta, times, segment, cells) -> pd.Series:
        """One metric instance over the archive's rows: rates for a counter, carried forward if discrete."""
        rows, vals = cells[(source, inst)]
        rows = np.asarray(rows)
        out = np.full(len(times), np.nan)
        key = (host, source, inst)
        if meta["sem"] != "counter":
            out[rows] = np.asarray(vals, dtype="float64")
            series = pd.Series(out)
            return series.ffill() if meta["sem"] == "discrete" else series
        integral = all(isinstance(v, int) and v >= 0 for v in vals)
        raw = np.array(vals, dtype=np.uint64 if integral else "float64")
        t, seg = times[rows], segment[rows]
        carried = self.carry.get(key)
        if carried is not None and seg[0] == 0 and carried[0] < t[0]:
            t = np.concatenate([[carried[0]], t])
            seg = np.concatenate([[0], seg])
            raw = np.concatenate([np.array([carried[1]], dtype=raw.dtype), raw])
        part = pd.DataFrame({"timestamp": pd.to_datetime(t, unit="s", utc=True), "component": seg, "v": raw})
        rates = counters_to_rates(part, ["v"], bits=meta["bits"], max_gap_s=self.max_gap_s)["v"].to_numpy()
        out[rows] = rates[len(t) - len(rows):]
        self.carry[key] = (float(times[rows[-1]]), vals[-1])
        return pd.Series(out)

    def flush(self, folder: Path, *, before: str | None) -> None:
        """Write each buffered day earlier than ``before`` (all days when None)."""
        flush_days(self.days, folder, self.meta(), before=before)

    def meta(self) -> dict:
        order = [c.column for c in PCP_METRICS] + ["cpu_busy_frac", "mem_used_bytes"]
        infos = sorted(self.infos.values(), key=lambda i: order.index(i.column))
        return {"table": "samples", "metrics": [i.to_dict() for i in infos], "source": "pcp", "bucket_s": self.bucket_s or 60}

    def counts(self, archives: int) -> dict[str, int]:
        return stream_counts(self, metrics=len(self.infos), source="PCP", archives=archives)


def _instances(col: PcpColumn, source: str, cells) -> list[str | None]:
    """The instances of ``source`` the column sums, by the map's rule."""
    have = [inst for name, inst in cells if name == source]
    if col.instances == "all":
        return have
    if col.instances == "!lo":
        return [i for i in have if i != "lo"]
    return [i for i in have if i == col.instances]
