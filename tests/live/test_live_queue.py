"""``predict --queue`` on one real queue in the three squeue forms answers every pending job and task.

The sacct forms are not checked here: a job reaches the accounting database a moment after sbatch
returns (seconds on a loaded machine), so what sacct lists at the snapshot is racy.
"""

from __future__ import annotations

import pytest

from hpcpredict.queue import predict_queued
from hpcpredict.queue.formats import read_queue

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
