"""Atomic writes: a reader sees either the old output or the complete new one, never a half one.

Each writer writes into a temporary sibling in the same directory and renames it over the target
with :func:`os.replace` (a folder is swapped with ``renameat2(RENAME_EXCHANGE)`` where the kernel
has it), which is atomic on POSIX file systems. Temporary siblings are named
``.<target>.hpcp-<pid>-<random>.<part|records|old>``: a later write to the same target removes
those of a process that no longer runs (a killed run), and puts back an old folder that a killed
swap had moved aside.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from ._outputs import write_marker

__all__ = [
    "atomic_dir",
    "atomic_files",
    "atomic_path",
    "read_parquet_metadata",
    "remove_stale",
    "temp_sibling",
    "write_json",
    "write_parquet",
]


def temp_sibling(target: str | os.PathLike[str], suffix: str, *, folder: bool = False) -> Path:
    """Create an empty temporary file (or folder) beside ``target`` named after it and this process."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix, where = f".{target.name}.hpcp-{os.getpid()}-", target.parent
    if folder:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=where))
        os.chmod(tmp, 0o777 & ~_umask())
        return tmp
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=where)
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    return Path(name)


def remove_stale(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary siblings of ``target`` left by processes that no longer run.

    An old folder that a killed swap had moved aside (``.old``) is put back when ``target`` is
    missing, so a kill never loses the previous output. Returns what was removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".jobs.parquet.hpcp-999999999-x.part").write_text("half")
    >>> [p.name for p in remove_stale(folder / "jobs.parquet")]
    ['.jobs.parquet.hpcp-999999999-x.part']
    """
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.hpcp-(\d+)-.*\.(part|records|old)$")
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        path = Path(entry.path)
        if match.group(2) == "old" and not os.path.lexists(target):
            os.replace(path, target)
            continue
        _remove(path)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid < 2**22  # another user's live process; an impossible pid is dead
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; move it onto ``target`` only if the block succeeds."""
    with atomic_files(target) as (tmp,):
        yield tmp


@contextmanager
def atomic_files(*targets: str | os.PathLike[str]) -> Iterator[tuple[Path, ...]]:
    """Yield one temporary path per target; if the block succeeds, rename them in order.

    The last target is the commit point: a caller pairing files (a jobs table and its
    quarantine) puts the one that names the others last, so a kill between renames leaves that
    one old and the pair visibly mismatched rather than silently mixed.
    """
    paths = [Path(t) for t in targets]
    for path in paths:
        remove_stale(path)
    tmps = tuple(temp_sibling(path, ".part") for path in paths)
    try:
        yield tmps
        for tmp, path in zip(tmps, paths):
            os.replace(tmp, path)
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(target: str | os.PathLike[str], *, kind: str = "output") -> Iterator[Path]:
    """Yield a temporary directory; it replaces ``target`` only if the block succeeds.

    The new folder gets the :data:`~hpcpredict._outputs.MARKER` of ``kind``, so a later run
    recognises it as hpcpredict's own. The old folder stays in place until the new one is
    complete, and the two are exchanged in one step where the kernel allows it; otherwise the old
    one is moved aside first and a later run puts it back if this one was killed in between.
    """
    target = Path(target)
    remove_stale(target)
    tmp = temp_sibling(target, ".part", folder=True)
    try:
        yield tmp
        write_marker(tmp, kind)
        if not os.path.lexists(target):
            os.replace(tmp, target)
        elif not _exchange(tmp, target):
            old = temp_sibling(target, ".old", folder=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_parquet(df: pd.DataFrame, path: str | os.PathLike[str], *, metadata: dict | None = None) -> Path:
    """Write ``df`` to Parquet atomically, with JSON ``metadata`` under the key ``hpcpredict``.

    The key is always written (``{}`` without ``metadata``): it is how a later ``-o`` recognises
    the file as hpcpredict's own output.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .metadata import without_metadata

    table = pa.Table.from_pandas(without_metadata(df), preserve_index=False)  # ours travels below, as JSON
    meta = dict(table.schema.metadata or {})
    meta[b"hpcpredict"] = json.dumps(metadata or {}).encode()
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
    """Write ``obj`` as indented JSON atomically (result objects inside as their ``to_dict()``)."""
    from ._results import jsonable

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=jsonable) + "\n")
    return Path(path)
