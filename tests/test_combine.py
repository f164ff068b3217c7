"""What a runtime model learns from its training jobs about the limit: the runtime/limit target,
the cap only where the limit is enforced, and the blend with a scheduler heuristic."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from hpcpredict import api
from hpcpredict.errors import BundleMismatchError
from hpcpredict.features.history import REPEAT_FEATURES
from hpcpredict.model import RuntimeModel
from hpcpredict.model.combine import CLASS_COLUMNS, MIN_CLASS_JOBS, choose_combination, history_classes, limit_rule

from _repeating_users import repeating_users_features


def _trace(tmp_path, *, past_limit: float):
    """Users who each run at their own share of the limit; ``past_limit`` of the jobs run 1.5x it."""
    return repeating_users_features(tmp_path, n=2400, users=25, ratios=(0.1, 0.9), limits=[900.0, 3600.0, 7200.0, 14400.0], noise=0.1, seed=3, past_limit=past_limit)


def test_the_limit_counts_as_enforced_when_98_percent_of_jobs_end_within_it():
    assert limit_rule(np.array([50.0] * 98 + [104.0, 200.0]), np.full(100, 100.0)) == {"enforced": True, "within_limit": 0.99, "jobs_with_limit": 100}
    assert limit_rule(np.array([50.0] * 90 + [150.0] * 10), np.full(100, 100.0))["enforced"] is False
    assert limit_rule(np.array([50.0, 60.0]), np.array([np.nan, 0.0])) == {"enforced": True, "within_limit": None, "jobs_with_limit": 0}


def test_the_combination_takes_an_exact_heuristic_and_keeps_exact_trees():
    limit = np.array([1000.0, 4000.0] * 20)
    actual = 0.3 * limit
    exact = choose_combination(np.full(40, 1200.0), actual, {"alea": 0.3 * limit, "limit": limit}, limit, cap=True)
    assert exact["parts"] == {"all": {"heuristic": "alea", "form": "arithmetic", "weight": 0.0}}
    assert exact["validation"]["average_accuracy"] == pytest.approx(1.0)
    trees = choose_combination(actual.copy(), actual, {"alea": 0.9 * limit, "limit": limit}, limit, cap=True)
    assert trees["parts"] == {"all": {"heuristic": None, "form": "arithmetic", "weight": 1.0}}
    assert choose_combination(actual[:10], actual[:10], {"limit": limit[:10]}, limit[:10], cap=True) is None


def test_each_class_of_user_history_takes_the_heuristic_that_fits_it():
    """Users repeating a job run exactly as their last job (one heuristic is exact there); the others
    as the mean of their last five (another is). One heuristic for both classes (hpcpredict's
    combination before) could be exact on one class only."""
    rng = np.random.default_rng(0)
    limit = rng.choice([1000.0, 4000.0], 200)
    classes = np.tile([1, 2], 100)
    actual = np.where(classes == 1, 0.4, 0.7) * limit
    last = np.where(classes == 1, actual, rng.uniform(0.1, 1.0, 200) * limit)
    mean5 = np.where(classes == 2, actual, rng.uniform(0.1, 1.0, 200) * limit)
    rule = choose_combination(np.full(200, 1500.0), actual, {"last2": last, "last5": mean5, "limit": limit}, limit, cap=True, classes=classes)
    assert rule["parts"]["consistent"]["heuristic"] == "last2" and rule["parts"]["consistent"]["weight"] == 0.0
    assert rule["parts"]["varied"]["heuristic"] == "last5" and rule["parts"]["varied"]["weight"] == 0.0
    assert rule["validation"]["average_accuracy"] == pytest.approx(1.0)
    assert rule["validation"]["jobs_by_class"] == {"no_history": 0, "consistent": 100, "varied": 100, "new_request": 0}


def test_a_class_with_too_few_validation_jobs_takes_the_blend_chosen_for_all():
    """A few jobs of new requests, which one heuristic fits exactly, are too few to choose on: they
    take the best blend for all the jobs (the heuristic exact on the other 200), not their own."""
    rng = np.random.default_rng(1)

    def choose(new: int) -> dict:
        classes = np.ones(200 + new, int)
        classes[rng.choice(len(classes), new, replace=False)] = 3  # spread over the slice's time
        limit = rng.choice([1000.0, 4000.0], len(classes))
        actual = np.where(classes == 1, 0.4, 0.9) * limit
        heuristics = {"last2": np.where(classes == 1, actual, 0.2 * limit), "own": np.where(classes == 3, actual, 0.1 * limit), "limit": limit}
        return choose_combination(np.full(len(classes), 1500.0), actual, heuristics, limit, cap=True, classes=classes)

    few = choose(20)
    assert few["validation"]["jobs_by_class"]["new_request"] == 20 < MIN_CLASS_JOBS
    assert few["parts"]["consistent"] == few["parts"]["new_request"] == {"heuristic": "last2", "form": "arithmetic", "weight": 0.0}
    enough = choose(MIN_CLASS_JOBS)  # as many jobs as the rule asks for: the class gets the heuristic that fits it
    assert enough["parts"]["new_request"] == {"heuristic": "own", "form": "arithmetic", "weight": 0.0}
    assert enough["validation"]["average_accuracy"] == pytest.approx(1.0)


def test_a_combination_worse_than_the_trees_on_both_metrics_is_not_chosen():
    """The heuristic alone ties the best heuristic in both halves (margin 0), better than the
    trees' later half (-0.29), but over the whole slice it is worse on MAE and accuracy: the trees stay."""
    actual = np.full(40, 1000.0)
    trees = np.r_[np.full(20, 1000.0), np.full(20, 1500.0)]  # exact, then 50% over
    heuristic = np.r_[np.full(20, 2000.0), np.full(20, 1400.0)]  # 100% over, then 40% over
    rule = choose_combination(trees, actual, {"alea": heuristic}, np.full(40, 3000.0), cap=True)
    assert rule["parts"] == {"all": {"heuristic": None, "form": "arithmetic", "weight": 1.0}}
    assert rule["validation"]["mae"] == rule["validation"]["trees_mae"] == 250.0


