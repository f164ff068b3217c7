"""``predict --queue`` on one real queue answers every pending job and task: the three squeue forms
of the workload's snapshot, and a sacct dump of a queue built for it.

The workload's snapshot has no sacct check: slurmctld records a job in the accounting database only
once it is eligible (never while held, waiting on a dependency or a begin time, or while its
partition is DOWN as during the snapshot), a moment after sbatch returns. The sacct check builds
its own queue instead, behind a job that holds the node, and waits (bounded) until accounting has
every pending job before it dumps.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from hpcpredict.ingest.slurm import SACCT_FIELDS
from hpcpredict.queue import predict_queued
from hpcpredict.queue.formats import read_queue
from live.conftest import sbatch, slurm, wait_until

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def pending(live) -> set[str]:
    """Slurm's own list: ``squeue -r`` prints one line per pending job, array task, het part."""
    return set((live / "squeue-ids.txt").read_text().split())


def test_the_queue_holds_what_the_issue_is_about(pending):
    assert {"10_3", "10_4", "10_5"} <= pending  # array tasks held back by the %2 throttle
    assert any("+" in job for job in pending)  # het components


@pytest.mark.parametrize("name", ["squeue.json", "squeue.txt", "squeue-fields.txt"])
def test_every_pending_job_and_task_gets_a_prediction(pipeline, live, pending, name):
    out = predict_queued(pipeline["model"], live / name, jobs=pipeline["jobs"])
    assert set(out["job_id"]) == pending
    assert out["predicted_runtime_s"].notna().all()


def test_formats_agree_on_requests(live):
    frames = {name: read_queue(live / name).set_index("job_id")
              for name in ("squeue.json", "squeue-fields.txt")}
    first = frames.pop("squeue.json")
    for name, other in frames.items():
        common = first.index.intersection(other.index)
        assert len(common) == len(other) == len(first), name
        for column in ("user", "partition", "req_cpus", "req_mem_bytes", "req_gpus", "time_limit_s"):
            assert first.loc[common, column].tolist() == other.loc[common, column].tolist(), f"{name} {column}"


def _pending_in_sacct(since: str) -> set[str]:
    out = slurm("sacct", "-a", "-X", "-n", "-P", "--state=PENDING", "-S", since, "-E", "now", "-o", "JobID")
    return set(out.split())


def test_sacct_pending_dump_answers_every_pending_job_and_array_task(pipeline, tmp_path):
    since = (pd.Timestamp.now() - pd.Timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
    blocker = sbatch("-J", "queue-blocker", "--exclusive", "-t", "2", "--wrap", "sleep 120")
    ids = [blocker]
    try:
        wait_until(lambda: slurm("squeue", "-h", "-j", blocker, "-o", "%T").strip() == "RUNNING", 60, "the blocker runs")
        ids += [sbatch("-J", "queue-plain", "-t", "3", "--wrap", "sleep 1"),
                sbatch("-J", "queue-array", "-t", "3", "--array=1-4%2", "--wrap", "sleep 1"),
                sbatch("-J", "queue-mem", "-n2", "--mem-per-cpu=300", "-t", "3", "--wrap", "sleep 1")]
        # squeue -r: one id per pending job and array task (nothing starts while the blocker runs)
        pending = set(slurm("squeue", "-a", "-r", "-h", "--states=PENDING", "-j", ",".join(ids[1:]), "-o", "%i").split())
        assert len(pending) == 6
        # accounting has them once it lists each pending job (the array as one line, 10_[1-4%2])
        wait_until(lambda: {i.split("_")[0] for i in _pending_in_sacct(since)} >= set(ids[1:]), 60, "sacct lists every pending job")
        dump = tmp_path / "sacct-pending.txt"
        dump.write_text(slurm("sacct", "-a", "--state=PENDING", "-S", since, "-E", "now", "--parsable2", f"--format={SACCT_FIELDS}"))
        assert pending == set(slurm("squeue", "-a", "-r", "-h", "--states=PENDING", "-j", ",".join(ids[1:]), "-o", "%i").split())
    finally:
        slurm("scancel", *ids)
    done = subprocess.run([sys.executable, "-m", "hpcpredict", "predict", str(pipeline["model"]), "--queue", str(dump),
                           "--jobs", str(pipeline["jobs"]), "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {str(r["job_id"]) for r in rows} == pending
    assert all(r["predicted_runtime_s"] > 0 for r in rows)
