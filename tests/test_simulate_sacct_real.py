"""The simulator's sacct text has the forms real Slurm 22.05 writes, column by column.

Reference: the sacct dumps of the live cluster's workload (tests/data/live-slurm/README.md).
A value's *form* is the value with every number replaced by 9 (and a memory unit by U, an optional
day prefix of a duration dropped): ``2026-12-07T18:38:42`` → ``9-9-9T9:9:9``, ``500M`` → ``9U``.
"""

from __future__ import annotations

import re

import pytest

from hpcpredict.simulate import simulate

from conftest import DATA

LIVE = DATA / "live-slurm"
COLUMNS = ("Submit", "Eligible", "Start", "End", "Elapsed", "Timelimit", "NNodes", "ReqMem", "ReqTRES",
           "AllocTRES", "State", "ExitCode", "MaxRSS", "NodeList")


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


def _forms(rows, column):
    return {_form(r[column]) if column != "NodeList" else ("" if r[column] in ("", "None assigned") else "hosts")
            for r in rows if column in r}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    simulate(out, preset="tiny", seed=0)
    # RUNNING: the live dump is taken after every job ended, so it has no running job to compare with
    return _rows(out / "sacct.txt", states_left_out=("RUNNING",))


@pytest.fixture(scope="module")
def real():
    rows = _rows(LIVE / "sacct-workload.txt")
    rows["job"] += _rows(LIVE / "sacct-pending.txt")["job"]
    return rows


@pytest.mark.parametrize("kind", ["job", "step"])
@pytest.mark.parametrize("column", COLUMNS)
def test_every_simulated_form_is_one_real_sacct_writes(simulated, real, kind, column):
    sim, ref = _forms(simulated[kind], column), _forms(real[kind], column)
    if column in ("NodeList",) or not sim:
        sim = {f.replace("localhost", "h") for f in sim}
    assert sim <= ref, f"{kind} {column}: simulated {sorted(sim - ref)} never seen in real sacct ({sorted(ref)})"


def test_reqmem_is_the_job_total_and_empty_on_steps(simulated):
    for row in simulated["job"]:
        nodes = int(row["NNodes"])
        total = re.search(r"mem=(\d+)G", row["ReqTRES"])
        assert row["ReqMem"] == f"{total[1]}G" and int(total[1]) % nodes == 0
    assert {row["ReqMem"] for row in simulated["step"]} == {""}
