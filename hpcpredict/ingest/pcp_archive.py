"""Write PCP archives (pmlogger's format) through PCP's own archive-writing library.

hpcpredict never writes the binary format itself: a child process runs PCP's ``pmpython`` on
:mod:`hpcpredict.ingest._pcp_write`, which calls ``pcp.pmi`` (PCP's LOGIMPORT library, what PCP's
own importers such as ``sar2pcp`` use), and this module streams it the metrics and records as JSON
lines. One child writes any number of archives, one after another. The simulator
(``simulate(..., monitoring="pcp")``) and ``benchmarks/bench_ingest_pcp.py`` write their archives
with it; :func:`hpcpredict.ingest.stream_pcp` reads them back like a site's pmlogger archives.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import HpcPredictError, InputFileError
from .pcp import _INSTALL, pcp_python

__all__ = ["PcpArchiveWriter", "PcpMetric", "PcpWriteError"]

_WRITER = Path(__file__).with_name("_pcp_write.py")


class PcpWriteError(HpcPredictError):
    """PCP's library refused to write an archive (its message is given)."""


@dataclass(frozen=True)
class PcpMetric:
    """One metric of an archive, as PCP describes it.

    Attributes
    ----------
    name : str
        PCP's name (``kernel.all.cpu.user``).
    type : str
        ``u64``, ``u32``, ``64``, ``32``, ``double`` or ``float``.
    semantics : str
        ``counter``, ``instant`` or ``discrete``.
    units : str
        ``byte``, ``Kbyte``, ``Mbyte``, ``millisec``, ``sec``, ``count`` or ``""``.
    instances : tuple of str, optional
        Instance names (``("hsn0", "lo")``); None for a metric without instances.
    """

    name: str
    type: str
    semantics: str
    units: str
    instances: tuple[str, ...] | None = None

    @property
    def width(self) -> int:
        """Values per record: one per instance, or one."""
        return 1 if self.instances is None else len(self.instances)


class PcpArchiveWriter:
    """Write PCP archives one after another, each opened with :meth:`start`.

    Examples
    --------
    >>> cpu = PcpMetric("kernel.all.cpu.user", "u64", "counter", "millisec")
    >>> with PcpArchiveWriter() as writer:  # doctest: +SKIP
    ...     writer.start("pcp/node01/20250106", host="node01", metrics=[cpu])
    ...     writer.write([1736121660, 1736121720], [np.array([1000, 61000])])
    """

    def __init__(self) -> None:
        pmpython, env = pcp_python()
        self._proc = subprocess.Popen([pmpython, "-I", str(_WRITER)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True, env=env)
        self._width = 0
        self._archive: Path | None = None
        self.archives: list[Path] = []
        self.records = 0

    def start(self, archive: str | os.PathLike[str], *, host: str, metrics: Sequence[PcpMetric], timezone: str = "UTC") -> None:
        """Begin the archive ``archive`` (a base name: ``archive.0``, ``.index`` and ``.meta`` are written)."""
        archive = Path(archive)
        archive.parent.mkdir(parents=True, exist_ok=True)
        spec = {"archive": str(archive), "host": host, "timezone": timezone,
                "metrics": [[m.name, m.type, m.semantics, m.units, list(m.instances) if m.instances is not None else None]
                            for m in metrics]}
        self._send(json.dumps(spec) + "\n")
        self._width = sum(m.width for m in metrics)
        self._archive = archive
        self.archives.append(archive)

    def write(self, times_s: Sequence[float] | np.ndarray, columns: Sequence[np.ndarray]) -> None:
        """Write one record per time: ``columns`` holds one array per (metric, instance), in the order
        of :meth:`start`'s metrics; NaN is no value (a discrete metric logged once, say)."""
        if len(columns) != self._width:
            raise ValueError(f"{self._archive}: {len(columns)} value columns for {self._width} metric instances")
        rows = zip(np.asarray(times_s).tolist(), zip(*(np.asarray(c).tolist() for c in columns)))
        self._send("".join(json.dumps([t, list(values)]) + "\n" for t, values in rows))
        self.records += len(times_s)

    def close(self) -> None:
        """End the last archive and wait for the child; raise if PCP refused anything."""
        if self._proc.stdin and not self._proc.stdin.closed:
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
        err = self._proc.stderr.read().strip()
        self._proc.stderr.close()
        rc = self._proc.wait()
        if rc == 3:
            raise InputFileError("pmpython", f"PCP's Python bindings are missing ({err}): {_INSTALL}")
        if rc != 0:
            raise PcpWriteError(err.splitlines()[-1] if err else f"pcp.pmi failed (exit status {rc})")

    def _send(self, text: str) -> None:
        try:
            self._proc.stdin.write(text)
        except BrokenPipeError:
            self.close()  # raises with the child's message
            raise PcpWriteError("pcp.pmi stopped reading") from None

    def __enter__(self) -> PcpArchiveWriter:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.close()
        else:  # already failing: stop the child without masking the error
            self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stderr):
                try:
                    stream.close()
                except (BrokenPipeError, OSError):
                    pass
