"""RuntimeModel as a scikit-learn estimator: the checks that make sense, objectives, intervals, censoring."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from hpcpredict.model import RuntimeModel

# Documented expected failures of scikit-learn's common checks:
EXPECTED_FAILED_CHECKS = {
    # Row subsampling (subsample=0.8) and histogram bins from weighted quantiles make a weight of 2
    # differ from a repeated row; XGBoost behaves the same way.
    "check_sample_weight_equivalence_on_dense_data": "row subsampling and weighted histogram bins",
}


def _small(**kw):
    return RuntimeModel(n_estimators=30, learning_rate=0.3, min_child_weight=1, early_stopping_rounds=None, n_jobs=1, **kw)


@pytest.mark.slow
def test_scikit_learn_common_checks():
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(_small(), on_fail=None, expected_failed_checks=EXPECTED_FAILED_CHECKS)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == []


def _jobs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"limit_s": rng.uniform(100, 1000, n), "queue": rng.choice(["short", "long", "debug"], n)})
    y = X["limit_s"].to_numpy() * rng.uniform(0.2, 1.0, n) + (X["queue"] == "long").to_numpy() * 200
    return X, y


def test_params_clone_and_fitted_attributes():
    model = _small(objective="relative")
    assert clone(model).get_params() == model.get_params()
    assert model.set_params(max_depth=3).max_depth == 3
    X, y = _jobs()
    model.fit(X, y)
    assert list(model.feature_names_in_) == ["limit_s", "queue"]
    assert model.feature_kinds_ == {"limit_s": "numeric", "queue": "categorical"}
    assert model.categories_ == {"queue": ["debug", "long", "short"]}
    assert model.n_features_in_ == 2 and model.best_iteration_ == 29


def test_unseen_category_is_treated_as_missing_not_an_error():
    X, y = _jobs()
    model = _small().fit(X, y)
    new = X.iloc[:3].copy()
    new["queue"] = ["never-seen", None, "long"]
    pred = model.predict(new)
    missing = new.copy()
    missing["queue"] = [None, None, "long"]
    np.testing.assert_allclose(pred, model.predict(missing))


def test_early_stopping_uses_the_latest_rows_in_time():
    X, y = _jobs(1000)
    time = np.arange(1000)[::-1]  # the first rows are the latest
    y = y.copy()
    y[:100] = 50_000.0  # the latest tenth behaves differently: early stopping must stop early
    model = RuntimeModel(n_estimators=400, early_stopping_rounds=20, n_jobs=1).fit(X, y, time=time)
    assert model.best_iteration_ < 399


def test_underestimate_objective_underestimates_less_than_the_median():
    X, y = _jobs()
    median = _small().fit(X, y).predict(X)
    upper = _small(objective="underestimate").fit(X, y).predict(X)
    assert np.mean(upper < y) < 0.25 < np.mean(median < y)


def test_aft_treats_censored_jobs_as_lower_bounds():
    X, y = _jobs()
    censored = y > np.quantile(y, 0.7)
    exact = _small(objective="aft").fit(X, y).predict(X)
    aware = _small(objective="aft").fit(X, y, censored=censored).predict(X)
    # a censored job ran at least y: treating it as a lower bound raises its prediction
    assert np.median(aware[censored]) > np.median(exact[censored])
    assert np.all(np.isfinite(aware)) and np.all(aware > 0)


def test_quantile_intervals_are_ordered_and_cover_about_80_percent():
    X, y = _jobs(1500)
    model = _small(intervals=True).fit(X.iloc[:1000], y[:1000])
    iv = model.predict_interval(X.iloc[1000:])
    assert iv.shape == (500, 3)
    assert np.all(iv[:, 0] <= iv[:, 1]) and np.all(iv[:, 1] <= iv[:, 2])
    coverage = np.mean((y[1000:] >= iv[:, 0]) & (y[1000:] <= iv[:, 2]))
    assert 0.65 < coverage < 0.95
    with pytest.raises(ValueError, match="without intervals"):
        _small().fit(X, y).predict_interval(X)


def test_bad_parameters_are_named():
    from hpcpredict.errors import ParameterError

    X, y = _jobs(50)
    with pytest.raises(ParameterError, match="'objective' parameter"):
        RuntimeModel("cubic").fit(X, y)
    with pytest.raises(ParameterError, match="'device' parameter"):
        RuntimeModel(device="tpu").fit(X, y)


def test_conformal_calibration_widens_intervals_that_are_too_narrow_on_later_jobs():
    """Noise grows over time: quantiles fitted on the early jobs under-cover later ones; the
    shifts measured on the latest (validation) jobs bring p10–p90 back near 80%."""
    rng = np.random.default_rng(3)
    n = 4000
    t = np.arange(n, dtype=float)
    X = pd.DataFrame({"limit_s": rng.uniform(100, 1000, n)})
    y = X["limit_s"].to_numpy() * np.exp(rng.normal(0, 0.1 + 0.5 * t / n, n))
    train, test = slice(0, 3000), slice(3000, n)
    model = RuntimeModel(n_estimators=60, learning_rate=0.3, min_child_weight=1, n_jobs=1, intervals=True, validation_fraction=0.1)
    model.fit(X.iloc[train], y[train], time=t[train])
    cal = model.interval_calibration_
    assert cal["rows"] == 300 and cal["lower"] > 0 and cal["upper"] > 0  # validation: the latest 10%

    def coverage():
        iv = model.predict_interval(X.iloc[test])
        return np.mean((y[test] >= iv[:, 0]) & (y[test] <= iv[:, 2]))

    calibrated = coverage()
    model.interval_calibration_ = None
    raw = coverage()
    assert raw < 0.7 and 0.7 <= calibrated <= 0.9, (raw, calibrated)
