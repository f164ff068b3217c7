"""Fuzzing the readers with mutations of the real fixtures in tests/data (slow tier).

Each case mutates a fixture (a field set to a hostile value, a field dropped or added, a line cut,
bytes inserted, lines repeated or swapped; the whole file with CR or CRLF line ends, a BOM, or
gzip-compressed, truncated or with a flipped byte) and ingests it. A case passes when the reader
either writes its tables or refuses with a one-line :class:`HpcPredictError` (exit 2 at the CLI),
never anything else (a traceback); when the lines read reconcile with jobs + quarantined + merged;
and when every row of the jobs table keeps the plausibility rules of :mod:`hpcpredict.schema`.

``HPCP_FUZZ_REPORT=<folder>`` writes each reader's counts there as JSON.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpcpredict.errors import HpcPredictError
from hpcpredict.ingest import ingest, ingest_samples, read_quarantine
from hpcpredict.schema import implausible, plausibility

from conftest import DATA

pytestmark = pytest.mark.slow

#: Values a field may be set to: overflow, dates no timestamp holds, words where numbers go, the
#: separators of every format, control characters, very long text.
HOSTILE = [
    "", "-1", "-999999", "0", "-0", "+5", "9" * 400, "1e308", "-1e308", "1e999", "inf", "-inf", "nan", "NaN",
    "9999999999", "99999999999", "99999999999999", "18446744073709551615", "18446744073709551616", "0x1F", "1_000",
    "9999-12-31T23:59:59", "1900-01-01T00:00:00", "0000-00-00T00:00:00", "2023-02-30T25:61:61", "2023-03-01T08:00:00+99:00",
    "03/05/9999 08:00:03", "UNLIMITED", "Unknown", "None", "CANCELLED by 0", "WEIRD", "1-00:00:00", "99999999-99:99:99",
    "4000Mc", "1e308G", "-5G", "billing=-1,cpu=1e400", "nid[0001-99999999]", "nid[", "|", ",", ";", "=", "\r", "\t",
    "\ufeff", "\u00e9t\u00e9", "x" * 5000, "#Time", "{1,2,3}", "-1 -1 -1",
]
SEPARATORS = {"swf": r"\s+", "sacct": r"\|", "pbs": r"[; =]", "table": ",", "ldms": ","}

CASES = {"swf": 150, "sacct": 150, "pbs": 110, "table": 110, "ldms": 60}


def _field_op():
    return st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(HOSTILE))


_line_ops = st.one_of(
    _field_op(),
    _field_op(),
    st.tuples(st.just("drop"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.integers(0, 10**6)),
    st.tuples(st.just("bytes"), st.integers(0, 10**6), st.integers(0, 10**6), st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("repeat"), st.integers(0, 10**6)),
    st.tuples(st.just("swap"), st.integers(0, 10**6), st.integers(0, 10**6)),
)
_file_ops = st.sampled_from(["none", "none", "none", "cr", "crlf", "bom", "gzip", "gzip-cut", "gzip-flip"])
mutations = st.tuples(st.lists(_line_ops, min_size=1, max_size=4), _file_ops)


def mutate(data: bytes, fmt: str, ops, whole: str) -> bytes:
    """Apply ``ops`` to the lines of ``data`` (past its first line, usually a header), then ``whole``."""
    lines = data.split(b"\n")
    body = max(len(lines) - 1, 1)
    sep = re.compile(SEPARATORS[fmt].encode())
    for op in ops:
        i = 1 + op[1] % body if len(lines) > 1 else 0
        line = lines[i]
        if op[0] in ("set", "drop"):
            parts = sep.split(line)
            seps = sep.findall(line)
            j = op[2] % len(parts)
            if op[0] == "set":
                parts[j] = op[3].encode("utf-8")
            else:
                del parts[j]
                seps = seps[: len(parts) - 1] if j == len(seps) else seps[:j] + seps[j + 1:]
            line = b"".join(p + (seps[k] if k < len(seps) else b"") for k, p in enumerate(parts))
        elif op[0] == "cut":
            line = line[: op[2] % (len(line) + 1)]
        elif op[0] == "bytes":
            k = op[2] % (len(line) + 1)
            line = line[:k] + op[3] + line[k:]
        elif op[0] == "repeat":
            lines.insert(i, line)
        elif op[0] == "swap":
            k = 1 + op[2] % body if len(lines) > 1 else 0
            lines[i], lines[k] = lines[k], lines[i]
            continue
        lines[i] = line
    out = b"\n".join(lines)
    if whole == "cr":
        out = out.replace(b"\r", b"").replace(b"\n", b"\r")
    elif whole == "crlf":
        out = out.replace(b"\n", b"\r\n")
    elif whole == "bom":
        out = b"\xef\xbb\xbf" + out
    elif whole.startswith("gzip"):
        out = gzip.compress(out)
        if whole == "gzip-cut":
            out = out[: len(out) * 2 // 3]
        elif whole == "gzip-flip":
            out = out[: len(out) // 2] + bytes([out[len(out) // 2] ^ 0x5A]) + out[len(out) // 2 + 1:]
    return out


class Tally:
    """What the cases of one reader did, for the report."""

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self.counts = {"cases": 0, "written": 0, "refused": 0, "tracebacks": 0, "lines_read": 0, "quarantined": 0,
                       "jobs_or_samples": 0, "rows_out_of_rules": 0}

    def save(self) -> None:
        folder = os.environ.get("HPCP_FUZZ_REPORT")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / f"{self.reader}.json").write_text(json.dumps(self.counts, indent=2) + "\n")


def _run(tally: Tally, call) -> dict | None:
    """Run one case: counts when written, None when refused; anything else fails the test."""
    tally.counts["cases"] += 1
    try:
        counts = call()
    except HpcPredictError as exc:
        tally.counts["refused"] += 1
        assert "\n" not in str(exc).strip(), f"a refusal of more than one line: {exc}"
        return None
    except BaseException:
        tally.counts["tracebacks"] += 1
        raise
    tally.counts["written"] += 1
    tally.counts["lines_read"] += counts["lines_read"]
    tally.counts["quarantined"] += counts["quarantined"]
    return counts


FIXTURES = {
    "swf": (DATA / "cerit-wagap-2013-first30.swf", {}),
    "sacct": (DATA / "sacct-parsable2.txt", {}),
    "pbs": (DATA / "pbs-accounting-20240305", {}),
    "table": (DATA / "nrel-eagle-first40.csv", {"preset": "nrel-eagle"}),
}


@pytest.mark.parametrize("fmt", sorted(FIXTURES))
def test_job_readers_survive_mutated_fixtures(fmt):
    source, options = FIXTURES[fmt]
    original = source.read_bytes()
    tally = Tally(fmt)

    @settings(max_examples=CASES[fmt], deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(mutations)
    def case(mutation):
        ops, whole = mutation
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("dump.gz" if whole.startswith("gzip") else source.name)
            path.write_bytes(mutate(original, fmt, ops, whole))
            out = Path(tmp) / "jobs.parquet"
            counts = _run(tally, lambda: ingest(fmt, [path], out, **options))
            if counts is None:
                return
            assert counts["lines_read"] == counts["jobs"] + counts["quarantined"] + counts["duplicates_merged"]
            jobs = pd.read_parquet(out)
            assert len(jobs) == counts["jobs"] and len(read_quarantine(out)) == counts["quarantined"]
            broken = implausible(jobs).dropna()
            tally.counts["jobs_or_samples"] += len(jobs)
            tally.counts["rows_out_of_rules"] += len(broken)
            assert broken.empty, broken.head().tolist()

    case()
    tally.save()
    assert tally.counts["cases"] >= CASES[fmt] and tally.counts["tracebacks"] == 0 and tally.counts["rows_out_of_rules"] == 0


LDMS_FILES = sorted(p.name for p in (DATA / "ldms").iterdir())


def test_ldms_survives_mutated_fixtures():
    tally = Tally("ldms")
    rules = plausibility()

    @settings(max_examples=CASES["ldms"], deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(mutations, st.sampled_from(LDMS_FILES))
    def case(mutation, name):
        ops, whole = mutation
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "ldms"
            shutil.copytree(DATA / "ldms", folder)
            target = folder / name
            target.write_bytes(mutate(target.read_bytes(), "ldms", ops, whole))
            out = Path(tmp) / "samples"
            counts = _run(tally, lambda: ingest_samples("ldms", [folder], out))
            if counts is None:
                return
            assert counts["lines_read"] == counts["records"] + counts["quarantined"] + counts["duplicates_merged"]
            assert len(read_quarantine(out)) == counts["quarantined"]
            days = [pd.Timestamp(p.stem.removeprefix("samples-"), tz="UTC") for p in out.glob("samples-*.parquet")]
            outside = [d for d in days if not rules.earliest <= d < rules.latest]
            samples = pd.read_parquet(out) if days else pd.DataFrame({"timestamp": []})
            tally.counts["jobs_or_samples"] += len(samples)
            tally.counts["rows_out_of_rules"] += len(outside)
            assert not outside, outside

    case()
    tally.save()
    assert tally.counts["cases"] >= CASES["ldms"] and tally.counts["tracebacks"] == 0 and tally.counts["rows_out_of_rules"] == 0


def test_the_cases_add_up_to_at_least_500():
    assert sum(CASES.values()) >= 500
