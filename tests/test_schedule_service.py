"""Expected start times from the prediction service (``serve --nodes``, ``"start": true``)."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from hpcpredict.serve import create_app

MOMENT = pd.Timestamp("1996-10-25 12:00", tz="UTC")


@pytest.fixture(scope="module")
def snapshot(pipeline, tmp_path_factory):
    """The KTH slice as a site would have dumped it at MOMENT: some jobs running, some pending."""
    jobs = pd.read_parquet(pipeline["jobs"])
    jobs = jobs[jobs["submit_time"] <= MOMENT].copy()
    running = jobs["end_time"] > MOMENT
    pending = jobs["start_time"] > MOMENT
    jobs.loc[running, ["end_time"]] = pd.NaT
    jobs.loc[running, "runtime_s"] = float("nan")
    jobs.loc[pending, ["start_time"]] = pd.NaT
    assert running.sum() > 0 and pending.sum() > 0
    path = tmp_path_factory.mktemp("snapshot") / "jobs.parquet"
    jobs.to_parquet(path)
    return path


def _ask(app, jobs, start=True):
    return TestClient(app).post("/predict", json={"jobs": jobs, "start": start})


def test_expected_starts_queue_behind_the_snapshot(pipeline, snapshot):
    app = create_app(pipeline["model"], jobs=snapshot, nodes=100)
    jobs = [{"job_id": "small", "user": "5", "req_cpus": 1, "time_limit_s": 600.0},
            {"job_id": "whole", "user": "5", "req_cpus": 100, "time_limit_s": 3600.0}]
    answer = _ask(app, jobs)
    assert answer.status_code == 200, answer.text
    starts = {p["job_id"]: pd.Timestamp(p["expected_start"]) for p in answer.json()["predictions"]}
    latest = pd.read_parquet(snapshot)[["submit_time", "start_time"]].max().max()
    assert starts["small"] >= latest and starts["whole"] > starts["small"]
    # On a machine with room for everything, a new job starts at the snapshot.
    roomy = _ask(create_app(pipeline["model"], jobs=snapshot, nodes=100_000), jobs)
    assert {pd.Timestamp(p["expected_start"]) for p in roomy.json()["predictions"]} == {latest}


def test_start_without_the_machine_size_is_a_400(pipeline, snapshot):
    app = create_app(pipeline["model"], jobs=snapshot)
    answer = _ask(app, [{"job_id": "1", "req_cpus": 1}])
    assert answer.status_code == 400 and "--nodes" in answer.json()["detail"]
    plain = _ask(app, [{"job_id": "1", "req_cpus": 1}], start=False)
    assert plain.status_code == 200 and plain.json()["predictions"][0]["expected_start"] is None
