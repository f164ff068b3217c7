"""The model defines its features: every path builds exactly the model's columns, for every kind of model."""

import numpy as np
import pandas as pd
import pytest

import hpcpredict as hp
from hpcpredict.features import build_features
from hpcpredict.model import RuntimeModel
from hpcpredict.queue import as_of, latest_time, predict_queued, queued_features
from hpcpredict.schema import conform_jobs
from hpcpredict.metadata import feature_specs


def test_features_built_for_a_model_are_exactly_its_columns_whatever_the_jobs_hold(pipeline):
    model = RuntimeModel.load(pipeline["model"])
    jobs = pd.read_parquet(pipeline["jobs"])
    assert "user_ratio_last10" in model.feature_names
    # a site's jobs table without time limits: the ratio features are empty for every job, and
    # the builder left them out, so predicting a queue failed with KeyError 'user_ratio_last10'
    no_limits = jobs.assign(time_limit_s=np.nan)
    table = build_features(no_limits, horizon="submit", names=model.feature_names)
    assert [c for c in table.columns if c in set(model.feature_names) | {"time_limit_s"}] == [c for c in table.columns if c in model.feature_names or c == "time_limit_s"]
    assert set(model.feature_names) <= set(table.columns)
    assert table["user_ratio_last10"].isna().all() and [f["name"] for f in feature_specs(table)] == model.feature_names
    assert "user_ratio_last10" not in build_features(no_limits, horizon="submit").columns  # left alone without a model
    pending = no_limits.tail(3).assign(state="PENDING")
    out = predict_queued(model, pending, no_limits.iloc[:-3], reasons=0)
    assert len(out) == 3 and np.isfinite(out["predicted_runtime_s"]).all()


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    """The demo's monitoring queue model, small: a tiny simulated cluster, submit features with
    samples and the optional user-activity group (the service computes those per user)."""
    out = tmp_path_factory.mktemp("monitored")
    hp.api.simulate(out / "dump", preset="tiny", seed=0)
    hp.api.ingest("sacct", [out / "dump" / "sacct.txt"], out / "jobs.parquet")
    hp.ingest_samples("ldms", [out / "dump" / "ldms"], out / "samples")
    hp.api.features(out / "jobs.parquet", out / "features.parquet", horizon="submit", samples=out / "samples", optional=["user-activity"])
    hp.train(out / "features.parquet", out / "model", n_estimators=60)
    return out


def test_the_service_serves_a_monitoring_model_with_offline_features(monitored):
    from fastapi.testclient import TestClient

    from hpcpredict.serve import OnlinePredictor, create_app

    model = RuntimeModel.load(monitored / "model")
    assert any(name.startswith("sys_") for name in model.feature_names)
    jobs = pd.read_parquet(monitored / "jobs.parquet")
    online = OnlinePredictor(model, jobs, monitored / "samples")
    # submitted at the snapshot: the service describes the system as a job submitted now sees it
    # new jobs (ids the jobs table does not hold), as the service sees a submission: the queue's own
    # jobs, asked again, are counted as queued by the service's snapshot but not by the offline path
    queue = hp.read_queue(monitored / "dump" / "queue.txt").head(5)
    pending = queue.assign(submit_time=online.at, job_id="new-" + queue["job_id"].astype(str))
    rows, _ = queued_features(model, pending, jobs, monitored / "samples", online.at)
    # the system-state features the service holds are those the offline builder gives
    system = [n for n in model.feature_names if n.startswith("sys_")]
    np.testing.assert_allclose([online._system[n] for n in system], rows.loc[0, system].to_numpy(float), rtol=1e-6)
    offline = predict_queued(model, pending, jobs, monitored / "samples", at=online.at, reasons=0)
    served = online.predict(pending, reasons=0)
    np.testing.assert_allclose([p["predicted_runtime_s"] for p in served], offline["predicted_runtime_s"], rtol=1e-5)
    client = TestClient(create_app(monitored / "model", jobs=monitored / "jobs.parquet", samples=monitored / "samples"))
    answer = client.post("/predict", json={"jobs": [{"job_id": "new", "user": "u1", "time_limit_s": 3600, "req_nodes": 2}]})
    assert answer.status_code == 200 and answer.json()["predictions"][0]["predicted_runtime_s"] > 0


