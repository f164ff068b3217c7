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


def test_a_refresh_begun_before_a_reload_never_swaps_the_old_model_back(pipeline, tmp_path, monkeypatch):
    import threading

    import hpcpredict as hp
    from hpcpredict.model import load_model
    from hpcpredict.serve import refresh
    from hpcpredict.serve.online import OnlinePredictor

    other = tmp_path / "other-model"
    hp.train(pipeline["features"], other, n_estimators=5, early_stopping_rounds=None, params={"max_depth": 2})
    built_for, entered, release = [], [threading.Event(), threading.Event()], threading.Event()
    build = refresh.refreshed_predictor

    def gated_build(model, *args, **kwargs):  # the first refresh waits, mid-build, for the reload
        built_for.append(model)
        entered[min(len(built_for), 2) - 1].set()
        if len(built_for) == 1:
            assert release.wait(60)
        return build(model, *args, **kwargs)

    monkeypatch.setattr(refresh, "refreshed_predictor", gated_build)
    app = create_app(pipeline["model"], jobs=pipeline["jobs"], refresh_s=0.05, token="t")
    jobs = pd.read_parquet(pipeline["jobs"])
    request = {"jobs": [{"job_id": "q", "user": str(jobs["user"].iloc[-1]), "time_limit_s": 3600}]}
    auth = {"Authorization": "Bearer t"}
    with TestClient(app) as client:
        served_before = client.post("/predict", json=request, headers=auth).json()["predictions"][0]
        assert entered[0].wait(60)  # a refresh for the first model is being built
        reloaded = client.post("/admin/reload", json={"model": str(other)}, headers=auth)
        release.set()
        assert entered[1].wait(60)  # the first refresh is over: swapped, or dropped
        served_after = client.post("/predict", json=request, headers=auth).json()["predictions"][0]
        health = client.get("/health").json()
    expected = OnlinePredictor(load_model(other), jobs).predict(request["jobs"])[0]
    assert reloaded.status_code == 200 and health["model"] == "other-model"
    assert served_after["predicted_runtime_s"] == pytest.approx(expected["predicted_runtime_s"])
    assert served_after["predicted_runtime_s"] != pytest.approx(served_before["predicted_runtime_s"])
    assert built_for[1].booster_.num_boosted_rounds() == 5  # the next refresh builds for the reloaded model


def test_a_refresh_also_moves_the_start_planner_to_the_new_snapshot(pipeline, tmp_path):
    jobs = pd.read_parquet(pipeline["jobs"])
    table = tmp_path / "jobs.parquet"
    jobs.iloc[:-200].to_parquet(table)
    app = create_app(pipeline["model"], jobs=table, refresh_s=0.2, nodes=100)
    request = {"jobs": [{"job_id": "q", "user": str(jobs["user"].iloc[-1]), "time_limit_s": 3600}], "start": True}
    with TestClient(app) as client:
        before = client.get("/health").json()["snapshot"]
        jobs.to_parquet(table)
        deadline = time.monotonic() + 30
        while client.get("/health").json()["snapshot"] == before and time.monotonic() < deadline:
            time.sleep(0.1)
        after = client.get("/health").json()["snapshot"]
        start = client.post("/predict", json=request).json()["predictions"][0]["expected_start"]
    assert pd.Timestamp(after) > pd.Timestamp(before)
    assert pd.Timestamp(start) >= pd.Timestamp(after)  # planned from the new snapshot, not the one at start-up
