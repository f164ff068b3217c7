"""A second opinion on SHAP: permutation importance on the held-out jobs, and where the two disagree.

SHAP says how much each feature moves the predictions; permutation importance says how much the
error grows when a feature's values are shuffled. A feature high in one and low in the other is
worth a look (correlated features share SHAP credit but each loses little when shuffled alone; a
feature can move predictions a lot without making them more accurate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model import RuntimeModel
from ..model.objectives import get_objective

__all__ = ["PermutationCheck", "compare_importance", "permutation_check", "permutation_importance"]


@dataclass(frozen=True)
class PermutationCheck:
    """Permutation importance on the held-out jobs beside the SHAP ranking (``ExplainResult.permutation``).

    Attributes
    ----------
    rows : int
        Jobs shuffled over.
    baseline_mae : float
        The model's MAE before any shuffle, in ``unit``.
    unit : str
    importance : DataFrame
        The top features by MAE increase (:func:`permutation_importance`).
    comparison : dict
        Where SHAP and shuffling disagree (:func:`compare_importance`).
    """

    rows: int
    baseline_mae: float
    unit: str
    importance: pd.DataFrame
    comparison: dict

    def to_dict(self) -> dict:
        """JSON-ready: ``rows``, ``baseline_mae``, ``unit``, ``importance`` (records) and ``comparison``."""
        from .._results import plain, records

        return {"rows": int(self.rows), "baseline_mae": plain(self.baseline_mae), "unit": self.unit, "importance": records(self.importance), "comparison": plain(self.comparison)}


def permutation_check(bundle: RuntimeModel, table: pd.DataFrame, shap_ranking: pd.DataFrame, *, top: int = 15, seed: int = 0) -> PermutationCheck:
    """Permutation importance of ``bundle`` on ``table`` compared with ``shap_ranking`` (top ``top`` kept)."""
    importance, baseline, rows = _permutation(bundle, table, seed=seed)
    unit = "s" if bundle.target == "runtime_s" else bundle.target
    return PermutationCheck(rows, baseline, unit, importance.head(top), compare_importance(shap_ranking, importance, top=min(5, len(importance))))


def permutation_importance(
    bundle: RuntimeModel, table: pd.DataFrame, *, n_repeats: int = 3, max_rows: int = 5000, seed: int = 0
) -> pd.DataFrame:
    """Increase of the mean absolute error when each feature is shuffled, on rows with a target.

    Predictions are the model's own (in target units, not capped at the time limit, so that
    shuffling the limit changes only what the model sees).

    Returns
    -------
    DataFrame
        ``feature``, ``mae_increase`` (mean over repeats, target units), ``std``, ``rank``
        (1 = most important), largest first. :func:`permutation_check` also gives the unshuffled MAE.
    """
    return _permutation(bundle, table, n_repeats=n_repeats, max_rows=max_rows, seed=seed)[0]


def _permutation(bundle: RuntimeModel, table: pd.DataFrame, *, n_repeats: int = 3, max_rows: int = 5000, seed: int = 0) -> tuple[pd.DataFrame, float, int]:
    target = bundle.target
    y = pd.to_numeric(table[target], errors="coerce")
    table = table.loc[y.notna() & (y > 0)]
    if max_rows is not None and len(table) > max_rows:
        table = table.sample(n=max_rows, random_state=seed)
    actual = pd.to_numeric(table[target]).to_numpy(float)
    matrix = bundle.encode(table).matrix  # without the limit: uncapped, as documented above
    inverse = get_objective(bundle.objective).inverse

    def mae(data: np.ndarray) -> float:
        pred = inverse(bundle.booster_.inplace_predict(data))
        return float(np.mean(np.abs(pred - actual)))

    baseline = mae(matrix)
    rng = np.random.default_rng(seed)
    rows = []
    for j, name in enumerate(bundle.feature_names):
        scores = []
        for _ in range(n_repeats):
            shuffled = matrix.copy()
            shuffled[:, j] = matrix[rng.permutation(len(matrix)), j]
            scores.append(mae(shuffled) - baseline)
        rows.append({"feature": name, "mae_increase": float(np.mean(scores)), "std": float(np.std(scores))})
    out = pd.DataFrame(rows).sort_values("mae_increase", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out, baseline, len(matrix)


def compare_importance(shap_ranking: pd.DataFrame, permutation: pd.DataFrame, *, top: int = 5) -> dict:
    """Where SHAP and permutation importance disagree on the dominant features.

    Parameters
    ----------
    shap_ranking : DataFrame
        From :func:`~hpcpredict.explain.rankings.rank_features` (``feature``, ``rank``).
    permutation : DataFrame
        From :func:`permutation_importance`.
    top : int
        Size of the top sets compared.

    Returns
    -------
    dict
        ``top_k``, ``spearman`` (rank correlation over all features), ``only_shap`` (top-k by SHAP
        but not by permutation), ``only_permutation`` (the reverse) and ``agree`` (both empty).

    Examples
    --------
    >>> s = pd.DataFrame({"feature": ["a", "b", "c"], "rank": [1, 2, 3]})
    >>> p = pd.DataFrame({"feature": ["c", "a", "b"], "rank": [1, 2, 3]})
    >>> compare_importance(s, p, top=2)["only_shap"]
    ['b']
    """
    from scipy.stats import spearmanr

    merged = shap_ranking[["feature", "rank"]].merge(permutation[["feature", "rank"]], on="feature", suffixes=("_shap", "_perm"))
    top_shap = list(shap_ranking.sort_values("rank")["feature"].head(top))
    top_perm = list(permutation.sort_values("rank")["feature"].head(top))
    rho = spearmanr(merged["rank_shap"], merged["rank_perm"]).statistic if len(merged) > 1 else float("nan")
    only_shap = [f for f in top_shap if f not in top_perm]
    only_perm = [f for f in top_perm if f not in top_shap]
    return {"top_k": top, "spearman": float(rho), "only_shap": only_shap, "only_permutation": only_perm, "agree": not only_shap and not only_perm}