def test_a_queued_job_asked_again_gets_the_same_features_offline_and_in_the_service(monitored):
    from hpcpredict.serve import OnlinePredictor

    model = RuntimeModel.load(monitored / "model")
    jobs = pd.read_parquet(monitored / "jobs.parquet")
    online = OnlinePredictor(model, jobs, monitored / "samples")
    queue = hp.read_queue(monitored / "dump" / "queue.txt")
    assert len(queue) >= 2 and queue["job_id"].isin(jobs["job_id"]).all()  # the jobs table holds the queue's jobs
    numeric = [n for n in model.feature_names if model.feature_kinds_[n] != "categorical"]
    # asked with the queue's times, "now", or with no time: each job was submitted when the
    # scheduler says, so the answer is the same, and offline and service agree on it
    for asked in (queue, queue.assign(submit_time=online.at), queue.assign(submit_time=pd.NaT)):
        rows, _ = queued_features(model, asked, jobs, monitored / "samples", online.at)
        np.testing.assert_array_equal(rows["submit_time"], queue["submit_time"])
        served = online.matrix([{k: (None if pd.api.types.is_scalar(v) and pd.isna(v) else v) for k, v in job.items()} for job in asked.to_dict(orient="records")])
        np.testing.assert_allclose(served.matrix[:, [model.feature_names.index(n) for n in numeric]], rows[numeric].to_numpy(float), rtol=1e-6)
        offline = predict_queued(model, asked, jobs, monitored / "samples", at=online.at, reasons=0)
        np.testing.assert_allclose([p["predicted_runtime_s"] for p in online.predict(asked, reasons=0)], offline["predicted_runtime_s"], rtol=1e-5)
    # at its submit time a queued job sees the jobs waiting then (the queue's earlier jobs among
    # them), never itself: a brute-force count over what the scheduler knew at the snapshot
    known = as_of(conform_jobs(jobs), online.at)
    leave = known["start_time"].fillna(known["end_time"])
    for job_id, t, count in zip(rows["job_id"], rows["submit_time"], rows["queue_queued_jobs_at_submit"]):
        waiting = (known["job_id"] != job_id) & (known["submit_time"] < t) & ~(leave < t).fillna(False)
        assert count == waiting.sum() >= (queue["submit_time"] < t).sum()
    assert rows["queue_queued_jobs_at_submit"].nunique() > 1  # not one snapshot for every job


def test_without_samples_a_monitoring_model_is_refused_in_one_line(monitored):
    from typer.testing import CliRunner

    from hpcpredict.cli import app

    res = CliRunner().invoke(app, ["serve", str(monitored / "model"), "--jobs", str(monitored / "jobs.parquet"), "--port", "0"])
    assert res.exit_code == 2 and "give the samples folder with --samples" in res.output and "Traceback" not in res.output


