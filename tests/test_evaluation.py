"""Splits never train on what they test, per-job tables train and evaluate, bundles refuse mismatches."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import hpcpredict as hp
from hpcpredict.errors import BundleMismatchError
from hpcpredict.evaluate.splits import loao_folds, rolling_folds
from hpcpredict.metadata import feature_specs, with_metadata


def _table(n=900, seed=0):
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    t = start + pd.to_timedelta(np.sort(rng.uniform(0, 120, n)), unit="D")
    app = rng.choice(["ior", "hacc", "vpic", "dbscan"], n)
    nprocs = rng.choice([64, 128, 256], n)
    load = rng.uniform(0, 1, n)
    bw = 1000 * nprocs / 64 * (1 - 0.5 * load) * np.where(app == "ior", 2.0, 1.0) * rng.uniform(0.9, 1.1, n)
    return pd.DataFrame({"start": t, "app": app, "nprocs": nprocs, "fs_load": load, "darshan_io_time": 1e6 / bw, "bw_mib_per_s": bw})


@pytest.fixture(scope="module")
def byo(tmp_path_factory):
    out = tmp_path_factory.mktemp("byo")
    csv = out / "jobs.csv"
    _table(400).to_csv(csv, index=False)
    bundle = hp.train(csv, out / "model", target="bw_mib_per_s", time="start", app="app", exclude=["^darshan_"], n_estimators=20, intervals=True, params={"n_jobs": 1})
    return {"csv": csv, "model": out / "model", "bundle": bundle, "dir": out}


def test_per_job_table_features_follow_dtypes_and_exclusions(byo):
    features = {f.name: f.to_dict() for f in byo["bundle"].manifest_.features}
    assert set(features) == {"app", "nprocs", "fs_load"}  # darshan_io_time excluded, target and time are not features
    assert features["app"]["kind"] == "categorical" and features["nprocs"]["kind"] == "numeric"
    assert byo["bundle"].manifest_.time_column == "start"


def test_leave_one_app_out_never_trains_on_the_held_out_app():
    table = _table()
    folds = loao_folds(table, app="app")
    assert sorted(f.label for f in folds) == ["dbscan", "hacc", "ior", "vpic"]
    for fold in folds:
        assert fold.label not in set(table.loc[fold.train, "app"])
        assert set(table.loc[fold.test, "app"]) == {fold.label}


def test_rolling_origin_never_trains_on_the_future():
    table = _table()
    table["end_time"] = table["start"] + pd.Timedelta(days=3)
    folds = rolling_folds(table, pd.Timestamp("2024-03-01", tz="UTC"), time="start")
    assert [f.label for f in folds] == ["2024-03-01", "2024-04-01"]
    for fold in folds:
        assert table.loc[fold.train, "end_time"].max() <= fold.origin
        assert table.loc[fold.test, "start"].min() >= fold.origin


def test_evaluate_loao_with_groups_intervals_and_plot(byo, tmp_path):
    plot = tmp_path / "pva.png"
    result = hp.api.evaluate(byo["model"], byo["csv"], split="loao", by="app", plot=plot)
    assert result.predictors == ["model", "app_median", "training_median"]
    assert set(result.groups.index.get_level_values("app")) == {"ior", "hacc", "vpic", "dbscan"}
    assert 0 <= result.metrics.loc["model", "interval_coverage"] <= 1
    assert dict(result.unseen_categories) == {}  # every app is in the bundle; the refits are what leave one out
    assert plot.read_bytes()[:4] == b"\x89PNG"
    temporal = hp.api.evaluate(byo["model"], byo["csv"])
    # the per-app bandwidth is mostly the app and nprocs: the model should beat the app median
    assert temporal.metrics.loc["model", "mae"] < temporal.metrics.loc["app_median", "mae"]


def test_cli_trains_a_per_job_table_and_evaluates_with_split_flags(byo, tmp_path):
    # in-process (typer's runner): the same argument parsing and exit codes without three interpreter starts
    from typer.testing import CliRunner

    from hpcpredict.cli import app

    run = lambda *a: CliRunner().invoke(app, [str(x) for x in a])
    model = tmp_path / "m"
    out = run("train", byo["csv"], "-o", model, "--target", "bw_mib_per_s", "--time", "start", "--app", "app", "--exclude", "^darshan_", "--n-estimators", "10")
    assert out.exit_code == 0, out.stderr
    assert "trained on" in out.stderr and (model / "manifest.json").is_file()
    doc = json.loads(run("evaluate", model, byo["csv"], "--split", "kfold", "--folds", "3", "--json").stdout)
    assert doc["split"] == "kfold" and "flatters" in doc["split_note"] and len(doc["folds"]) == 3
    missing_time = run("train", byo["csv"], "-o", tmp_path / "x", "--target", "bw_mib_per_s")
    assert missing_time.exit_code == 2 and "--time" in missing_time.stderr


def _copy(byo, tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(byo["model"], copy)
    return copy


def test_a_table_with_a_feature_of_another_dtype_is_refused(byo):
    table = hp.model.load_training_table(byo["csv"], target="bw_mib_per_s", time="start", app="app", exclude=["^darshan_"])
    table["nprocs"] = table["nprocs"].map(lambda v: f"{v} ranks")
    with_metadata(table, features=[f for f in feature_specs(table) if f["name"] != "nprocs"] + [{"name": "nprocs", "family": "table"}])
    with pytest.raises(BundleMismatchError, match="feature 'nprocs': the model expects numbers"):
        hp.predict(byo["model"], table)
    table["nprocs"] = 64
    with_metadata(table, features=[{**f, "kind": "categorical"} if f["name"] == "fs_load" else f for f in feature_specs(table)])
    with pytest.raises(BundleMismatchError, match="feature 'fs_load': the model was trained on it as numeric"):
        hp.predict(byo["model"], table)


def _reseal(_, manifest: dict) -> None:
    """Recompute the manifest's checksum after an edit, as a deliberate forger would."""
    from hpcpredict.model.manifest import _checksum

    manifest["checksum"] = _checksum(manifest)


