"""``hpcpredict collect`` against the live Slurm: a whole window, two runs growing one table, and the
command line."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

from hpcpredict.collect import collect
from hpcpredict.ingest.slurm import read_sacct
from live.conftest import sacct_state, sbatch, wait_until

pytestmark = pytest.mark.slurm


def test_collect_gets_every_job_of_the_dump_once(live, tmp_path):
    dump = read_sacct(live / "sacct.txt").jobs.set_index("job_id")
    since = dump["submit_time"].min() - pd.Timedelta(minutes=1)
    result = collect(tmp_path / "jobs.parquet", since=since)
    table = pd.read_parquet(tmp_path / "jobs.parquet")
    assert not table["job_id"].duplicated().any()
    assert set(dump.index) <= set(table["job_id"])
    assert result.quarantined == 0 and result.total == len(table)
    mine = table.set_index("job_id").loc[dump.index]
    for column in ("state", "app", "user", "work_dir", "start_time", "end_time", "runtime_s", "req_mem_bytes"):
        assert mine[column].astype("string").fillna("").tolist() == dump[column].astype("string").fillna("").tolist(), column


def test_collect_command_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "collect", str(tmp_path / "j.parquet")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "give --since for the first window" in out.stderr
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "collect", str(tmp_path / "j.parquet"), "--since", "2020-01-01"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "jobs from sacct" in out.stderr and "0 lines quarantined" in out.stderr


def _collect(table, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "hpcpredict", "collect", str(table), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_two_runs_grow_one_table_and_update_a_job_that_ended_between_them(live, tmp_path):
    since = (pd.Timestamp.now() - pd.Timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S")
    release = tmp_path / "release"  # the job runs until the first collect is done
    job = sbatch("-J", "collect-probe", "-t", "2", "--wrap", f"while [ ! -e '{release}' ]; do sleep 0.2; done; sleep 1")
    try:
        # accounting lags the scheduler: wait (bounded) until a window query lists the job running
        wait_until(lambda: sacct_state(job, since) == "RUNNING", 90, f"sacct lists job {job} as RUNNING")
        table = tmp_path / "jobs.parquet"
        _collect(table, "--since", since)
    finally:
        release.touch()
    first = pd.read_parquet(table).set_index("job_id")
    assert first.loc[job, "state"] == "RUNNING" and pd.isna(first.loc[job, "end_time"])
    wait_until(lambda: sacct_state(job, since) == "COMPLETED", 90, f"sacct lists job {job} as COMPLETED with its end")
    message = _collect(table)  # no --since: the table says where to resume (its unfinished jobs)
    second = pd.read_parquet(table)
    assert not second["job_id"].duplicated().any()
    assert set(first.index) <= set(second["job_id"])
    row = second.set_index("job_id").loc[job]
    assert row["state"] == "COMPLETED" and pd.notna(row["end_time"]) and 1 <= row["runtime_s"] <= 120
    assert int(re.search(r"([\d,]+) updated", message).group(1).replace(",", "")) >= 1, message
    # jobs that had ended before the first run are the same rows
    ended = first[first["end_time"].notna()].index
    again = second.set_index("job_id").loc[ended]
    assert again["end_time"].tolist() == first.loc[ended, "end_time"].tolist()