def test_where_jobs_ran_past_their_limit_predictions_are_not_capped(tmp_path):
    model = api.train(_trace(tmp_path, past_limit=0.3), tmp_path / "m")
    rule = model.manifest_.limit_rule
    assert rule["enforced"] is False and rule["within_limit"] < 0.8
    table = pd.read_parquet(tmp_path / "features.parquet")
    pred = model.predict(table)
    assert np.any(pred > table["time_limit_s"].to_numpy() * 1.01)  # capped at the limit before


def test_where_the_limit_is_enforced_predictions_stay_within_it(tmp_path):
    model = api.train(_trace(tmp_path, past_limit=0.0), tmp_path / "m")
    assert model.manifest_.limit_rule["enforced"] is True
    table = pd.read_parquet(tmp_path / "features.parquet")
    assert np.all(model.predict(table) <= table["time_limit_s"].to_numpy())


def test_the_trees_fit_runtime_over_limit_and_answer_in_seconds(tmp_path):
    feats = _trace(tmp_path, past_limit=0.0)
    ratio = api.train(feats, tmp_path / "ratio", params={"combine": False})
    seconds = api.train(feats, tmp_path / "seconds", params={"combine": False, "ratio_target": False})
    assert ratio.manifest_.limit_rule["ratio_target"] is True and ratio.manifest_.limit_rule["fallback_limit"] > 0
    assert seconds.manifest_.limit_rule["ratio_target"] is False
    mae = {name: api.evaluate(m, feats).metrics.loc["model", "mae"] for name, m in (("ratio", ratio), ("seconds", seconds))}
    assert mae["ratio"] < mae["seconds"], mae  # a ratio learnt on one limit carries over to the others
    row = pd.read_parquet(feats).iloc[[-1]].assign(time_limit_s=np.nan)
    assert np.isfinite(ratio.predict(row)).all()  # no limit: the training median limit scales the ratio


def test_the_one_predict_path_applies_the_stored_combination(tmp_path):
    model = api.train(_trace(tmp_path, past_limit=0.0), tmp_path / "m")
    table = pd.read_parquet(tmp_path / "features.parquet")
    one = lambda form, weight: {"parts": {"all": {"heuristic": "time_limit_s", "form": form, "weight": weight}}}  # noqa: E731
    model.combination_ = one("arithmetic", 0.0)
    assert np.allclose(model.predict(table), table["time_limit_s"].to_numpy())
    model.combination_ = one("geometric", 1.0)
    trees = model.predict(table)
    model.combination_ = one("geometric", 0.5)
    assert np.allclose(model.predict(table), np.sqrt(trees * table["time_limit_s"].to_numpy()), rtol=1e-5)
    # by class of user history: the limit for users repeating a job, the trees for the others
    model.combination_ = {"parts": {"no_history": {"heuristic": None, "form": "arithmetic", "weight": 1.0},
                                    "consistent": {"heuristic": "time_limit_s", "form": "arithmetic", "weight": 0.0},
                                    "varied": {"heuristic": None, "form": "arithmetic", "weight": 1.0},
                                    "new_request": {"heuristic": None, "form": "arithmetic", "weight": 1.0}}}
    consistent = history_classes(*(table[c].to_numpy(np.float32).astype(float) for c in CLASS_COLUMNS)) == 1  # as the model reads them: float32
    assert consistent.any() and (~consistent).any()
    pred = model.predict(table)
    assert np.allclose(pred[consistent], table["time_limit_s"].to_numpy()[consistent])
    assert np.allclose(pred[~consistent], trees[~consistent])


