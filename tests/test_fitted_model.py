"""One fitted-model object: its manifest is read from the estimator, parsed strictly, and sealed."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hpcpredict as hp
from hpcpredict.errors import BundleMismatchError
from hpcpredict.model import RuntimeModel
from hpcpredict.model.manifest import _checksum
from hpcpredict.model.persist import _sha256, probe_in_child

PACKAGE = Path(hp.__file__).parent


def _reseal(folder: Path, **changes) -> None:
    """Edit the manifest and recompute its checksum (a forger who knows the format)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(changes)
    manifest["checksum"] = _checksum(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_manifest_records_the_fitted_estimator_not_the_arguments(pipeline, tmp_path):
    # params override the keyword defaults: 50 trees, no early stopping, no validation rows used
    model = hp.train(pipeline["features"], tmp_path / "m", params={"n_estimators": 50, "early_stopping_rounds": None})
    back = RuntimeModel.load(tmp_path / "m")
    for manifest in (model.manifest_, back.manifest_):
        assert manifest.n_trees == 50 == back.booster_.num_boosted_rounds()
        assert manifest.early_stopping_rounds is None
        assert manifest.rows["validation"] == 0
        assert manifest.hyperparameters["n_estimators"] == 50
        assert manifest.xgb_params["objective"] == "reg:absoluteerror"


def test_grep_finds_no_manifest_string_keys_outside_the_model_package():
    hits = [
        f"{path.relative_to(PACKAGE.parent)}:{i}"
        for path in PACKAGE.rglob("*.py")
        if "model" not in path.relative_to(PACKAGE).parts[:1]
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"manifest\[", line)
    ]
    assert hits == []


def test_an_old_bundle_is_refused_saying_how_to_retrain(pipeline, tmp_path):
    copy = tmp_path / "old"
    shutil.copytree(pipeline["model"], copy)
    (copy / "manifest.json").write_text(json.dumps({"format_version": 1, "features": [], "params": {}}))
    with pytest.raises(BundleMismatchError, match=r"format version 1, this hpcpredict reads version 5; retrain it .*hpcpredict train"):
        RuntimeModel.load(copy)


def test_the_intervals_model_cannot_stand_in_for_the_main_one(pipeline, tmp_path):
    for objective, message in (("absolute", "objective is 'reg:quantileerror'"), ("underestimate", "3 output")):
        folder = tmp_path / objective
        hp.train(pipeline["features"], folder, objective=objective, intervals=True, n_estimators=20)
        shutil.copy(folder / "intervals.ubj", folder / "model.ubj")
        _reseal(folder, model_sha256=_sha256(folder / "model.ubj"))
        with pytest.raises(BundleMismatchError, match=message):
            RuntimeModel.load(folder)


def test_a_categorical_given_as_integer_codes_is_refused():
    X = pd.DataFrame({"nodes": np.arange(200.0), "queue": ["debug", "normal"] * 100})
    model = RuntimeModel(n_estimators=5, early_stopping_rounds=None).fit(X, 1 + X["nodes"])
    with pytest.raises(ValueError, match="feature 'queue' is categorical: give its category labels"):
        model.predict(X.assign(queue=[0, 1] * 100))
    with pytest.raises(ValueError, match="feature 'queue' is categorical"):
        model.predict({"nodes": np.array([3.0]), "queue": [1]})  # the one-row (service) path too
    # labels work, and an unseen label is a missing value, on both paths alike
    labels = X.iloc[:3].assign(queue=["normal", "debug", "gpu"])
    rows = {"nodes": labels["nodes"].to_numpy(), "queue": list(labels["queue"])}
    np.testing.assert_array_equal(model.predict(labels), model.predict(rows))


def test_a_model_file_that_fails_to_load_is_refused_by_the_probe_process(pipeline, tmp_path):
    folder = tmp_path / "forged"
    shutil.copytree(pipeline["model"], folder)
    data = (folder / "model.ubj").read_bytes()
    (folder / "model.ubj").write_bytes(data[: len(data) // 2])
    _reseal(folder, model_sha256=_sha256(folder / "model.ubj"))
    with pytest.raises(BundleMismatchError, match=r"forged: refused, the model cannot be loaded and run: .*not a readable XGBoost model"):
        probe_in_child(folder)
    probe_in_child(pipeline["model"])  # a sound bundle passes
