"""Property tests: random and mutated lines never raise anything but InputFileError, and the
counts always reconcile (lines read = jobs + quarantined + duplicates merged)."""

import csv
import io
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpcpredict.errors import InputFileError
from hpcpredict.ingest import read_pbs, read_sacct, read_swf, read_table

from conftest import DATA

# HPCPREDICT_EXAMPLES=500 for a longer search than the default run.
EXAMPLES = int(os.environ.get("HPCPREDICT_EXAMPLES", "15"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHARS = st.characters(codec="utf-8", exclude_characters="\n")
NOISE = st.text(alphabet=st.sampled_from("0123456789|:;=,.-_[]+ \t\r\"{}abcNUlTGMKn/") | CHARS, max_size=60)


def _mutations(lines: list[str]):
    """A line of the fixture with one of its cut pieces replaced, dropped or doubled."""

    @st.composite
    def mutate(draw):
        line = draw(st.sampled_from(lines))
        sep = draw(st.sampled_from(["|", " ", ";", ",", "="]))
        parts = line.split(sep)
        i = draw(st.integers(0, len(parts) - 1))
        action = draw(st.sampled_from(["replace", "drop", "double"]))
        if action == "replace":
            parts[i] = draw(NOISE)
        elif action == "drop":
            del parts[i]
        else:
            parts.insert(i, parts[i])
        return sep.join(parts)

    return mutate()


def _check(reader, text: str, suffix: str = ".txt", **options):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        try:
            result = reader(path, **options)
        except InputFileError:
            return
        result.check_reconciles()
        assert len(result.quarantine) == result.quarantine["line"].nunique()


SACCT = (DATA / "sacct-parsable2.txt").read_text().splitlines()


@SETTINGS
@given(st.lists(st.one_of(_mutations(SACCT[1:]), NOISE, st.sampled_from(SACCT[1:])), max_size=12),
       st.sampled_from([4, 1000]))
def test_sacct_never_raises_anything_else_and_reconciles(lines, chunk_lines):
    _check(read_sacct, "\n".join([SACCT[0], *lines]) + "\n", chunk_lines=chunk_lines)


@SETTINGS
@given(NOISE, st.lists(NOISE, max_size=4))
def test_sacct_random_headers_fail_cleanly(header, lines):
    _check(read_sacct, "\n".join([header, *lines]))


PBS = (DATA / "pbs-accounting-20240305").read_text().splitlines()


@SETTINGS
@given(st.lists(st.one_of(_mutations(PBS), NOISE, st.sampled_from(PBS)), max_size=12))
def test_pbs_never_raises_anything_else_and_reconciles(lines):
    _check(read_pbs, "\n".join(lines) + "\n")


SWF = [line for line in (DATA / "cerit-wagap-2013-first30.swf").read_text().splitlines()[:10]] + [
    line for line in (DATA / "kth-sp2-first3000.swf").read_text().splitlines()[20:40]
]


@SETTINGS
@given(st.lists(st.one_of(_mutations(SWF), NOISE, st.sampled_from(SWF)), max_size=12))
def test_swf_never_raises_anything_else_and_reconciles(lines):
    _check(read_swf, "\n".join(lines) + "\n", suffix=".swf")


EAGLE = list(csv.reader(io.StringIO((DATA / "nrel-eagle-first40.csv").read_text())))


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 40), st.integers(0, 17), NOISE), max_size=8))
def test_table_with_random_cells_never_raises_anything_else_and_reconciles(edits):
    rows = [list(r) for r in EAGLE]
    for row, col, value in edits:
        rows[row][col] = value
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    _check(read_table, out.getvalue(), suffix=".csv", preset="nrel-eagle")


@st.composite
def _hostlists(draw):
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        prefix = draw(st.sampled_from(["nid", "node", "gpu", "c", "r1n"]))
        if draw(st.booleans()):
            groups.append(prefix + str(draw(st.integers(0, 99))))
            continue
        width = draw(st.integers(1, 5))
        ranges = []
        for _ in range(draw(st.integers(1, 3))):
            lo = draw(st.integers(0, 200))
            hi = lo + draw(st.integers(0, 20))
            ranges.append(f"{lo:0{width}d}" + (f"-{hi:0{width}d}" if hi > lo else ""))
        groups.append(f"{prefix}[{','.join(ranges)}]")
    return ",".join(groups)


@SETTINGS
@given(st.one_of(_hostlists(), NOISE))
def test_fast_hostlist_expansion_agrees_with_python_hostlist(text):
    import hostlist

    from hpcpredict.ingest.slurm import _expand_cached

    try:
        expected = tuple(hostlist.expand_hostlist(text))
    except (hostlist.BadHostlist, ValueError, IndexError):
        expected = None
    assert _expand_cached(text) == expected