def test_the_combination_and_limit_rule_are_sealed_in_the_manifest(tmp_path):
    model = api.train(_trace(tmp_path, past_limit=0.0), tmp_path / "m")
    assert model.manifest_.combination is not None and "validation" in model.manifest_.combination
    back = RuntimeModel.load(tmp_path / "m")
    assert back.combination_ == model.combination_ and back.limit_rule_ == model.limit_rule_
    table = pd.read_parquet(tmp_path / "features.parquet")
    assert np.array_equal(back.predict(table), model.predict(table))
    copy = tmp_path / "edited"
    shutil.copytree(tmp_path / "m", copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["combination"] = {**manifest["combination"], "parts": {"all": {"heuristic": "time_limit_s", "form": "arithmetic", "weight": 0.0}}}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleMismatchError, match="checksum"):
        RuntimeModel.load(copy)


def test_shap_values_of_a_runtime_over_limit_model_add_up_to_seconds(tmp_path):
    from hpcpredict.explain.job import explain_job

    model = api.train(_trace(tmp_path, past_limit=0.0), tmp_path / "m", params={"combine": False})
    table = pd.read_parquet(tmp_path / "features.parquet").tail(50)
    contribs = model.contributions(table)
    pred = model.predict(table)
    below = pred < table["time_limit_s"].to_numpy()  # the cap is not part of the trees
    assert np.allclose(contribs.sum(axis=1)[below], pred[below], rtol=1e-3)
    one = explain_job(model, table.iloc[-1])
    assert one.prediction == pytest.approx(float(contribs[-1].sum()), rel=1e-3) and one.prediction > 10  # seconds, not a ratio


def test_one_huge_limit_does_not_flatten_the_trees(tmp_path):
    """Limit weights normalised to their mean let one 2-day limit outweigh every 2-minute job, so
    no leaf of short jobs reached min_child_weight and every tree was a single leaf (the live Slurm
    run: a `-t 2-00:00:00` job among 2- and 5-minute ones, all SHAP values 0). Normalised to the
    median limit, min_child_weight counts jobs of the usual limit."""
    feats = repeating_users_features(tmp_path, n=40, users=4, ratios=(0.1, 0.9), limits=[120.0, 300.0], noise=0.05, seed=5, first_limits=(172800.0,))
    model = api.train(feats, tmp_path / "m", params={"combine": False})
    trees = model.booster_.trees_to_dataframe()
    assert trees.groupby("Tree").size().max() > 1  # the trees split
    table = pd.read_parquet(feats)
    short = table[table["time_limit_s"] == 120.0]
    assert np.unique(np.round(model.predict(short), 3)).size > 1  # and tell the users apart


def test_the_trees_never_split_on_the_repeats_of_a_request_which_the_combination_reads(tmp_path):
    """The repeats of a request decide a job's class of history; the trees fit them as missing
    (measured on the real traces, trees that split on them are worse), so they explain nothing."""
    feats = _trace(tmp_path, past_limit=0.0)
    api.train(feats, tmp_path / "m")
    model = RuntimeModel.load(tmp_path / "m")
    assert set(REPEAT_FEATURES) <= set(model.feature_names)
    used = set(model.booster_.get_score(importance_type="weight"))
    assert used and not used & set(REPEAT_FEATURES)
    table = pd.read_parquet(feats)
    assert table["repeat_count_prior"].gt(0).any()  # there were repeats to split on
    contributions = model.contributions(table.head(200))
    assert np.all(contributions[:, [model.feature_names.index(n) for n in REPEAT_FEATURES]] == 0)
    by_class = model.manifest_.combination["validation"]["jobs_by_class"]
    assert by_class["new_request"] > 0 and by_class["consistent"] + by_class["varied"] > 0