def test_a_model_trained_on_a_csv_table_runs_every_verb(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    start = 1.6e9 + np.arange(n) * 3600.0
    nprocs = rng.choice([4, 8, 16], n)
    runtime = 50 * nprocs + rng.uniform(0, 100, n)
    csv = tmp_path / "runs.csv"
    # end_time in epoch seconds: it was compared with a Timestamp (TypeError) before
    pd.DataFrame({"start": start, "end_time": start + runtime, "nprocs": nprocs, "app": rng.choice(["a", "b"], n), "runtime": runtime}).to_csv(csv, index=False)
    model = hp.train(csv, tmp_path / "m", target="runtime", time="start", n_estimators=50)
    assert model.feature_names == ["nprocs", "app"]  # end_time read as a time, not a feature
    assert hp.api.evaluate(tmp_path / "m", csv).rows == model.manifest_.rows["test"]
    assert len(hp.api.explain(tmp_path / "m", csv, interactions=0, n_boot=10).families)
    hp.api.report(tmp_path / "m", csv, tmp_path / "report.html", interactions=0)
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert len(hp.predict(tmp_path / "m", csv)) == n
    queue = tmp_path / "queue.csv"
    pd.DataFrame({"job_id": ["q1", "q2"], "nprocs": [4, 16], "app": ["a", "b"]}).to_csv(queue, index=False)
    out = hp.predict(tmp_path / "m", queue=queue)
    assert out["predicted_runtime_s"].iloc[1] > out["predicted_runtime_s"].iloc[0]
    with pytest.raises(hp.HpcPredictError, match=r"the queue lacks its columns \['app'\]"):
        hp.predict(tmp_path / "m", queue=pd.DataFrame({"job_id": ["q3"], "nprocs": [8]}))


def test_specs_live_in_the_parquet_metadata_and_a_per_job_parquet_runs_every_verb(tmp_path, pipeline):
    from hpcpredict._atomic import read_parquet_metadata, write_parquet
    from hpcpredict.features import read_features
    from hpcpredict.metadata import table_metadata
    from hpcpredict.model import load_training_table

    # a feature table's specs are what its Parquet metadata says, nothing added or lost
    assert table_metadata(read_features(pipeline["features"])) == read_parquet_metadata(pipeline["features"])
    rng = np.random.default_rng(1)
    n = 240
    nprocs = rng.choice([4, 8, 16], n)
    frame = pd.DataFrame({"start": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"), "nprocs": nprocs, "app": rng.choice(["a", "b"], n), "runtime": 50 * nprocs + rng.uniform(0, 100, n)})
    plain = tmp_path / "runs.parquet"
    frame.to_parquet(plain)  # a per-job Parquet from elsewhere: no hpcpredict metadata
    model = hp.train(plain, tmp_path / "m", target="runtime", time="start", n_estimators=40)
    assert hp.api.evaluate(tmp_path / "m", plain).rows == model.manifest_.rows["test"]
    assert list(hp.api.explain(tmp_path / "m", plain, interactions=0, n_boot=10).values.feature_names) == ["nprocs", "app"]
    assert len(hp.predict(tmp_path / "m", plain)) == n
    # the same table once read, written with its metadata, is a feature table: no --time needed again
    table = load_training_table(plain, target="runtime", time="start")
    marked = tmp_path / "runs-features.parquet"
    write_parquet(table, marked, metadata=table_metadata(table))
    assert read_parquet_metadata(marked)["table_source"]["time"] == "start"
    again = hp.train(marked, tmp_path / "m2", target="runtime", n_estimators=40)
    assert again.feature_names == model.feature_names and again.manifest_.time_column == "start"


def test_only_the_metadata_accessor_touches_dataframe_attrs():
    import re
    from pathlib import Path

    package = Path(hp.__file__).parent
    hits = [f"{p.relative_to(package)}:{i}" for p in package.rglob("*.py") if p.name != "metadata.py" for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\.attrs\b", line)]
    assert hits == []


def test_the_users_own_features_are_per_user_and_agree_offline_and_in_the_service(monitored):
    """New jobs at the snapshot (users with jobs in flight, a user with no history, no user) and
    waiting jobs asked again, in one request: the service's values are the offline path's, per user."""
    from hpcpredict.features.queue import USER_QUEUE_FEATURES
    from hpcpredict.serve import OnlinePredictor

    names = ["user_since_last_submit_s", *USER_QUEUE_FEATURES]
    model = RuntimeModel.load(monitored / "model")
    assert set(names) <= set(model.feature_names)  # a model trained with --with user-activity carries them
    jobs = pd.read_parquet(monitored / "jobs.parquet")
    # a minute after the last event: the service counts a job that ended at the very moment of the
    # snapshot as history for a job submitted now, predict --queue at that --at does not (a tie)
    at = latest_time(conform_jobs(jobs)) + pd.Timedelta(minutes=1)
    online = OnlinePredictor(model, jobs, monitored / "samples", at=at)
    known = as_of(conform_jobs(jobs), at)
    users = sorted(known["user"].dropna().unique())
    new = pd.DataFrame({"job_id": [f"new-{u}" for u in users] + ["new-stranger", "new-anonymous"], "user": users + ["stranger", None], "submit_time": at, "time_limit_s": 3600.0, "req_nodes": 1})
    queue = hp.read_queue(monitored / "dump" / "queue.txt")
    asked = pd.concat([new, queue], ignore_index=True)
    rows, _ = queued_features(model, asked, jobs, monitored / "samples", at)
    served = online.matrix([{k: (None if pd.api.types.is_scalar(v) and pd.isna(v) else v) for k, v in job.items()} for job in asked.to_dict(orient="records")])
    numeric = [n for n in model.feature_names if model.feature_kinds_[n] != "categorical"]
    service = pd.DataFrame(served.matrix[:, [model.feature_names.index(n) for n in numeric]].astype(float), columns=numeric)
    np.testing.assert_allclose(service[numeric].to_numpy(), rows[numeric].to_numpy(float), rtol=1e-6)
    np.testing.assert_array_equal(service[names].to_numpy(), rows[names].to_numpy(float))
    # brute force over what the scheduler knew at the snapshot, per job at its own submit time
    leave = known["start_time"].fillna(known["end_time"])
    for job, t, got in zip(rows["job_id"], rows["submit_time"], service[names].to_numpy()):
        user = asked.loc[asked["job_id"] == job, "user"].iloc[0]
        if pd.isna(user):
            assert np.isnan(got).all()
            continue
        mine = known[(known["user"] == user) & (known["job_id"] != job)]
        earlier = mine.loc[mine["submit_time"] < t, "submit_time"]
        running = ((mine["start_time"] < t) & ~(mine["end_time"] < t)).sum()
        queued = ((mine["submit_time"] < t) & ~(leave.loc[mine.index] < t).fillna(False)).sum()
        gap = (t - earlier.max()).total_seconds() if len(earlier) else np.nan
        np.testing.assert_array_equal(got, [gap, running, queued], err_msg=f"job {job}")
    # the values vary by user (a snapshot-wide value would be one number), with jobs in flight
    fresh = service.iloc[: len(users)]
    assert fresh[USER_QUEUE_FEATURES[0]].nunique() > 1 and (fresh[list(USER_QUEUE_FEATURES)] > 0).any().all()
    assert service.loc[len(users), names].tolist()[1:] == [0.0, 0.0] and np.isnan(service.loc[len(users), names[0]])  # a stranger
    offline = predict_queued(model, asked, jobs, monitored / "samples", at=at, reasons=0)
    np.testing.assert_allclose([p["predicted_runtime_s"] for p in online.predict(asked, reasons=0)], offline["predicted_runtime_s"], rtol=1e-5)


def test_the_repeats_of_a_request_agree_offline_and_in_the_service(monitored):
    """A job submitted now, as a request the user made before (its limit typed as an integer, as a
    client sends it; the accounting holds a float) and as one never made: the service's repeat
    features are the offline builder's, and so is the class of history they give."""
    from hpcpredict.features.history import REPEAT_FEATURES
    from hpcpredict.serve import OnlinePredictor

    model = RuntimeModel.load(monitored / "model")
    jobs = pd.read_parquet(monitored / "jobs.parquet")
    online = OnlinePredictor(model, jobs, monitored / "samples")
    done = jobs.loc[jobs["end_time"].notna() & jobs["time_limit_s"].notna() & jobs["req_cpus"].notna()].iloc[-1]
    request = {"user": str(done["user"]), "time_limit_s": int(done["time_limit_s"]), "req_cpus": int(done["req_cpus"]), "req_nodes": 1}
    asked = [{"job_id": "again", **request}, {"job_id": "new", **request, "time_limit_s": int(done["time_limit_s"]) + 60}]
    served = online.matrix(asked)
    # the service reads history as of just after its snapshot (a job that ended at that very moment counts)
    after = online.at + pd.Timedelta(microseconds=1)
    rows, _ = queued_features(model, pd.DataFrame(asked).assign(submit_time=after), jobs, monitored / "samples", after)
    columns = [model.feature_names.index(n) for n in REPEAT_FEATURES]
    np.testing.assert_allclose(served.matrix[:, columns], rows[list(REPEAT_FEATURES)].to_numpy(float), rtol=1e-6)
    count = served.matrix[:, model.feature_names.index("repeat_count_prior")]
    assert count[0] >= 1 and count[1] == 0
