"""Atomic writes: a reader sees either the old file or the complete new one, never a half file.

Each writer writes into a temporary sibling in the same directory and renames it over the target
with :func:`os.replace`, which is atomic on POSIX file systems.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["atomic_path", "atomic_dir", "write_parquet", "read_parquet_metadata", "write_json"]


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; move it onto ``target`` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextmanager
def atomic_dir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory; it replaces ``target`` only if the block succeeds.

    An existing ``target`` is moved aside first and removed after the swap, so an interrupted run
    leaves either the old directory or the new one.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_parquet(df: pd.DataFrame, path: str | os.PathLike[str], *, metadata: dict | None = None) -> Path:
    """Write ``df`` to Parquet atomically, with optional JSON ``metadata`` under the key ``hpcpredict``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    plain = df.copy(deep=False)
    plain.attrs = {}  # our metadata travels below, as JSON; pandas' own would choke on timestamps
    table = pa.Table.from_pandas(plain, preserve_index=False)
    if metadata is not None:
        meta = dict(table.schema.metadata or {})
        meta[b"hpcpredict"] = json.dumps(metadata).encode()
        table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def read_parquet_metadata(path: str | os.PathLike[str]) -> dict | None:
    """Return the ``hpcpredict`` metadata stored by :func:`write_parquet`, or None."""
    import pyarrow.parquet as pq

    # File-level key-value metadata: it holds the schema's metadata, and also what a streaming
    # ParquetWriter adds at the end (``add_key_value_metadata``), which the schema lacks.
    meta = pq.read_metadata(path).metadata or {}
    raw = meta.get(b"hpcpredict")
    return None if raw is None else json.loads(raw)


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=str) + "\n")
    return Path(path)
