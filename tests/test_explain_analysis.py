"""SHAP rankings a user can trust: exact, stable, with confidence, per window, per pair, per job.

Synthetic models with planted causes, so the right answer is known. (Planted-cause recovery on the
cluster simulator comes when the simulator is merged.)
"""

import numpy as np
import pandas as pd
import pytest
import shap

import hpcpredict
from hpcpredict.explain import (
    bootstrap_rankings,
    compare_importance,
    drift_summary,
    explain_job,
    format_effect,
    interaction_matrix,
    permutation_importance,
    rank_by_cohort,
    rank_by_window,
    rank_features,
    ranking_stability,
    reasons,
    shap_values,
    stable_shap_values,
    stratified_order,
    top_interactions,
)
from hpcpredict.model import RuntimeModel, load_training_table, train
from hpcpredict.model.describe import describe_fit

FAMILIES = {"x_big": "request", "x_mid": "history", "x_small": "queue", "x_late": "filesystem", "period": "calendar"}
DESCRIPTIONS = {
    "x_big": "requested time limit",
    "x_mid": "mean runtime of the user's last two finished jobs",
    "x_small": "jobs waiting in the queue",
    "x_late": "filesystem load before submission",
    "period": "after the upgrade",
}


def synthetic(n=4000, *, switch=False, log=False, seed=0, trees=60):
    """Jobs over four months; y depends on x_big >> x_mid >> x_small, or (switch) on x_late after
    the second month instead of x_big."""
    rng = np.random.default_rng(seed)
    submit = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.sort(rng.uniform(0, 120, n)), unit="D")
    table = pd.DataFrame({name: rng.normal(size=n) for name in ("x_big", "x_mid", "x_small", "x_late")})
    table["period"] = (submit >= pd.Timestamp("2024-03-01", tz="UTC")).astype(float)
    dominant = np.where(table["period"] == 1, table["x_late"], table["x_big"]) if switch else table["x_big"]
    y = 600 + 200 * dominant + 60 * table["x_mid"] + 15 * table["x_small"] + rng.normal(scale=5, size=n)
    table["job_id"] = [f"j{i}" for i in range(n)]
    table["submit_time"] = submit
    table["app"] = rng.choice(["lammps", "vasp", "wrf"], size=n, p=[0.6, 0.3, 0.1])
    table["runtime_s"] = y.clip(lower=1)
    names = list(FAMILIES)
    model = RuntimeModel(
        "squared_log" if log else "absolute", n_estimators=trees, early_stopping_rounds=None, max_depth=4, learning_rate=0.3,
        subsample=1.0, colsample_bytree=1.0, min_child_weight=1.0, random_state=seed, n_jobs=1,
    )
    model.fit(table[names], table["runtime_s"])
    specs = [{"name": f, "family": FAMILIES[f], "horizon": "submit", "kind": "numeric", "description": DESCRIPTIONS[f]} for f in names]
    model.manifest_ = describe_fit(model, target="runtime_s", specs=specs, horizon="submit", time_column="submit_time")
    return model, table


@pytest.fixture(scope="module")
def model():
    return synthetic()


def test_values_add_up_and_equal_shaps_tree_explainer(model):
    bundle, table = model
    explanation = shap_values(bundle, table.iloc[:300])
    margin = bundle.margin(table.iloc[:300])
    np.testing.assert_allclose(explanation.values.sum(axis=1) + explanation.base_values, margin, rtol=1e-5, atol=1e-3)
    reference = shap.TreeExplainer(bundle.booster_).shap_values(bundle.encode(table.iloc[:300]).matrix)
    np.testing.assert_allclose(explanation.values, reference, rtol=1e-4, atol=1e-3)


def test_bootstrap_ci_contains_the_point_estimate_and_ranks_the_planted_order(model):
    bundle, table = model
    features, families = bootstrap_rankings(shap_values(bundle, table.iloc[:1000]), bundle.families, n_boot=100)
    assert list(features["feature"][:3]) == ["x_big", "x_mid", "x_small"]
    for ranking in (features, families):
        assert ((ranking["ci_low"] <= ranking["mean_abs_shap"]) & (ranking["mean_abs_shap"] <= ranking["ci_high"])).all()
        assert (ranking["ci_high"] > ranking["ci_low"]).all()
    assert families["family"].iloc[0] == "request"


def test_stratified_prefixes_keep_each_months_share():
    months = np.repeat(["2024-01-15", "2024-02-15", "2024-03-15"], [600, 300, 100])
    table = pd.DataFrame({"submit_time": pd.to_datetime(months, utc=True), "app": "a"})
    order = stratified_order(table, seed=1)
    assert sorted(order) == list(range(1000))
    counts = np.bincount(pd.factorize(months[order[:100]])[0])
    assert list(counts) == [60, 30, 10]


def test_sampled_ranking_agrees_with_the_full_one_on_the_top_features():
    bundle, table = synthetic(n=6000, seed=2)
    full = rank_features(shap_values(bundle, table), bundle.families)
    explanation, record = stable_shap_values(bundle, table, top=3, start=400, max_rows=3000)
    sampled = rank_features(explanation, bundle.families)
    assert record["method"] == "stratified"
    assert record["rows_explained"] < len(table)
    assert record["stability"]["top_k_agreement"] >= 0.9
    assert list(sampled["feature"][:3]) == list(full["feature"][:3])


def test_sample_grows_by_doubling_until_the_largest_size_when_never_stable():
    bundle, table = synthetic(n=3000, seed=5)
    explanation, record = stable_shap_values(bundle, table, top=5, start=250, max_rows=1000, target=1.01)
    assert [s["rows"] for s in record["steps"]] == [250, 500, 1000]
    assert record["rows_explained"] == explanation.values.shape[0] == 1000
    assert len(set(explanation.job_ids)) == 1000  # a longer prefix adds rows, never repeats one


