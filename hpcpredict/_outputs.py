"""Where a command may write: an output replaces only what hpcpredict itself wrote there before.

Every public function that writes (``ingest``, ``features``, ``train``, ``predict``, ``explain``,
``report``, ``simulate``, ``demo``) calls :func:`check_output` before it reads anything. An output
path is accepted when nothing is there, when it is an empty folder or an empty file, or when it
is an output hpcpredict wrote: a folder holding the :data:`MARKER` file, a Parquet file carrying
hpcpredict's metadata, an HTML report or a PNG figure hpcpredict stamped. Everything else is
refused with one line (:class:`~hpcpredict.errors.OutputPathError`, exit status 2): a folder or
file of anything else, a file where a folder goes and the reverse, a special file (``/dev/null``),
an output that is one of the inputs, holds an input, lies inside an input folder, or holds the
current folder.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import OutputPathError

__all__ = ["MARKER", "PNG_STAMP", "HTML_STAMP", "check_output", "is_own_output", "write_marker"]

#: The file every output folder holds: what wrote it, and what kind of output it is.
MARKER = ".hpcpredict-output"
#: The tag a report carries in its head.
HTML_STAMP = '<meta name="generator" content="hpcpredict">'
#: The PNG text chunk key/value a figure carries (``savefig(metadata={"Software": ...})``).
PNG_STAMP = "hpcpredict"

PathLike = str | os.PathLike[str]


def write_marker(folder: PathLike, kind: str) -> None:
    """Mark ``folder`` as an output of hpcpredict (``kind``: bundle, samples, simulation, ...)."""
    from ._version import __version__

    (Path(folder) / MARKER).write_text(json.dumps({"written_by": "hpcpredict", "version": __version__, "kind": kind}) + "\n")


def is_own_output(path: PathLike) -> bool:
    """True when ``path`` is a folder or file that hpcpredict wrote (see the module's docstring).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> is_own_output(folder), (folder / "thesis.tex").write_text("x"), is_own_output(folder)
    (False, 1, False)
    >>> write_marker(folder, "bundle"); is_own_output(folder)
    True
    """
    path = Path(path)
    if path.is_dir():
        return (path / MARKER).is_file()
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return _parquet_is_own(path)
    if head.startswith(b"\x89PNG"):
        return b"Software\x00" + PNG_STAMP.encode() in head
    return HTML_STAMP.encode() in head


def _parquet_is_own(path: Path) -> bool:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path).metadata or {}
    except Exception:  # a damaged Parquet file is nobody's output we can vouch for
        return False
    return b"hpcpredict" in meta


def check_output(
    output: PathLike,
    *,
    folder: bool,
    inputs: Iterable[PathLike | None] = (),
    companions: Iterable[PathLike] = (),
) -> Path:
    """Refuse an output path that would destroy anything hpcpredict did not write; return it.

    Parameters
    ----------
    output : path
        Where the command writes.
    folder : bool
        Whether the output is a folder (a bundle, a samples folder) or one file.
    inputs : paths
        What the command reads; the output may be none of them, hold none of them, and lie
        inside none of the input folders. ``None`` entries are skipped.
    companions : paths
        Files written beside ``output`` (a jobs table's quarantine): checked the same way.

    Raises
    ------
    OutputPathError
        Naming the path and why it is refused.

    Examples
    --------
    >>> check_output("/dev/null", folder=False)
    Traceback (most recent call last):
    ...
    hpcpredict.errors.OutputPathError: refusing to write /dev/null: it is a special file (device, pipe or socket), not a file hpcpredict wrote
    """
    output = Path(output)
    inputs = _paths(inputs)
    for path, is_folder in ((output, folder), *((Path(c), False) for c in companions)):
        _check_not_input(path, inputs, folder=is_folder)
        _check_kind(path, folder=is_folder)
    if folder:
        here = Path.cwd().resolve()
        resolved = output.resolve()
        if here == resolved or resolved in here.parents:
            raise OutputPathError(output, "it is the current folder or holds it")
    return output


def _paths(given: Iterable) -> list[Path]:
    """The path-like entries of ``given`` (a list of paths counts entry by entry); frames, bundles
    and None pass through unchecked."""
    out: list[Path] = []
    for item in given:
        if isinstance(item, (str, os.PathLike)):
            out.append(Path(item))
        elif isinstance(item, (list, tuple)):
            out.extend(_paths(item))
    return out


def _check_kind(path: Path, *, folder: bool) -> None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        _check_parent(path)
        return
    except OSError as exc:
        raise OutputPathError(path, f"it cannot be inspected ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        if not folder:
            raise OutputPathError(path, "it is a folder; this output is one file")
        if not any(os.scandir(path)) or is_own_output(path):
            return
        names = sorted(os.listdir(path))
        raise OutputPathError(path, f"it is a folder hpcpredict did not write (it holds {len(names)} entries, e.g. {names[0]!r}); give a new or empty folder")
    if not stat.S_ISREG(info.st_mode):
        raise OutputPathError(path, "it is a special file (device, pipe or socket), not a file hpcpredict wrote")
    if folder:
        raise OutputPathError(path, "it is a file; this output is a folder")
    if info.st_size and not is_own_output(path):
        raise OutputPathError(path, "it is a file hpcpredict did not write; give a new path")


def _check_parent(path: Path) -> None:
    parent = path.absolute().parent
    while not parent.exists():
        if parent == parent.parent:
            return
        parent = parent.parent
    if not parent.is_dir():
        raise OutputPathError(path, f"{parent} is not a folder")


def _check_not_input(path: Path, inputs: list[Path], *, folder: bool) -> None:
    resolved = path.resolve()
    for given in inputs:
        source = given.resolve()
        if source == resolved or (path.exists() and given.exists() and os.path.samefile(path, given)):
            raise OutputPathError(path, f"it is also an input ({given})")
        if folder and resolved in source.parents:
            raise OutputPathError(path, f"it holds the input {given}")
        if source.is_dir() and source in resolved.parents:
            raise OutputPathError(path, f"it lies inside the input folder {given}")
