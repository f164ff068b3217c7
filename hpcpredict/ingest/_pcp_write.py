"""Write PCP archives from JSON lines on stdin, through PCP's own archive-writing library (``pcp.pmi``).

Run by :mod:`hpcpredict.ingest.pcp_archive` with PCP's ``pmpython`` (the Python PCP was built
for, which has the bindings), never imported by hpcpredict itself: this file uses only the
standard library and ``pcp``. Usage: ``pmpython _pcp_write.py < lines``.

Input, one JSON value per line:

1. an object starts an archive (and ends the one before): ``{"archive": base name, "host": name,
   "timezone": "UTC", "metrics": [[name, type, semantics, units, instances or null], ...]}`` with
   ``type`` one of ``u32 u64 32 64 float double``, ``semantics`` one of ``counter instant
   discrete`` and ``units`` one of ``byte Kbyte Mbyte millisec sec count`` or ``""``;
2. an array is one record of that archive: ``[time_s, [value, ...]]`` with one value per
   (metric, instance) in the order given (a metric without instances has one), ``null`` for none.

Errors go to stderr as one line naming the archive; the exit status is 3 when the bindings are
missing and 4 when an archive cannot be written.
"""

import json
import os
import sys

_TYPES = {"32": 0, "u32": 1, "64": 2, "u64": 3, "float": 4, "double": 5}
_SEMANTICS = {"counter": 1, "instant": 3, "discrete": 4}


def _units(pmi, c, name):
    """pmiUnits for PCP's unit names (as pmUnitsStr prints them)."""
    table = {
        "byte": (1, 0, 0, c.PM_SPACE_BYTE, 0, 0),
        "Kbyte": (1, 0, 0, c.PM_SPACE_KBYTE, 0, 0),
        "Mbyte": (1, 0, 0, c.PM_SPACE_MBYTE, 0, 0),
        "millisec": (0, 1, 0, 0, c.PM_TIME_MSEC, 0),
        "sec": (0, 1, 0, 0, c.PM_TIME_SEC, 0),
        "count": (0, 0, 1, 0, 0, c.PM_COUNT_ONE),
        "": (0, 0, 0, 0, 0, 0),
    }
    return pmi.pmiLogImport.pmiUnits(*table[name])


class _Archive:
    """One archive being written: its metrics declared, a value handle per (metric, instance)."""

    def __init__(self, pmi, c, spec):
        self.path = spec["archive"]
        self.log = pmi.pmiLogImport(self.path)
        self.log.pmiSetHostname(spec["host"])
        self.log.pmiSetTimezone(spec.get("timezone", "UTC"))
        self.handles = []
        for item, (name, typ, sem, units, instances) in enumerate(spec["metrics"]):
            indom = c.PM_INDOM_NULL
            if instances is not None:
                indom = self.log.pmiInDom(245, item)
                for i, inst in enumerate(instances):
                    self.log.pmiAddInstance(indom, inst, i)
            pmid = self.log.pmiID(245, item // 1024, item % 1024)
            self.log.pmiAddMetric(name, pmid, _TYPES[typ], indom, _SEMANTICS[sem], _units(pmi, c, units))
            whole = typ not in ("float", "double")  # a column with gaps comes as floats: 2.0 → "2"
            for inst in instances if instances is not None else [""]:
                self.handles.append((self.log.pmiGetHandle(name, inst), whole))

    def record(self, time_s, values):
        for (handle, whole), value in zip(self.handles, values):
            if value is not None and value == value:  # None or NaN: no value in this record
                self.log.pmiPutValueHandle(handle, str(int(value)) if whole else repr(float(value)))
        sec = int(time_s)
        self.log.pmiWrite(sec, int(round((time_s - sec) * 1e6)))

    def end(self):
        self.log.pmiEnd()
        # pmiLogImport.__del__ ends "the current context": once another archive is open that is the
        # other one. Ended writers are kept until the process leaves without running __del__.
        _ENDED.append(self.log)


_ENDED = []


def main():
    try:
        from pcp import pmi
        import cpmapi as c
    except ImportError as exc:
        sys.stderr.write(f"PCP's Python bindings are missing: {exc}\n")
        return 3
    archive, path = None, "archive"
    try:
        for line in sys.stdin:
            item = json.loads(line)
            if isinstance(item, dict):
                if archive is not None:
                    archive.end()
                path = item["archive"]
                archive = _Archive(pmi, c, item)
            else:
                archive.record(item[0], item[1])
        if archive is not None:
            archive.end()
    except pmi.pmiErr as exc:
        sys.stderr.write(f"{path}: {exc} ({type(exc).__name__} {exc.args})\n")
        return 4
    return 0


if __name__ == "__main__":
    status = main()
    sys.stderr.flush()
    os._exit(status)  # see _Archive.end: no pmiLogImport.__del__ may run
