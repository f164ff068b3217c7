"""Lines cut by a delimiter that a free-text field contains.

``sacct --parsable2`` and ``squeue --format`` never escape their delimiter: a job named
``a|b`` adds a field to its line. Such a line is repaired when putting the extra pieces back into
exactly one free-text column (JobName, Comment, SubmitLine, WorkDir, ...) gives a line whose other
fields all look like what Slurm prints there; otherwise it stays bad, with the reason.
"""

from __future__ import annotations

import re

__all__ = ["FREE_TEXT", "repair_fields"]

#: Columns a user writes freely (normalised: lower case, no ``_``); only these may hold the delimiter.
FREE_TEXT = frozenset({
    "jobname", "name", "comment", "admincomment", "systemcomment", "submitline", "workdir", "command",
    "constraints", "features", "container", "stdout", "stderr", "stdin", "reservation",
})

_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d|Unknown|None|N/A|\d+|"
_DURATION = r"UNLIMITED|Partition_Limit|INVALID|NOT_SET|N/A|(\d+-)?[\d:.]*"
_COUNT = r"\d*"
_MEMORY = r"[\d.]*[KMGTP]?[nc]?"
_NAME = r"[\w.@$+-]*"
#: What each typed field looks like in sacct and squeue output (normalised names).
_SHAPES = {
    **dict.fromkeys(("jobid", "jobidraw", "arrayjobid"), r"\d[\w.+\[\]%,-]*"),
    **dict.fromkeys(("submit", "eligible", "start", "end", "submittime", "starttime", "endtime"), _TIME),
    **dict.fromkeys(("elapsed", "timelimit", "totalcpu", "cputime", "timeleft", "time"), _DURATION),
    **dict.fromkeys(("reqnodes", "nnodes", "allocnodes", "reqcpus", "alloccpus", "ncpus", "nodes", "cpus",
                     "priority", "elapsedraw", "timelimitraw"), _COUNT),
    **dict.fromkeys(("reqmem", "maxrss", "maxvmsize", "averss", "maxdiskread", "maxdiskwrite", "minmemory"), _MEMORY),
    **dict.fromkeys(("user", "group", "account", "qos", "cluster", "username"), _NAME),
    "partition": r"[\w.,-]*",
    "state": r"([A-Z_]+( by \d+)?)?",
    **dict.fromkeys(("exitcode", "derivedexitcode"), r"(-?\d+:\d+)?"),
    **dict.fromkeys(("reqtres", "alloctres", "tresalloc", "tresperjob", "trespernode", "tresreq"),
                    r"N/A|(\(null\))?|([\w/:]+=[\w.]+,?)*"),
    "nodelist": r"[\w\[\],.() -]*",
}
_COMPILED = {name: re.compile(shape) for name, shape in _SHAPES.items()}


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "")


def repair_fields(fields: list[str], names: list[str], delimiter: str = "|") -> tuple[list[str] | None, str]:
    """Put a line's surplus fields back into the one free-text column they can belong to.

    Parameters
    ----------
    fields : list of str
        The line cut at every delimiter (more pieces than ``names``).
    names : list of str
        The header's column names.
    delimiter : str
        What the line was cut at, put back between the rejoined pieces.

    Returns
    -------
    (fields, reason)
        The repaired fields and ``""``, or None and why the line cannot be repaired.

    Examples
    --------
    >>> repair_fields(["7", "a", "b", "COMPLETED"], ["JobID", "JobName", "State"])
    (['7', 'a|b', 'COMPLETED'], '')
    >>> repair_fields(["7", "a", "b"], ["JobID", "State"])[1]
    "expected 2 fields, found 3, and no free-text column (JobName, Comment, WorkDir, ...) to hold the extra '|'"
    """
    extra = len(fields) - len(names)
    normal = [_normal(n) for n in names]
    free = [i for i, n in enumerate(normal) if n in FREE_TEXT]
    found = f"expected {len(names)} fields, found {len(fields)}"
    if extra <= 0 or not free:
        return None, found + (f", and no free-text column (JobName, Comment, WorkDir, ...) to hold the extra {delimiter!r}"
                              if extra > 0 else "")
    fits = []
    for i in free:
        merged = fields[:i] + [delimiter.join(fields[i:i + extra + 1])] + fields[i + extra + 1:]
        if all(_looks_right(normal[j], merged[j]) for j in range(len(names)) if j not in free):
            fits.append(merged)
    if len(fits) == 1:
        return fits[0], ""
    if not fits:
        return None, f"{found}: the extra {delimiter!r} fits no free-text column"
    columns = ", ".join(names[i] for i in free)
    return None, f"{found}: the extra {delimiter!r} could belong to more than one of {columns}"


def _looks_right(name: str, value: str) -> bool:
    shape = _COMPILED.get(name)
    return shape is None or shape.fullmatch(value.strip()) is not None
