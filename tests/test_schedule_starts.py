"""Start-time prediction: exact plans on hand-made queues, the queue CLI, scoring against a trace."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import hpcpredict as hp
from hpcpredict.schedule import evaluate_start_predictions, load_workload, plan_starts, predict_workload


def test_running_jobs_end_at_their_predictions_and_the_queue_is_planned_in_order():
    # 4 nodes; a running job holds 3 until 100. Queue: b (4 nodes), c (1 node, 30 s), d (2 nodes, 500 s).
    starts = plan_starts(0.0, capacity=4, running_start_s=[-50.0], running_size=[3], running_predicted_s=[150.0],
                         pending_size=[4, 1, 2], pending_predicted_s=[60.0, 30.0, 500.0])
    assert starts.tolist() == [100.0, 0.0, 160.0]


def test_a_running_job_past_its_prediction_is_planned_to_the_next_step():
    # Predicted 100 s, already run 200 s: planned to end at 300 s (next step), not "now".
    starts = plan_starts(200.0, capacity=2, running_start_s=[0.0], running_size=[2], running_predicted_s=[100.0],
                         pending_size=[1], pending_predicted_s=[10.0])
    assert starts.tolist() == [300.0]
    capped = plan_starts(200.0, capacity=2, running_start_s=[0.0], running_size=[2], running_predicted_s=[100.0],
                         running_limit_s=[250.0], pending_size=[1], pending_predicted_s=[10.0])
    assert capped.tolist() == [250.0]


def _queue_at(pipeline, moment):
    jobs = pd.read_parquet(pipeline["jobs"])
    at = pd.Timestamp(moment, tz="UTC")
    return jobs, at, jobs[(jobs["submit_time"] <= at) & (jobs["start_time"] > at)]


def test_queue_start_times_plan_the_running_and_pending_jobs(pipeline):
    jobs, at, pending = _queue_at(pipeline, "1996-10-25 12:00")
    running = jobs[(jobs["start_time"] <= at) & (jobs["end_time"] > at)]
    busy = int(running["req_cpus"].sum())
    out = hp.predict(pipeline["model"], queue=pending, jobs=jobs, at=at, start=True, nodes=100)
    assert list(out["job_id"]) == list(pending["job_id"])
    assert (out["expected_start"] >= at).all() and (out["limit_based_start"] >= at).all()
    np.testing.assert_allclose((out["expected_start"] - at).dt.total_seconds(), out["expected_wait_s"])
    # The first job in line waits exactly until enough running jobs are predicted to end.
    first = pending.sort_values("submit_time", kind="stable").iloc[0]
    wait = out.set_index("job_id").loc[first["job_id"], "expected_wait_s"]
    assert (wait == 0) == (busy + first["req_cpus"] <= 100)
    # On a machine with room for everything, every job starts now, whatever the planner.
    roomy = hp.predict(pipeline["model"], queue=pending, jobs=jobs, at=at, start=True, nodes=100_000)
    assert (roomy["expected_wait_s"] == 0).all() and (roomy["limit_based_start"] == at).all()


def test_cli_start_needs_the_machine_size_and_prints_starts(pipeline, tmp_path):
    jobs, at, pending = _queue_at(pipeline, "1996-10-25 12:00")
    queue = tmp_path / "queue.csv"
    pending[["job_id", "user", "app", "partition", "submit_time", "time_limit_s", "req_cpus"]].to_csv(queue, index=False)
    base = [sys.executable, "-m", "hpcpredict", "predict", str(pipeline["model"]), "--queue", str(queue), "--jobs", str(pipeline["jobs"]), "--at", str(at), "--start"]
    missing = subprocess.run(base, capture_output=True, text=True)
    assert missing.returncode == 2 and "'nodes' parameter" in missing.stderr
    out = subprocess.run([*base, "--nodes", "100", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert len(doc) == len(pending) and all("expected_start" in d and "limit_based_start" in d for d in doc)


def test_start_predictions_scored_against_the_recorded_starts(kth_slice):
    w = load_workload(kth_slice)
    predictions = {name: predict_workload(w, name).runtime_s for name in ("limit", "oracle")}
    out = evaluate_start_predictions(w, predictions, samples=300)
    assert out["jobs"] == 300
    limit, oracle = out["predictors"]["limit"], out["predictors"]["oracle"]
    # Limits only overestimate runtimes, so starts planned with them come late on average.
    assert limit["bias_s"] > 0 and limit["bias_s"] > oracle["bias_s"]
    assert 0 <= oracle["within_10pct"] <= oracle["within_1h"] <= 1


def test_start_is_only_for_a_queue(pipeline):
    with pytest.raises(hp.ParameterError, match="'start'"):
        hp.predict(pipeline["model"], pipeline["features"], start=True, nodes=10)
