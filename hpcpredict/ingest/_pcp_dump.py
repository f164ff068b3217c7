"""Print one PCP archive's records as JSON lines, through PCP's own Python bindings (``pcp.pmapi``).

Run by :mod:`hpcpredict.ingest.pcp` with PCP's ``pmpython`` (the Python PCP was built for, which
has the bindings), never imported by hpcpredict itself: this file uses only the standard library
and ``pcp``. Usage: ``pmpython _pcp_dump.py ARCHIVE METRIC...``, or
``pmpython _pcp_dump.py --labels ARCHIVE...`` to print each archive's ``{"archive", "host",
"start", "end"}`` on its own line (the archives are then read in time order).

Output, one JSON value per line:

1. a header ``{"host", "start", "end", "timezone", "metrics": {name: {"sem", "units", "bits"}},
   "missing": [names the archive does not hold]}``;
2. one line per archive record, in order: ``[time_s, n_metrics_in_record, [[metric, instance,
   value], ...]]`` with only the requested metrics' values (``instance`` is null for a metric
   without instances); a ``<mark>`` record (pmlogger stopped: a gap) has ``n_metrics_in_record`` 0;
3. ``{"records": n}`` after the last record.

Errors go to stderr as one line (with ``--labels``, prefixed by the archive); the exit status is 3 when the bindings are missing and 4 when
the archive cannot be read (missing or damaged file).
"""

import json
import sys

_SEMANTICS = {1: "counter", 3: "instant", 4: "discrete"}


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _labels(archives, out):
    from pcp import pmapi
    import cpmapi as c

    for archive in archives:
        try:
            ctx = pmapi.pmContext(c.PM_CONTEXT_ARCHIVE, archive)
            label = ctx.pmGetArchiveLabel()
            end = float(ctx.pmGetArchiveEnd())
        except pmapi.pmErr as exc:
            raise SystemExit(_fail(f"{archive}: {_message(exc)}"))
        out.write(json.dumps({"archive": archive, "host": _text(label.hostname), "start": float(label.start), "end": end}) + "\n")
        del ctx


def _message(exc):
    return exc.message() if hasattr(exc, "message") else str(exc)


def _fail(line):
    sys.stderr.write(line + "\n")
    return 4


def _dump(archive, names, out):
    from ctypes import POINTER, cast

    from pcp import pmapi
    import cpmapi as c

    ctx = pmapi.pmContext(c.PM_CONTEXT_ARCHIVE, archive)
    label = ctx.pmGetArchiveLabel()
    wanted, missing = {}, []
    for name in names:
        try:
            (pmid,) = ctx.pmLookupName(name)
        except pmapi.pmErr:
            missing.append(name)
            continue
        (desc,) = ctx.pmLookupDescs(pmid)
        if desc.type not in (c.PM_TYPE_32, c.PM_TYPE_U32, c.PM_TYPE_64, c.PM_TYPE_U64, c.PM_TYPE_FLOAT, c.PM_TYPE_DOUBLE):
            missing.append(name)
            continue
        wanted[pmid] = (name, desc)
    header = {
        "host": _text(label.hostname),
        "start": float(label.start),
        "end": float(ctx.pmGetArchiveEnd()),
        "timezone": _text(label.tz),
        "metrics": {
            name: {
                "sem": _SEMANTICS.get(desc.sem, "instant"),
                "units": ctx.pmUnitsStr(desc.units),
                "bits": 32 if desc.type in (c.PM_TYPE_32, c.PM_TYPE_U32) else 64,
            }
            for name, desc in wanted.values()
        },
        "missing": missing,
    }
    out.write(json.dumps(header) + "\n")
    instance_names = {}
    records = 0
    while True:
        try:
            result = ctx.pmFetchArchive()
        except pmapi.pmErr as exc:
            if exc.args and exc.args[0] == c.PM_ERR_EOL:
                break
            raise
        r = result.contents
        values = []
        # one cast per record and per metric: pmResult's get_* helpers cast again for every value
        vsets = cast(r.vset, POINTER(POINTER(pmapi.pmValueSet)))
        for i in range(r.numpmid):
            vset = vsets[i].contents
            if vset.pmid not in wanted:
                continue
            name, desc = wanted[vset.pmid]
            vlist = cast(vset.vlist, POINTER(pmapi.pmValue))
            for j in range(vset.numval):
                value = vlist[j]
                inst = value.inst
                if desc.indom == c.PM_INDOM_NULL:
                    inst_name = None
                else:
                    key = (desc.indom, inst)
                    if key not in instance_names:
                        try:
                            instance_names[key] = ctx.pmNameInDomArchive(desc, inst)
                        except pmapi.pmErr:
                            instance_names[key] = str(inst)
                    inst_name = instance_names[key]
                atom = ctx.pmExtractValue(vset.valfmt, value, desc.type, desc.type)
                values.append([name, inst_name, atom.dref(desc.type)])
        out.write(json.dumps([float(r.timestamp), r.numpmid, values]) + "\n")
        records += 1
        ctx.pmFreeResult(result)
    out.write(json.dumps({"records": records}) + "\n")


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: pmpython _pcp_dump.py ARCHIVE METRIC...\n")
        return 4
    try:
        from pcp import pmapi
    except ImportError as exc:
        sys.stderr.write(f"PCP's Python bindings are missing ({exc})\n")
        return 3
    out = sys.stdout
    try:
        if argv[0] == "--labels":
            _labels(argv[1:], out)
        else:
            _dump(argv[0], argv[1:], out)
    except pmapi.pmErr as exc:
        return _fail(_message(exc))
    except BrokenPipeError:
        return 4
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
