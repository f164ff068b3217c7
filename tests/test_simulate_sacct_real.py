"""The simulator's sacct text is what real Slurm 22.05 writes: the same header, and in every column
values of the forms real sacct writes there, on job lines and on step lines.

Reference: the sacct dumps of the live cluster's workload (tests/data/live-slurm/README.md), taken
with ``--parsable2 --format=<hpcpredict.ingest.slurm.SACCT_FIELDS>``. A value's *form* is the value
with every number replaced by 9 (and a memory unit by U, an optional day prefix of a duration
dropped): ``2026-12-07T18:38:42`` → ``9-9-9T9:9:9``, ``500M`` → ``9U``; names and paths, which
differ between sites, only by being empty or not.
"""

from __future__ import annotations

import re

import pytest

from hpcpredict.ingest.slurm import SACCT_FIELDS
from hpcpredict.simulate import simulate

from conftest import DATA

LIVE = DATA / "live-slurm"
COLUMNS = tuple(SACCT_FIELDS.split(","))
#: Names a site chooses: compared by being empty or not.
NAMES = ("Cluster", "User", "Group", "Account", "Partition", "QOS", "JobName")


def _form(value: str) -> str:
    value = re.sub(r"^\d+-(?=\d+:)", "", value)  # [D-]HH:MM:SS
    value = re.sub(r"\d+(\.\d+)?", "9", value)
    value = re.sub(r"(?<=9)[KMGT]\b", "U", value)
    return re.sub(r"(?<=[=\[])[a-z]+\d*", "h", value)  # host names in node lists


def _rows(path, states_left_out=()):
    lines = path.read_text().splitlines()
    names = lines[0].split("|")
    out = {"job": [], "step": []}
    for line in lines[1:]:
        row = dict(zip(names, line.split("|")))
        if len(line.split("|")) != len(names) or row["State"].split()[0] in states_left_out:
            continue
        out["step" if "." in row["JobID"] else "job"].append(row)
    return out


def _column_form(column: str, value: str) -> str:
    if column in NAMES:
        return "name" if value else ""
    if column == "WorkDir":
        return "/path" if value.startswith("/") else value
    if column == "NodeList":
        return "" if value in ("", "None assigned") else "hosts"
    return _form(value)


def _id_forms(value: str) -> set[str]:
    """A job id's form, and its step suffix's apart: ``10_3.batch`` → ``9_9``, ``.batch``."""
    job, dot, step = value.partition(".")
    job = re.sub(r"\d+", "9", re.sub(r"\[[^]]*\]", "[tasks]", job))  # 10_[1-5%2]: an array's pending tasks
    return {job} | ({"." + re.sub(r"\d+", "9", step)} if dot else set())


def _forms(rows, column):
    if column in ("JobID", "JobIDRaw"):
        return set().union(*(_id_forms(r[column]) for r in rows)) if rows else set()
    return {_column_form(column, r[column]) for r in rows if column in r}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    simulate(out, preset="tiny", seed=0)
    # RUNNING: the live dump is taken after every job ended, so it has no running job to compare with
    return _rows(out / "sacct.txt", states_left_out=("RUNNING",)) | {"header": (out / "sacct.txt").read_text().splitlines()[0]}


@pytest.fixture(scope="module")
def real():
    rows = _rows(LIVE / "sacct-workload.txt")
    rows["job"] += _rows(LIVE / "sacct-pending.txt")["job"]
    return rows


def test_the_header_is_the_one_real_sacct_prints_for_hpcpredicts_field_list(simulated):
    real_header = (LIVE / "sacct-workload.txt").read_text().splitlines()[0]
    assert real_header == "|".join(COLUMNS)  # the capture was taken with that list
    assert simulated["header"] == real_header


@pytest.mark.parametrize("kind", ["job", "step"])
@pytest.mark.parametrize("column", COLUMNS)
def test_every_simulated_form_is_one_real_sacct_writes(simulated, real, kind, column):
    sim, ref = _forms(simulated[kind], column), _forms(real[kind], column)
    if column == "TotalCPU":  # one sacct function prints it on both lines; the real steps all took under an hour
        ref |= _forms(real["job"], column)
    assert sim, f"{kind} {column}: not written"
    assert sim <= ref, f"{kind} {column}: simulated {sorted(sim - ref)} never seen in real sacct ({sorted(ref)})"


def test_reqmem_is_the_job_total_and_empty_on_steps(simulated):
    for row in simulated["job"]:
        nodes = int(row["NNodes"])
        total = re.search(r"mem=(\d+)G", row["ReqTRES"])
        assert row["ReqMem"] == f"{total[1]}G" and int(total[1]) % nodes == 0
    assert {row["ReqMem"] for row in simulated["step"]} == {""}