def test_edited_manifest_categories_dtypes_names_and_damaged_intervals_are_refused(byo, tmp_path):
    for edit, message in [
        (lambda m: [f.update(categories=["hacc", "ior", "dbscan", "vpic"]) for f in m["features"] if f["name"] == "app"], "does not match its checksum"),
        # a forger who also recomputes the checksum meets the model file's own record
        (lambda m: _reseal([f.update(kind="categorical", categories=["1"]) for f in m["features"] if f["name"] == "nprocs"], m), "'nprocs' is categorical in the manifest but numeric"),
        (lambda m: _reseal(m["features"].reverse(), m), "feature names"),
        (lambda m: _reseal(m.update(xgb_objective="reg:squarederror"), m), "objective is 'reg:absoluteerror'"),
        (lambda m: m.update(format_version=99), "format version 99.*retrain"),
        (lambda m: m.pop("checksum"), r"missing field\(s\) \['checksum'\]"),
        (lambda m: m.update(extra=1), r"unknown field\(s\) \['extra'\]"),
        (lambda m: m.update(n_trees="many"), "field 'n_trees' must be int"),
    ]:
        copy = _copy(byo, tmp_path / message[:8].replace(" ", "_").replace("'", ""))
        manifest = json.loads((copy / "manifest.json").read_text())
        edit(manifest)
        (copy / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(BundleMismatchError, match=message):
            hp.load_model(copy)
    copy = _copy(byo, tmp_path / "damaged")
    data = bytearray((copy / "intervals.ubj").read_bytes())
    data[-5] ^= 0xFF
    (copy / "intervals.ubj").write_bytes(bytes(data))
    with pytest.raises(BundleMismatchError, match="intervals.ubj: checksum does not match"):
        hp.load_model(copy)
