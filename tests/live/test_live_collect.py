"""``hpcpredict collect`` against the live Slurm: the whole window, then incremental runs."""

from __future__ import annotations

import subprocess
import sys
import time

import pandas as pd
import pytest

from hpcpredict.collect import collect
from hpcpredict.ingest.slurm import read_sacct

from .conftest import slurm

pytestmark = pytest.mark.slurm


def _wait_accounted(job_id: str, seconds: float = 60) -> None:
    """slurmctld tells slurmdbd about a new job a second or two after sbatch returns."""
    deadline = time.monotonic() + seconds
    while not slurm("sacct", "-a", "-X", "-n", "-j", job_id, "-o", "State").strip() and time.monotonic() < deadline:
        time.sleep(0.5)


def _wait_gone(job_id: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while slurm("squeue", "-h", "-j", job_id, "-o", "%T").strip() and time.monotonic() < deadline:
        time.sleep(1)


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


def test_collect_appends_new_jobs_and_updates_those_that_ended(tmp_path):
    table = tmp_path / "jobs.parquet"
    first = collect(table, since=pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=2))
    job_id = slurm("sbatch", "--parsable", "-J", "collect-me", "-o", "/dev/null", "--wrap", "sleep 3").strip().split(";")[0]
    _wait_accounted(job_id)
    second = collect(table)  # resumes by itself: no --since
    row = pd.read_parquet(table).set_index("job_id").loc[job_id]
    assert row["state"] in ("PENDING", "RUNNING") and pd.isna(row["end_time"])
    _wait_gone(job_id)
    time.sleep(2)  # slurmdbd records the end
    third = collect(table)
    jobs = pd.read_parquet(table)
    assert not jobs["job_id"].duplicated().any()
    assert jobs.set_index("job_id").loc[job_id, "state"] == "COMPLETED"
    assert second.added >= 1 and third.updated >= 1
    assert third.total >= second.total >= first.total + 1


def test_collect_command_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "collect", str(tmp_path / "j.parquet")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "give --since for the first window" in out.stderr
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "collect", str(tmp_path / "j.parquet"), "--since", "2020-01-01"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "jobs from sacct" in out.stderr and "0 lines quarantined" in out.stderr
