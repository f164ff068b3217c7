"""The same checks on the CPU and, where a CUDA device is present, on the GPU (``-m gpu``).

``gpu``-marked cases are skipped without a GPU (hook in conftest.py).
"""

import numpy as np
import pytest

import hpcpredict as hp
from hpcpredict.errors import ParameterError
from hpcpredict.explain import shap_values
from hpcpredict.features import read_features
from hpcpredict.model import load_model
from hpcpredict.serve.online import OnlinePredictor

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.mark.parametrize("device", DEVICES)
def test_train_on_device_scores_like_the_cpu_model(pipeline, tmp_path, device):
    bundle = hp.train(pipeline["features"], tmp_path / "m", n_estimators=300, device=device)
    assert bundle.manifest_.hyperparameters["device"] == device
    mine = hp.api.evaluate(bundle, pipeline["features"]).to_dict()["metrics"]
    cpu = hp.api.evaluate(pipeline["model"], pipeline["features"]).to_dict()["metrics"]
    # GPU hist grows the same trees up to float summation order; 5% as for Dask (seed-to-seed spread)
    assert mine["model"]["mae"] == pytest.approx(cpu["model"]["mae"], rel=0.05)
    assert mine["model"]["mae"] < mine["requested_limit"]["mae"]


@pytest.mark.parametrize("device", DEVICES)
def test_predict_on_device_equals_cpu_prediction(pipeline, device):
    bundle = load_model(pipeline["model"])
    table = read_features(pipeline["features"])
    cpu = bundle.predict(table)
    np.testing.assert_allclose(bundle.predict(table, device=device), cpu, rtol=1e-4)
    out = hp.predict(bundle, table, device=device)
    np.testing.assert_allclose(out["predicted_runtime_s"], cpu, rtol=1e-4)
    online = OnlinePredictor(bundle, device=device)
    assert online.device == device


@pytest.mark.parametrize("device", DEVICES)
def test_shap_on_device_equals_cpu_values_and_adds_up(pipeline, device):
    bundle = load_model(pipeline["model"])
    table = read_features(pipeline["features"]).iloc[:500]
    cpu = shap_values(bundle, table)
    mine = shap_values(bundle, table, device=device)  # checks additivity itself
    np.testing.assert_allclose(mine.values, cpu.values, rtol=1e-4, atol=1e-4 * np.abs(cpu.values).max())
    np.testing.assert_allclose(mine.base_values, cpu.base_values, rtol=1e-6)


def test_unknown_device_names_the_parameter(pipeline):
    bundle = load_model(pipeline["model"])
    with pytest.raises(ParameterError, match="device"):
        bundle.predict(read_features(pipeline["features"]), device="tpu")
