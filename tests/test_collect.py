"""``hpcpredict collect`` offline: sacct is a script printing a real 22.05 dump (tests/data/live-slurm),
so what collect does with its answer (merge, quarantine, counts) is checked without a live Slurm."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from hpcpredict.collect import collect
from hpcpredict.ingest import quarantine_path, read_quarantine

from conftest import DATA

WORKLOAD = (DATA / "live-slurm" / "sacct-workload.txt").read_text().splitlines()


def _corrupt(lines: list[str], job_id: str) -> list[str]:
    """``lines`` with the submit time of job ``job_id`` made unreadable (its steps follow it)."""
    out = []
    for line in lines:
        fields = line.split("|")
        if fields[0] == job_id:
            fields[9] = "2026-13-45T99:00:00"
        out.append("|".join(fields))
    return out


@pytest.fixture
def fake_sacct(tmp_path):
    """A `sacct` that prints whatever the test last put in its answer file."""
    answer = tmp_path / "answer.txt"
    program = tmp_path / "sacct"
    program.write_text(f"#!/bin/sh\ncat '{answer}'\n")
    program.chmod(0o755)

    def answers(lines: list[str]) -> str:
        answer.write_text("\n".join(lines) + "\n")
        return str(program)

    return answers


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "hpcpredict", "collect", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "400"})


def test_quarantined_lines_are_kept_beside_the_table_across_runs(fake_sacct, tmp_path):
    table = tmp_path / "jobs.parquet"
    first = collect(table, since="2026-12-07T19:00:00", until="2026-12-07T20:00:00", sacct=fake_sacct(_corrupt(WORKLOAD, "1")))
    kept = read_quarantine(table)
    assert first.quarantine == quarantine_path(table) and first.quarantined == len(kept) >= 1
    assert first.lines_read == first.read + first.merged + first.quarantined == len(WORKLOAD) - 1
    assert kept["raw"].str.startswith("1|").any() and kept["reason"].str.len().gt(0).all()
    assert set(kept["file"]) == {"sacct 2026-12-07T19:00:00Z to 2026-12-07T20:00:00Z"}
    assert "1" not in set(pd.read_parquet(table)["job_id"])

    # the next window overlaps the first: job 1's lines come again, and job 2's are now bad too
    second = collect(table, until="2026-12-07T21:00:00", sacct=fake_sacct(_corrupt(_corrupt(WORKLOAD, "1"), "2")))
    both = read_quarantine(table)
    assert second.lines_read == second.read + second.merged + second.quarantined
    assert not both["raw"].duplicated().any()
    assert second.quarantine_added == len(both) - len(kept) >= 1 and second.quarantine_total == len(both)
    assert both["raw"].str.startswith("2|").any() and both["raw"].str.startswith("1|").any()
    assert "2" in set(pd.read_parquet(table)["job_id"])  # the row of the first run stays


def test_collect_prints_the_counts_and_where_the_quarantine_is(fake_sacct, tmp_path):
    table = tmp_path / "jobs.parquet"
    out = _cli(table, "--since", "2026-12-07T19:00:00", "--sacct", fake_sacct(_corrupt(WORKLOAD, "1")))
    assert out.returncode == 0, out.stderr
    r = collect(tmp_path / "again.parquet", since="2026-12-07T19:00:00", sacct=fake_sacct(_corrupt(WORKLOAD, "1")))
    assert (f"{r.read} jobs from sacct (2026-12-07 19:00 to " in out.stderr
            and f"UTC) + {r.merged} steps and repeats merged + {r.quarantined} lines quarantined = {r.lines_read} lines read"
            in out.stderr)
    assert f"{quarantine_path(table)}: {r.quarantined} lines added, {r.quarantined} in all" in out.stderr


def test_a_quarantine_of_another_run_is_refused_in_one_line(fake_sacct, tmp_path):
    table, other = tmp_path / "jobs.parquet", tmp_path / "other.parquet"
    for path in (table, other):
        collect(path, since="2026-12-07T19:00:00", sacct=fake_sacct(_corrupt(WORKLOAD, "1")))
    quarantine_path(other).replace(quarantine_path(table))
    out = _cli(table, "--sacct", fake_sacct(WORKLOAD))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "belongs to another run" in out.stderr


def test_a_table_without_a_quarantine_starts_one(fake_sacct, tmp_path):
    table = tmp_path / "jobs.parquet"
    collect(table, since="2026-12-07T19:00:00", sacct=fake_sacct(WORKLOAD))
    assert read_quarantine(table).empty
    quarantine_path(table).unlink()  # as a table of an earlier hpcpredict collect has none
    result = collect(table, sacct=fake_sacct(_corrupt(WORKLOAD, "3")))
    assert result.quarantine_total == result.quarantined == len(read_quarantine(table)) >= 1
