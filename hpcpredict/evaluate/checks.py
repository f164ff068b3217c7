"""Warnings a careful analyst would give about an evaluation, before anyone believes its figures.

Each check returns plain sentences; :func:`hpcpredict.evaluate` puts them in its result
(``warnings``) and the CLI prints them. None of them changes a score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MIN_TREES", "analyst_warnings", "dominated_test_set", "restating_features", "without_repeats"]

#: Fewer trees than this and the model has barely moved from a constant.
MIN_TREES = 10


def analyst_warnings(bundle, table: pd.DataFrame, test_index: pd.Index, *, split: str = "temporal") -> list[str]:
    """All warnings for an evaluation of ``bundle`` on the rows ``test_index`` of ``table``.

    Examples
    --------
    >>> analyst_warnings(bundle, table, test_index)  # doctest: +SKIP
    ['test set dominated by one user: 453 of 1,000 test jobs (45%) are user u1; ...']
    """
    m = bundle.manifest_
    out = dominated_test_set(table.loc[test_index], time=m.time_column)
    trees = m.n_trees
    if split == "temporal" and trees < MIN_TREES:
        out.append(f"the model has only {trees} trees: early stopping found nothing to learn on its validation slice; its scores are those of a near-constant")
    train = table.loc[~table.index.isin(test_index)]
    names = [f.name for f in m.features if f.kind != "categorical"]
    out += restating_features(train, names, m.target)
    out += without_repeats(bundle.feature_names)
    return out


def without_repeats(names: list[str]) -> list[str]:
    """A warning when a model has the user's history but not the repeats of a request: its
    combination could not tell a user repeating a job from one starting a new one.

    Examples
    --------
    >>> without_repeats(["time_limit_s", "user_ratio_last2_max", "user_ratio_last2_mean"])  # doctest: +ELLIPSIS
    ["the model's features have the user's history but not the repeats of a request ...]
    >>> without_repeats(["time_limit_s", "req_cpus"])
    []
    """
    from ..model.combine import CLASS_COLUMNS

    have = set(names)
    if not set(CLASS_COLUMNS[:2]) <= have or set(CLASS_COLUMNS) <= have:  # the user's columns, then the request's
        return []
    return ["the model's features have the user's history but not the repeats of a request (repeat_*: a feature table built by an "
            "earlier hpcpredict): it blends its trees with one heuristic for every job instead of one per class of "
            "history; rebuild the features with `hpcpredict features` and retrain"]


def dominated_test_set(test: pd.DataFrame, *, time: str = "submit_time", share: float = 0.3) -> list[str]:
    """Warnings when one user or one submission second holds more than ``share`` of the test jobs.

    Examples
    --------
    >>> t = pd.DataFrame({"user": ["a"] * 6 + ["b"] * 4, "submit_time": pd.to_datetime(range(10), unit="s")})
    >>> dominated_test_set(t)
    ['test set dominated by one user: 6 of 10 test jobs (60%) are user a']
    """
    out, n = [], len(test)
    if not n:
        return out
    if "user" in test.columns and test["user"].notna().any():
        counts = test["user"].astype("string").value_counts()
        if counts.iloc[0] > share * n:
            out.append(f"test set dominated by one user: {counts.iloc[0]:,} of {n:,} test jobs ({counts.iloc[0] / n:.0%}) are user {counts.index[0]}")
    if time in test.columns and test[time].notna().any():
        seconds = pd.to_datetime(test[time]).dt.floor("s").value_counts()
        if seconds.iloc[0] > share * n:
            out.append(f"test set dominated by one moment: {seconds.iloc[0]:,} of {n:,} test jobs ({seconds.iloc[0] / n:.0%}) were submitted in the same second ({seconds.index[0]})")
    return out


def restating_features(train: pd.DataFrame, names: list[str], target: str, *, max_rows: int = 20_000) -> list[str]:
    """Numeric features from which the target follows almost exactly: |corr| > 0.99 or R² > 0.95 from that column alone.

    R² is that of the target's mean within 50 quantile bins of the feature, so a non-linear
    restatement (a total over the job's own window) is caught too.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = pd.DataFrame({"y": rng.uniform(1, 100, 500), "noise": rng.uniform(size=500)})
    >>> restating_features(t.assign(copy=t["y"] ** 2), ["copy", "noise"], "y")
    ['feature copy restates the target y (correlation 0.97, R² from it alone 1.00): a model using it learns nothing usable before the job ends']
    """
    y = pd.to_numeric(train[target], errors="coerce")
    rows = train.loc[y.notna()]
    if len(rows) > max_rows:
        rows = rows.sample(max_rows, random_state=0)
    y = pd.to_numeric(rows[target], errors="coerce").to_numpy(float)
    if len(y) < 20 or np.var(y) == 0:
        return []
    out = []
    for name in names:
        x = pd.to_numeric(rows[name], errors="coerce").to_numpy(float)
        ok = np.isfinite(x)
        if ok.sum() < 20 or np.var(x[ok]) == 0:
            continue
        corr = float(np.corrcoef(x[ok], y[ok])[0, 1])
        bins = pd.qcut(pd.Series(x[ok]).rank(method="first"), q=min(50, int(ok.sum()) // 5), labels=False)
        fitted = pd.Series(y[ok]).groupby(bins.to_numpy()).transform("mean").to_numpy()
        r2 = 1.0 - float(np.sum((y[ok] - fitted) ** 2) / np.sum((y[ok] - y[ok].mean()) ** 2))
        if abs(corr) > 0.99 or r2 > 0.95:
            out.append(f"feature {name} restates the target {target} (correlation {corr:.2f}, R² from it alone {r2:.2f}): a model using it learns nothing usable before the job ends")
    return out
