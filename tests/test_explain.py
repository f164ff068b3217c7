import json

import numpy as np
import pandas as pd
import shap

import hpcpredict as hp
from hpcpredict.evaluate import held_out_rows
from hpcpredict.explain import rank_families, shap_values
from hpcpredict.features import read_features
from hpcpredict.model import load_model


def test_shap_values_add_up_to_the_model_output_and_equal_shaps_tree_explainer(pipeline):
    bundle = load_model(pipeline["model"])
    table = read_features(pipeline["features"]).iloc[:200]
    explanation = shap_values(bundle, table)
    assert isinstance(explanation, shap.Explanation)
    raw = bundle.margin(table)
    np.testing.assert_allclose(explanation.values.sum(axis=1) + explanation.base_values, raw, rtol=1e-4, atol=1e-2)
    numeric = [i for i, f in enumerate(bundle.manifest_.features) if f.kind == "numeric"]
    if len(numeric) == len(bundle.feature_names):  # TreeExplainer on DataFrames needs no categoricals
        reference = shap.TreeExplainer(bundle.booster_).shap_values(bundle.encode(table).matrix)
        np.testing.assert_allclose(explanation.values, reference, rtol=1e-4, atol=1e-2)


def test_family_ranking_sums_within_family_before_averaging():
    expl = shap.Explanation(values=np.array([[1.0, -1.0, 2.0], [3.0, -3.0, -2.0]]), base_values=np.zeros(2), data=np.zeros((2, 3)), feature_names=["a", "b", "c"])
    ranking = rank_families(expl, {"a": "x", "b": "x", "c": "y"})
    assert list(ranking["family"]) == ["y", "x"]
    assert ranking.set_index("family").loc["x", "mean_abs_shap"] == 0.0


def test_explain_writes_tidy_values_ranking_and_plots(pipeline, tmp_path):
    result = hp.api.explain(pipeline["model"], pipeline["features"], tmp_path, top=5, interactions=40)
    bundle = load_model(pipeline["model"])
    n_test = len(held_out_rows(bundle, read_features(pipeline["features"])))
    assert result.rows == n_test
    assert len(result.features) == 5
    assert result.features["mean_abs_shap"].is_monotonic_decreasing
    tidy = pd.read_parquet(tmp_path / "shap_values.parquet")
    assert list(tidy.columns) == ["job_id", "feature", "family", "value", "shap"]
    assert len(tidy) == n_test * len(bundle.feature_names)
    assert json.loads((tmp_path / "ranking.json").read_text())["rows"] == n_test
    top = result.features["feature"].iloc[0]
    plots = ("features_bar.png", "families_bar.png", "beeswarm.png", "drift_heatmap.png", "interactions.png", f"dependence_{top}.png")
    for name in plots:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for ranking in (result.features, result.families):
        assert (ranking["ci_low"] <= ranking["mean_abs_shap"]).all() and (ranking["mean_abs_shap"] <= ranking["ci_high"]).all()
    assert result.sampling["method"] == "all" and 0 <= result.sampling["stability"]["top_k_agreement"] <= 1
    assert list(result.drift["window"]) == list(result.windows.index)[1:]
    assert len(result.interactions) == 10 and result.interactions["mean_abs_interaction"].iloc[0] > 0
    assert result.permutation.comparison["top_k"] == 5
    assert not (tmp_path / "cohorts.parquet").exists()  # KTH records no application or partition: no cohort to rank
    assert set(pd.read_parquet(tmp_path / "windows.parquet")["feature"]) == set(bundle.feature_names)
