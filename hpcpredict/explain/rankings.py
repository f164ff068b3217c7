"""Rankings of features and feature families by mean |SHAP|."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shap

__all__ = ["bootstrap_rankings", "family_values", "rank_by_cohort", "rank_families", "rank_features"]


def rank_features(explanation: shap.Explanation, families: dict[str, str]) -> pd.DataFrame:
    """Features by mean |SHAP| over the explained rows, largest first.

    Returns columns ``feature``, ``family``, ``mean_abs_shap``, ``rank`` (1 = dominant).
    """
    mean_abs = np.abs(explanation.values).mean(axis=0)
    table = pd.DataFrame(
        {"feature": explanation.feature_names, "family": [families.get(f, "other") for f in explanation.feature_names], "mean_abs_shap": mean_abs}
    )
    table = table.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def family_values(explanation: shap.Explanation, families: dict[str, str]) -> pd.DataFrame:
    """SHAP summed within each family, per row (rows x families)."""
    frame = pd.DataFrame(explanation.values, columns=explanation.feature_names)
    return frame.T.groupby([families.get(f, "other") for f in frame.columns]).sum().T


def rank_families(explanation: shap.Explanation, families: dict[str, str]) -> pd.DataFrame:
    """Families by mean |SHAP summed within the family|, largest first.

    Summing before taking the absolute value lets opposite contributions of one family cancel,
    as they do in the model's output.
    """
    per_row = family_values(explanation, families)
    table = pd.DataFrame({"family": per_row.columns, "mean_abs_shap": per_row.abs().mean(axis=0).to_numpy()})
    table = table.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def bootstrap_rankings(
    explanation: shap.Explanation, families: dict[str, str], *, n_boot: int = 200, level: float = 0.95, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Feature and family rankings with bootstrap confidence intervals of mean |SHAP|.

    Rows are resampled with replacement ``n_boot`` times; ``ci_low`` and ``ci_high`` are the
    percentiles of the resampled means at ``(1 - level) / 2`` and ``(1 + level) / 2``. They say how
    much the ranking owes to which jobs happened to be explained, not how uncertain the model is.

    Returns
    -------
    (DataFrame, DataFrame)
        :func:`rank_features` and :func:`rank_families` with columns ``ci_low`` and ``ci_high``.

    Examples
    --------
    >>> import numpy as np, shap
    >>> e = shap.Explanation(values=np.random.default_rng(0).normal(size=(100, 2)) * [1, 3], base_values=np.zeros(100), data=np.zeros((100, 2)), feature_names=["a", "b"])
    >>> features, _ = bootstrap_rankings(e, {"a": "x", "b": "y"})
    >>> bool(((features.ci_low <= features.mean_abs_shap) & (features.mean_abs_shap <= features.ci_high)).all())
    True
    """
    by_feature, by_family = rank_features(explanation, families), rank_families(explanation, families)
    feature_abs = np.abs(np.asarray(explanation.values, dtype=float))
    per_family = family_values(explanation, families)
    family_abs = per_family.abs().to_numpy(float)
    both = np.hstack([feature_abs, family_abs])
    n = both.shape[0]
    rng = np.random.default_rng(seed)
    # One resample at a time: memory stays at one rows-sized array whatever n_boot is.
    means = np.vstack([both[rng.integers(0, n, n)].mean(axis=0) for _ in range(n_boot)]) if n else np.zeros((1, both.shape[1]))
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2], axis=0)
    p = feature_abs.shape[1]
    feature_ci = pd.DataFrame({"ci_low": low[:p], "ci_high": high[:p]}, index=list(explanation.feature_names))
    family_ci = pd.DataFrame({"ci_low": low[p:], "ci_high": high[p:]}, index=list(per_family.columns))
    by_feature = by_feature.join(feature_ci, on="feature")
    by_family = by_family.join(family_ci, on="family")
    return by_feature, by_family


def rank_by_cohort(
    explanation: shap.Explanation,
    families: dict[str, str],
    cohorts: pd.Series | np.ndarray,
    *,
    min_rows: int = 30,
    max_cohorts: int = 10,
) -> pd.DataFrame:
    """Feature and family rankings within each cohort (application, partition, ...).

    Only the ``max_cohorts`` largest cohorts with at least ``min_rows`` explained rows are ranked:
    a ranking of a handful of jobs says little.

    Returns
    -------
    DataFrame
        Tidy: ``cohort``, ``rows``, ``level`` ("feature" or "family"), ``name``, ``family``,
        ``mean_abs_shap``, ``rank``.
    """
    labels = pd.Series(np.asarray(cohorts, dtype=object)).fillna("(none)").astype(str)
    counts = labels.value_counts()
    chosen = counts[counts >= min_rows].head(max_cohorts)
    parts = []
    for cohort, rows in chosen.items():
        subset = explanation[np.flatnonzero(labels.to_numpy() == cohort)]
        feats = rank_features(subset, families).rename(columns={"feature": "name"}).assign(level="feature")
        fams = rank_families(subset, families).rename(columns={"family": "name"}).assign(level="family", family=lambda d: d["name"])
        parts.append(pd.concat([feats, fams]).assign(cohort=cohort, rows=int(rows)))
    columns = ["cohort", "rows", "level", "name", "family", "mean_abs_shap", "rank"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
