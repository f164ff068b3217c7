"""``hpcpredict collect`` against the live Slurm: a whole window, and the command line."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from hpcpredict.collect import collect
from hpcpredict.ingest.slurm import read_sacct

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
