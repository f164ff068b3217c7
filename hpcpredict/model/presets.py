"""Settings for public per-job tables: which columns are features and which restate the target.

TOKIO "A Year in the Life of a Parallel File System" (Lockwood et al., SC'18; NERSC/LBNL, BSD
licence): one row per benchmark run on NERSC Cori, with the Darshan I/O profile of the run and the
state of the Lustre file system, the OSTs, the batch system and the network placement around it.
The target is ``darshan_agg_perf_by_slowest_posix``, the run's I/O bandwidth (MiB/s).
"""

from __future__ import annotations

import os

import pandas as pd

__all__ = ["TOKIO_EXCLUDE", "TOKIO_FORECAST_EXCLUDE", "TOKIO_KEPT_DARSHAN", "TOKIO_TARGET", "read_tokio_cori"]

#: The I/O bandwidth each TOKIO run achieved, MiB/s.
TOKIO_TARGET = "darshan_agg_perf_by_slowest_posix"

#: The Darshan columns that describe the job's configuration rather than its measured I/O: the
#: API and file system of its largest read and write, its process count and the bytes it moves
#: (fixed by each benchmark's input). (The application is ``app`` and ``node_type``, see
#: :func:`read_tokio_cori`.)
TOKIO_KEPT_DARSHAN = ("nprocs", "biggest_read_api", "biggest_write_api", "biggest_read_fs", "biggest_write_fs", "tot_bytes_read_posix", "tot_bytes_written_posix")

#: Columns that are not features of a TOKIO model (regular expressions for ``exclude``).
#:
#: - every other Darshan column restates the measured I/O: read/write/metadata times, op and
#:   per-file counters, walltime, start/end times, ``darshan_total_gibs_posix`` (a copy of the
#:   bytes) and the bandwidth itself; ``darshan_app`` is replaced by ``app`` and ``node_type``;
#: - the job's end time and id, and the OST-health sampling timestamps;
#: - totals over the job's window (``fs_tot_*``, ``jobsdb_concurrent_nodehrs``): they grow with the
#:   job's duration, and a slow job lasts longer for the same bytes, so they restate the target.
TOKIO_EXCLUDE = (
    r"^darshan_(?!(" + "|".join(TOKIO_KEPT_DARSHAN) + r")$)",
    r"^_datetime_end$",
    r"^_jobid$",
    r"^fshealth_ost_.*timestamp$",
    r"^fs_tot_",
    r"^jobsdb_concurrent_nodehrs$",
)

#: :data:`TOKIO_EXCLUDE` and every Lustre server-side rate (``fs_*``). Those are averaged over the
#: job's own window and include its own traffic: they explain a run after the fact but are not known
#: when it is submitted. What is left is known at the start: configuration, OST fullness and
#: failover state, concurrent jobs and nodes, and placement on the network.
TOKIO_FORECAST_EXCLUDE = (*TOKIO_EXCLUDE, r"^fs_")


def read_tokio_cori(path: str | os.PathLike[str], *, nrows: int | None = None) -> pd.DataFrame:
    """Read the TOKIO Cori summaries with the application as a name, not an install path.

    ``darshan_app`` is an executable path (``.../bin.cori-knl/ior``); the application is its last
    part (``ior``, ``hacc_io_read``, ``hacc_io_write``, ``vpicio_uni``, ``dbscan_read``) and the node
    type (``knl``, ``haswell``) is a separate column, so leaving one application out leaves out
    both of its builds. Burst-buffer mount paths, which hold the job id, become ``datawarp``.

    Examples
    --------
    >>> table = read_tokio_cori("cori-summaries_2017-02-14-2018-02-15.csv.gz")  # doctest: +SKIP
    >>> hpcpredict.train(table, "io-model/", target=TOKIO_TARGET, time="_datetime_start", app="app",
    ...                  exclude=TOKIO_EXCLUDE, objective="relative")  # doctest: +SKIP
    """
    frame = pd.read_csv(path, index_col=0, nrows=nrows, low_memory=False).copy()  # one block: adding columns then does not warn
    exe = frame["darshan_app"].astype("string")
    fs = {col: frame[col].astype("string").str.replace(r"^/var/opt/cray/dws/mounts/.*$", "datawarp", regex=True) for col in ("darshan_biggest_read_fs", "darshan_biggest_write_fs")}
    return frame.assign(app=exe.str.rsplit("/", n=1).str[-1], node_type=exe.str.extract(r"bin\.cori-(\w+)/", expand=False), **fs)
