"""The heuristics a scheduler has, each scored on every job it can predict, beside the model."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import hpcpredict as hp
from hpcpredict import api
from hpcpredict.evaluate import baseline_predictions

from _repeating_users import repeating_users_features


def test_alea_and_last2_baselines_follow_their_definitions():
    table = pd.DataFrame(
        {
            "time_limit_s": [1000.0, 1000.0, np.nan, 1000.0],
            "user_last2_mean_s": [300.0, np.nan, 200.0, 5000.0],
            "user_alea_last2_max_s": [800.0, np.nan, np.nan, 1000.0],
        }
    )
    got = baseline_predictions(table)
    assert got["requested_limit"].tolist()[:2] == [1000.0, 1000.0] and np.isnan(got["requested_limit"][2])
    assert got["user_last2"].tolist() == [300.0, 1000.0, 200.0, 1000.0]  # no history → limit; capped at it
    np.testing.assert_array_equal(got["alea_last2_max"], [800.0, 1000.0, np.nan, 1000.0])  # neither limit nor history: none


@pytest.fixture(scope="module")
def no_limits(tmp_path_factory, kth_slice):
    """The KTH slice with every requested limit removed (as in NASA iPSC), trained once."""
    out = tmp_path_factory.mktemp("nolimit")
    api.ingest("swf", [kth_slice], out / "jobs.parquet")
    jobs = pd.read_parquet(out / "jobs.parquet").assign(time_limit_s=np.nan)
    jobs.to_parquet(out / "nolimit.parquet")
    api.features(out / "nolimit.parquet", out / "features.parquet", horizon="submit")
    api.train(out / "features.parquet", out / "model", n_estimators=100)
    return out


def test_a_trace_without_limits_scores_each_predictor_on_the_jobs_it_can_predict(no_limits):
    result = api.evaluate(no_limits / "model", no_limits / "features.parquet").to_dict()
    m = result["metrics"]
    assert result["rows"] > 500
    assert m["model"]["n"] == result["rows"] and m["model"]["mae"] > 0
    assert m["requested_limit"]["n"] == 0 and m["requested_limit"]["mae"] is None  # shown, with no rows (null in JSON)
    assert m["alea_last2_max"]["n"] == 0
    # last-2 has no fallback without a limit: scored on the jobs of users with history only
    assert 0 < m["user_last2"]["n"] < result["rows"]
    assert 0 < result["common"]["rows"] == min(m[p]["n"] for p in result["common"]["predictors"])
    assert "requested_limit" not in result["common"]["predictors"]
    assert result["common"]["metrics"]["model"]["n"] == result["common"]["rows"]


def test_cli_prints_a_non_empty_table_for_a_trace_without_limits(no_limits):
    cmd = [sys.executable, "-m", "hpcpredict", "evaluate", str(no_limits / "model"), str(no_limits / "features.parquet")]
    out = subprocess.run(cmd, capture_output=True, text=True, env={"COLUMNS": "250", "PATH": ""}, check=False)
    assert out.returncode == 0, out.stderr
    assert "jobs scored" in out.stdout and "MAE (s)" in out.stdout
    assert "every predictor with a value can predict" in out.stdout  # the common-rows table
    doc = json.loads(subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=True).stdout)
    assert doc["metrics"]["requested_limit"]["n"] == 0


def test_weekly_rolling_refits_on_jobs_ended_by_each_week(pipeline):
    from hpcpredict.evaluate import split_predictions
    from hpcpredict.features import read_features
    from hpcpredict.model import load_model

    bundle = load_model(pipeline["model"])
    table = read_features(pipeline["features"])
    preds, folds = split_predictions(bundle, table, split="rolling", freq="7D")
    origins = pd.to_datetime([f["origin"] for f in folds])
    assert len(folds) >= 2 and (np.diff(origins) <= pd.Timedelta(days=7)).all()
    assert len(preds) == bundle.manifest_.rows["test"]
    for f in folds:
        rows = preds.index[preds["fold"] == f["label"]]
        assert (table.loc[rows, "submit_time"] >= pd.Timestamp(f["origin"])).all()
    result = api.evaluate(bundle, table, split="rolling", every="7d").to_dict()
    assert result["metrics"]["model"]["n"] == len(preds) and "every 7d" in result["split_note"]
    with pytest.raises(hp.errors.ParameterError, match="every"):
        api.evaluate(bundle, table, split="rolling", every="weekly")


def _burst(tmp_path, n=40):
    """A burst of jobs submitted a second apart, each running an hour: none ends before the last is submitted."""
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    submit = t0 + pd.to_timedelta(np.arange(n), unit="s")
    jobs = pd.DataFrame(
        {"job_id": [str(i) for i in range(n)], "user": ["u1"] * (n // 2) + ["u2"] * (n - n // 2), "submit_time": submit, "start_time": submit,
         "end_time": submit + pd.Timedelta(hours=1), "runtime_s": 3600.0, "time_limit_s": 7200.0, "req_cpus": 4, "state": "COMPLETED"}
    )
    jobs.to_parquet(tmp_path / "jobs.parquet")
    api.features(tmp_path / "jobs.parquet", tmp_path / "features.parquet", horizon="submit")
    return tmp_path / "features.parquet"


def test_training_on_a_burst_where_no_job_had_ended_is_a_one_line_error(tmp_path):
    feats = _burst(tmp_path)
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "train", str(feats), "-o", str(tmp_path / "m")], capture_output=True, text=True, check=False)
    assert out.returncode == 2, out.stderr
    assert "no job had ended before the first held-out submission" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_evaluation_warns_of_a_test_set_dominated_by_one_user_and_one_second(pipeline, tmp_path):
    from hpcpredict.features import read_features

    table = read_features(pipeline["features"])
    late = table["submit_time"] >= table["submit_time"].quantile(0.9)
    table.loc[late, "user"] = "burst-user"
    table.loc[late, "submit_time"] = table.loc[late, "submit_time"].min()
    result = api.evaluate(pipeline["model"], table).to_dict()
    text = " ".join(result["warnings"])
    assert "dominated by one user" in text and "burst-user" in text and "same second" in text
    assert not api.evaluate(pipeline["model"], pipeline["features"]).warnings  # the plain slice has nothing to warn of


def test_a_feature_restating_the_target_is_named():
    from hpcpredict.evaluate.checks import restating_features

    rng = np.random.default_rng(1)
    t = pd.DataFrame({"runtime_s": rng.exponential(1000, 400), "req_cpus": rng.integers(1, 64, 400).astype(float)})
    t["cpu_seconds_used"] = t["runtime_s"] * 4 + rng.normal(0, 1, 400)
    got = restating_features(t, ["req_cpus", "cpu_seconds_used"], "runtime_s")
    assert len(got) == 1 and "cpu_seconds_used restates the target runtime_s" in got[0]


def test_a_model_of_a_few_trees_is_warned_of(pipeline, tmp_path):
    bundle = api.train(pipeline["features"], tmp_path / "m", n_estimators=5)
    assert any("only 5 trees" in w for w in api.evaluate(bundle, pipeline["features"]).warnings)


def test_a_model_without_the_repeats_of_a_request_is_warned_of(pipeline, tmp_path):
    """A feature table from before the repeats of a request trains, but its model blends one way
    for every job; the evaluation says so and how to fix it."""
    from hpcpredict.features import read_features
    from hpcpredict.features.history import REPEAT_FEATURES
    from hpcpredict.metadata import feature_specs, with_metadata

    table = read_features(pipeline["features"])
    old = with_metadata(table.drop(columns=list(REPEAT_FEATURES)), table.attrs, features=[f for f in feature_specs(table) if f["name"] not in REPEAT_FEATURES])
    bundle = api.train(old, tmp_path / "m")
    assert list(bundle.manifest_.combination["parts"]) == ["all"]
    warnings = api.evaluate(bundle, old).warnings
    assert any("not the repeats of a request" in w and "hpcpredict features" in w for w in warnings), warnings


def test_on_users_repeating_jobs_at_a_fixed_ratio_of_their_limit_the_model_matches_the_ratio_heuristic(tmp_path):
    repeating_users_features(tmp_path, n=3000, users=30, ratios=(0.05, 0.95), limits=[900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0], noise=0.02, seed=7, days=120)
    model = api.train(tmp_path / "features.parquet", tmp_path / "m")
    m = api.evaluate(model, tmp_path / "features.parquet").to_dict()["metrics"]
    alea = m["alea_last2_mean"]
    assert alea["average_accuracy"] > 0.95  # the heuristic is (nearly) exact here
    assert m["model"]["average_accuracy"] >= alea["average_accuracy"] - 0.02, (m["model"], alea)
    assert m["model"]["mae"] <= 1.5 * alea["mae"] + 30, (m["model"], alea)
    assert m["model"]["mae"] < 0.5 * m["requested_limit"]["mae"]


def test_exclude_on_a_feature_table_is_a_one_line_error_saying_what_it_is_for(pipeline, tmp_path):
    """`train FEATURES --exclude X` said "not a feature table (no hpcpredict feature metadata)" of a
    feature table; it says what --exclude is for."""
    out = subprocess.run([sys.executable, "-m", "hpcpredict", "train", str(pipeline["features"]), "-o", str(tmp_path / "m"), "--exclude", "^repeat_"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "--exclude" in out.stderr and "per-job table" in out.stderr and "not a feature table" not in out.stderr
    assert not (tmp_path / "m").exists()
