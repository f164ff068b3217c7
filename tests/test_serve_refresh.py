"""``serve --refresh``: the snapshot is rebuilt from the jobs table and swapped without dropping requests."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from hpcpredict.errors import ParameterError
from hpcpredict.serve.app import create_app


def test_a_job_that_ended_after_start_up_counts_in_the_next_prediction(pipeline, tmp_path):
    jobs = pd.read_parquet(pipeline["jobs"])
    table = tmp_path / "jobs.parquet"
    jobs.iloc[:-200].to_parquet(table)  # the service starts before the last 200 jobs ended
    app = create_app(pipeline["model"], jobs=table, refresh_s=0.3)
    last = jobs.iloc[-1]
    request = {"jobs": [{"job_id": "q", "user": str(last["user"]), "app": str(last["app"]), "time_limit_s": 3600}]}
    with TestClient(app) as client:
        before = client.get("/health").json()["snapshot"]
        first = client.post("/predict", json=request).json()["predictions"][0]
        jobs.to_parquet(table)  # accounting catches up
        answers, deadline = [], time.monotonic() + 30
        while time.monotonic() < deadline:
            answer = client.post("/predict", json=request)
            answers.append(answer.status_code)
            if client.get("/health").json()["snapshot"] != before:
                break
            time.sleep(0.1)
        after = client.get("/health").json()["snapshot"]
        second = client.post("/predict", json=request).json()["predictions"][0]
    assert set(answers) == {200}  # no request dropped while the snapshot was rebuilt
    assert pd.Timestamp(after) > pd.Timestamp(before)
    assert second["reasons"] != first["reasons"] or second["predicted_runtime_s"] != first["predicted_runtime_s"]


def test_refresh_needs_a_jobs_table(pipeline):
    with pytest.raises(ParameterError, match="refresh_s"):
        create_app(pipeline["model"], refresh_s=60)
