"""Readers: one module per input format, one public ``read_*`` function each.

Every reader returns an :class:`IngestResult` holding the canonical jobs table
(:mod:`hpcpredict.schema`), the quarantined lines with their reasons, and counts that reconcile.
:func:`ingest` is the verb behind ``hpcpredict ingest FORMAT``: read, then write atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from .._outputs import check_output
from ..errors import ParameterError
from .pbs import read_pbs
from .result import IngestResult, Quarantine, StreamStats, quarantine_path, read_quarantine, write_ingest_result, write_stream
from .slurm import read_sacct, stream_sacct
from .swf import read_swf
from ._samples import SamplesResult, write_samples
from .ldms import read_ldms
from .ldms_stream import stream_ldms
from .pcp import stream_pcp
from .samples import read_samples, read_topology
from .table import PRESETS, read_table

__all__ = [
    "PRESETS",
    "READERS",
    "SAMPLE_READERS",
    "STREAMERS",
    "IngestResult",
    "Quarantine",
    "SamplesResult",
    "ingest",
    "ingest_samples",
    "quarantine_path",
    "read_ldms",
    "stream_ldms",
    "stream_pcp",
    "read_pbs",
    "read_quarantine",
    "read_sacct",
    "read_samples",
    "read_swf",
    "read_table",
    "read_topology",
    "write_ingest_result",
    "write_samples",
]

#: Format name → reader. A new format is one new module and one line here.
READERS: dict[str, Callable[..., IngestResult]] = {
    "swf": read_swf,
    "sacct": read_sacct,
    "pbs": read_pbs,
    "table": read_table,
}

#: Formats whose dumps can be large: ``ingest`` writes their blocks as they are read, so memory
#: stays bounded (format name → ``stream(paths, stats, **options)`` yielding (jobs, quarantine)).
STREAMERS: dict[str, Callable] = {
    "sacct": stream_sacct,
}


def ingest(
    fmt: str,
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    **options,
) -> dict[str, int]:
    """Read accounting files of format ``fmt`` and write the jobs table to ``output``.

    The quarantine table goes beside it (``jobs.quarantine.parquet`` for ``jobs.parquet``).

    Parameters
    ----------
    fmt : str
        A key of :data:`READERS`, e.g. ``"swf"``.
    paths : path or sequence of paths
        Input files.
    output : path
        The jobs Parquet file to write.
    **options
        Passed to the reader (e.g. ``strict=True``).

    Returns
    -------
    dict
        The counts: ``lines_read``, ``jobs``, ``quarantined``, ``duplicates_merged``.

    Examples
    --------
    >>> ingest("swf", "data/kth-sp2/KTH-SP2-1996-2.1-cln.swf.gz", "out/jobs.parquet")  # doctest: +SKIP
    {'lines_read': 28476, 'jobs': 28476, 'quarantined': 0, 'duplicates_merged': 0}
    """
    try:
        reader = READERS[fmt]
    except KeyError:
        raise ParameterError("fmt", f"one of {sorted(READERS)}", fmt) from None
    check_output(output, folder=False, inputs=[paths, options.get("mapping")], companions=[quarantine_path(output)])
    if fmt in STREAMERS:
        stats = StreamStats()
        return write_stream(STREAMERS[fmt](paths, stats, **options), stats, output, fmt=fmt)
    result = reader(paths, **options)
    return write_ingest_result(result, output)


#: Monitoring format name → samples reader (returns a :class:`SamplesResult`).
SAMPLE_READERS: dict[str, Callable[..., SamplesResult]] = {
    "ldms": read_ldms,
    "samples": read_samples,
}


#: Monitoring formats written to their folder in bounded memory (same folder as the reader's).
SAMPLE_STREAMERS: dict[str, Callable[..., dict[str, int]]] = {"ldms": stream_ldms, "pcp": stream_pcp}


def ingest_samples(
    fmt: str,
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    **options,
) -> dict[str, int]:
    """Read node monitoring files of format ``fmt`` and write the samples folder ``output_dir``.

    The quarantine table goes beside it (``samples.quarantine.parquet`` for ``samples/``). LDMS
    files are streamed (:func:`stream_ldms`): memory holds about one roll-over file per sampler and
    one day of output, however long the record.

    Examples
    --------
    >>> ingest_samples("ldms", ["ldms/"], "samples/")  # doctest: +SKIP
    {'lines_read': 42, 'records': 40, 'quarantined': 2, 'duplicates_merged': 0, 'samples': 10, 'hosts': 2, 'metrics': 22}
    """
    if fmt not in SAMPLE_READERS and fmt not in SAMPLE_STREAMERS:
        raise ParameterError("fmt", f"one of {sorted({*SAMPLE_READERS, *SAMPLE_STREAMERS})}", fmt)
    check_output(output_dir, folder=True, inputs=[paths], companions=[quarantine_path(output_dir)])
    if fmt in SAMPLE_STREAMERS:
        return SAMPLE_STREAMERS[fmt](paths, output_dir, **options)
    return SAMPLE_READERS[fmt](paths, output_dir, **options).counts


from .._verbs import make_callable  # noqa: E402  (last: the module must be complete)

make_callable(__name__)
