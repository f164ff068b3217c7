"""``predict --queue`` on one real queue in the three formats answers every pending job and task."""

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


@pytest.fixture(scope="module")
def not_yet_eligible(live) -> set[str]:
    """Pending jobs held, waiting on a dependency or a begin time, as squeue says."""
    queue = read_queue(live / "squeue.txt")
    return set(queue.loc[queue["reason"].isin(["JobHeldUser", "JobHeldAdmin", "Dependency", "BeginTime"]), "job_id"])


@pytest.mark.parametrize("name", ["squeue.json", "squeue.txt", "squeue-fields.txt"])
def test_every_pending_job_and_task_gets_a_prediction(pipeline, live, pending, name):
    out = predict_queued(pipeline["model"], live / name, jobs=pipeline["jobs"])
    assert set(out["job_id"]) == pending
    assert out["predicted_runtime_s"].notna().all()


@pytest.mark.parametrize("name", ["sacct-queue.txt", "sacct-pending-eligible.txt"])
def test_sacct_knows_only_the_eligible_pending_jobs(pipeline, live, pending, not_yet_eligible, submitted, name):
    # slurmctld records a job in the accounting database once it is eligible: held, dependent and
    # begin-time jobs are in no sacct answer, whatever the options (docs/queue.md).
    waiting = set(submitted.loc[submitted["what"].isin(["begin-time", "held", "cancel-pending"]), "job_id"])
    assert waiting <= not_yet_eligible
    out = predict_queued(pipeline["model"], live / name, jobs=pipeline["jobs"])
    assert set(out["job_id"]) == pending - not_yet_eligible
    assert out["predicted_runtime_s"].notna().all()


def test_formats_agree_on_requests(live):
    frames = {name: read_queue(live / name).set_index("job_id")
              for name in ("squeue.json", "squeue-fields.txt", "sacct-queue.txt")}
    first = frames.pop("squeue.json")
    for name, other in frames.items():
        common = first.index.intersection(other.index)
        assert len(common) == len(other) >= len(first) - 4, name  # sacct: see above
        for column in ("user", "partition", "req_cpus", "req_mem_bytes", "req_gpus", "time_limit_s"):
            assert first.loc[common, column].tolist() == other.loc[common, column].tolist(), f"{name} {column}"
