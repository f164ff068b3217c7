"""Queued-job prediction: the queue formats, the state at a moment, equality with offline features."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpcpredict.errors import InputFileError
from hpcpredict.features import read_features
from hpcpredict.model import load_model
from hpcpredict.queue import as_of, predict_queued, queued_features, read_queue

QUEUE = Path(__file__).parent / "data" / "queue"


def test_squeue_json_pending_jobs_with_versioned_numbers():
    jobs = read_queue(QUEUE / "squeue.json")
    assert list(jobs["job_id"]) == ["4242", "4249_3"]  # the RUNNING job is not in the queue
    first = jobs.iloc[0]
    assert first["user"] == "12" and first["app"] == "lammps_big" and first["partition"] == "batch"
    assert first["submit_time"] == pd.Timestamp(868000000, unit="s", tz="UTC")
    assert first["time_limit_s"] == 7200 and first["req_nodes"] == 2 and first["req_cpus"] == 64
    assert first["req_mem_bytes"] == 2 * 4000 * 1024**2  # per node x nodes
    assert jobs.iloc[1]["req_mem_bytes"] == 4 * 1000 * 1024**2  # per CPU x CPUs
    assert set(jobs["state"]) == {"PENDING"}


def test_squeue_format_text():
    jobs = read_queue(QUEUE / "squeue.txt")
    assert list(jobs["job_id"]) == ["4242", "4250_3", "4260"]
    assert list(jobs["time_limit_s"]) == [7200.0, 1800.0, 86400.0]
    assert jobs.loc[0, "req_mem_bytes"] == 2 * 4000 * 1024**2
    assert jobs.loc[0, "submit_time"] == pd.Timestamp("1997-07-04T04:26:40", tz="UTC")


def test_csv_queue_and_format_errors(tmp_path):
    jobs = read_queue(QUEUE / "queue.csv")
    assert list(jobs["time_limit_s"]) == [7200.0, 1800.0]
    bad = tmp_path / "q.txt"
    bad.write_text("JOBID|NAME|TIME_LIMIT\n1|x|2:00:00\n2|y|soon\n")
    with pytest.raises(InputFileError, match=r"q\.txt:3: field 'TIME_LIMIT': not a Slurm duration: 'soon'"):
        read_queue(bad)
    (tmp_path / "x.bin").write_text("hello there\n")
    with pytest.raises(InputFileError, match="unknown queue format"):
        read_queue(tmp_path / "x.bin")


def test_as_of_forgets_the_future():
    t = lambda s: pd.Timestamp(s, unit="s", tz="UTC")  # noqa: E731
    jobs = pd.DataFrame(
        {
            "job_id": ["a", "b", "c", "d"],
            "submit_time": [t(0), t(10), t(20), t(200)],
            "start_time": [t(5), t(15), t(150), t(210)],
            "end_time": [t(50), t(300), t(400), t(260)],
            "runtime_s": [45.0, 285.0, 250.0, 50.0],
            "state": ["COMPLETED"] * 4,
        }
    )
    known = as_of(jobs, t(100)).set_index("job_id")
    assert list(known.index) == ["a", "b", "c"]
    assert known.loc["a", "runtime_s"] == 45 and known.loc["a", "state"] == "COMPLETED"
    assert pd.isna(known.loc["b", "end_time"]) and known.loc["b", "state"] == "RUNNING"
    assert pd.isna(known.loc["c", "start_time"]) and known.loc["c", "state"] == "PENDING"


def _queue_at(pipeline, moment):
    jobs = pd.read_parquet(pipeline["jobs"])
    at = pd.Timestamp(moment, tz="UTC")
    return jobs, at, jobs[(jobs["submit_time"] <= at) & (jobs["start_time"] > at)]


def test_queued_features_equal_the_offline_features_of_the_same_jobs(pipeline):
    bundle = load_model(pipeline["model"])
    jobs, at, pending = _queue_at(pipeline, "1996-10-25 12:00")
    assert len(pending) >= 3
    rows, used = queued_features(bundle, pending, jobs, at=at)
    assert used == at
    offline = read_features(pipeline["features"]).set_index("job_id").loc[rows["job_id"]]
    names = bundle.feature_names
    pd.testing.assert_frame_equal(
        rows.set_index("job_id")[names].astype("float64", errors="ignore"),
        offline[names].astype("float64", errors="ignore"),
        check_dtype=False,
        check_categorical=False,
    )


def test_predict_queued_gives_p50_end_and_three_reasons(pipeline):
    jobs, at, pending = _queue_at(pipeline, "1996-10-25 12:00")
    out = predict_queued(pipeline["model"], pending, jobs, at=at)
    assert list(out["job_id"]) == list(pending["job_id"])
    assert (out["predicted_runtime_s"] <= out["time_limit_s"]).all()
    ends = out["predicted_end_if_started_now"] - at
    np.testing.assert_allclose(ends.dt.total_seconds(), out["predicted_runtime_s"], rtol=1e-6)
    assert all(len(r) == 3 for r in out["reasons"])
    assert all(r[0].endswith(" s") and ": " in r[0] for r in out["reasons"])


def test_predict_refuses_a_job_submitted_after_the_moment(pipeline):
    from hpcpredict.errors import HpcPredictError

    jobs, at, pending = _queue_at(pipeline, "1996-10-25 12:00")
    with pytest.raises(HpcPredictError, match="submitted after"):
        predict_queued(pipeline["model"], pending, jobs, at=at - pd.Timedelta(days=30))


def test_cli_predicts_a_queue_file_as_json(pipeline):
    out = subprocess.run(
        [sys.executable, "-m", "hpcpredict", "predict", str(pipeline["model"]), "--queue", str(QUEUE / "squeue.txt"), "--jobs", str(pipeline["jobs"]), "--at", "1997-07-04T05:00:00", "--json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [d["job_id"] for d in doc] == ["4242", "4250_3", "4260"]
    assert all(0 < d["predicted_runtime_s"] <= d["time_limit_s"] for d in doc)
    assert all(len(d["reasons"]) == 3 for d in doc)


def test_replay_matches_the_offline_predictions_exactly(pipeline):
    from hpcpredict.queue import replay

    result = replay(pipeline["model"], pipeline["jobs"], n=8)
    assert result["rows"] == 8
    assert result["max_abs_difference_s"] == 0.0
    assert {"replay", "offline", "requested_limit", "user_last2", "user_last2_completed", "alea_last2_max"} <= set(result["metrics"])
    assert result["metrics"]["replay"] == result["metrics"]["offline"]


def test_interval_models_give_p10_and_p90_in_the_queue_and_the_service(pipeline, tmp_path):
    import hpcpredict as hp
    from hpcpredict.serve import OnlinePredictor

    bundle = hp.train(pipeline["features"], tmp_path / "model", intervals=True, n_estimators=100)
    jobs, at, pending = _queue_at(pipeline, "1996-10-25 12:00")
    # the service predicts jobs submitted now, which the jobs table does not hold yet
    pending = pending.assign(submit_time=at, job_id="new-" + pending["job_id"])
    out = predict_queued(bundle, pending, jobs, at=at, reasons=0)
    assert (out["predicted_p10_s"] <= out["predicted_p90_s"]).all()
    assert (out["predicted_p90_s"] <= out["time_limit_s"]).all()
    online = OnlinePredictor(bundle, jobs, at=at).predict(pending, reasons=0)
    np.testing.assert_allclose([p["predicted_p10_s"] for p in online], out["predicted_p10_s"], rtol=1e-5)
    np.testing.assert_allclose([p["predicted_p90_s"] for p in online], out["predicted_p90_s"], rtol=1e-5)


def test_sacct_pending_dump_keeps_only_the_waiting_jobs():
    jobs = read_queue(Path(__file__).parent / "data" / "sacct-parsable2.txt")
    assert len(jobs) >= 1
    assert set(jobs["state"]) == {"PENDING"}
    # a pending array is one row per pending task, whatever the format
    assert {"1002_5", "1002_6", "1002_7", "1002_8", "1002_9"} <= set(jobs["job_id"])