def test_stability_is_low_when_features_are_tied():
    rng = np.random.default_rng(0)
    tied = shap.Explanation(values=rng.normal(size=(50, 6)), base_values=np.zeros(50), data=np.zeros((50, 6)), feature_names=list("abcdef"))
    assert ranking_stability(tied, top=2)["top_k_agreement"] < 0.9


def test_drift_summary_detects_the_planted_switch_of_dominant_feature():
    bundle, table = synthetic(n=4000, switch=True, seed=3)
    explanation = shap_values(bundle, table)
    by_window = rank_by_window(explanation, table["submit_time"])
    assert list(by_window.index) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    drift = drift_summary(by_window).set_index("window")
    assert drift["top_changed"].tolist() == [False, True, False]
    assert drift.loc["2024-03", "top_feature"] == "x_late"
    assert drift.loc["2024-03", "spearman"] < drift.loc["2024-02", "spearman"]
    assert drift.loc["2024-03", "kendall"] < drift.loc["2024-04", "kendall"]


def test_cohort_rankings_cover_the_large_cohorts_only(model):
    bundle, table = model
    explanation = shap_values(bundle, table.iloc[:500])
    cohorts = rank_by_cohort(explanation, bundle.families, table["app"].iloc[:500].to_numpy(), min_rows=60)
    assert set(cohorts["cohort"]) == {"lammps", "vasp"}  # wrf has about 50 rows
    first = cohorts[(cohorts["level"] == "feature") & (cohorts["rank"] == 1)]
    assert set(first["name"]) == {"x_big"}


def test_interaction_matrix_is_symmetric_and_its_rows_sum_to_the_shap_values(model):
    bundle, table = model
    rows = table.iloc[:120]
    signed = interaction_matrix(bundle, rows, sample=None, absolute=False, batch_size=50)
    np.testing.assert_allclose(signed.to_numpy(), signed.to_numpy().T, atol=1e-3)
    mean_shap = shap_values(bundle, rows).values.mean(axis=0)
    np.testing.assert_allclose(signed.sum(axis=1).to_numpy(), mean_shap, rtol=1e-3, atol=1e-2)
    strength = interaction_matrix(bundle, rows, sample=None)
    assert (strength.to_numpy() >= 0).all()
    pairs = top_interactions(strength, top=3)
    assert len(pairs) == 3 and (pairs["feature_a"] != pairs["feature_b"]).all()


def test_one_job_explained_in_seconds_and_in_percent():
    bundle, table = synthetic(n=2000, seed=4)
    row = table.iloc[7]
    one = explain_job(bundle, row)
    assert one.values.shape == (5,)
    assert one.prediction == pytest.approx(float(np.sum(one.values) + one.base_values), rel=1e-5)
    words = reasons(one, bundle)
    assert len(words) == 3
    biggest = DESCRIPTIONS[bundle.feature_names[int(np.argmax(np.abs(one.values)))]]
    assert words[0].startswith(biggest + " is ")
    assert words[0].endswith(" s") and ("+" in words[0] or "-" in words[0])

    log_bundle, log_table = synthetic(n=2000, seed=4, log=True)
    log_words = reasons(explain_job(log_bundle, log_table.iloc[[7]]), log_bundle, top=2)
    assert len(log_words) == 2 and all(w.endswith("%") or ": x" in w for w in log_words)


def test_effects_read_as_a_user_expects():
    assert format_effect(np.log(0.65), log_output=True) == "-35%"
    assert format_effect(np.log(1.2), log_output=True) == "+20%"
    assert format_effect(np.log(3.0), log_output=True) == "x3.0"
    assert format_effect(1200.4, log_output=False) == "+1,200 s"


def test_permutation_importance_agrees_on_the_planted_order_and_disagreements_are_named(model):
    bundle, table = model
    perm = permutation_importance(bundle, table, n_repeats=2, max_rows=1500)
    assert list(perm["feature"][:2]) == ["x_big", "x_mid"]
    assert perm.loc[perm["feature"] == "period", "mae_increase"].item() < perm["mae_increase"].iloc[1]
    shap_rank = pd.DataFrame({"feature": ["x_mid", "period", "x_big"], "rank": [1, 2, 3]})
    comparison = compare_importance(shap_rank, perm, top=2)
    assert comparison["only_shap"] == ["period"] and comparison["only_permutation"] == ["x_big"]
    assert not comparison["agree"]


def test_a_sample_of_a_per_job_table_is_explained_in_its_own_time_order(tmp_path):
    # A per-job table names its own time column (here epoch seconds); there is no submit_time.
    rng = np.random.default_rng(0)
    n = 300
    x = rng.uniform(1, 10, n)
    table = pd.DataFrame({"t_epoch": 1.5e9 + rng.permutation(n) * 3600.0, "x": x, "z": rng.normal(size=n), "bw": 100 * x + rng.normal(0, 5, n)})
    loaded = load_training_table(table, target="bw", time="t_epoch")
    bundle = train(loaded, tmp_path / "model", target="bw", n_estimators=20)
    explanation = shap_values(bundle, loaded, sample=50, seed=1)
    times = loaded.loc[explanation.row_index, "t_epoch"].to_numpy()
    assert len(times) == 50 and pd.Series(times).is_monotonic_increasing
    result = hpcpredict.api.explain(bundle, loaded, rows="all", sample=50, interactions=0, permutation=False, n_boot=10)
    assert result.rows == 50 and result.features["feature"].iloc[0] == "x"
