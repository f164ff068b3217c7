"""The largest contributions to a prediction, in words a user understands."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..explain import shap_values
from ..features.registry import REGISTRY
from ..model import Bundle

__all__ = ["describe", "reasons_from_contributions", "top_reasons"]


def describe(feature: str, contribution: float, *, log_space: bool) -> str:
    """One contribution as a short sentence: the feature's description and its effect.

    Contributions of a log-runtime model are multiplicative, so they read as percentages;
    otherwise they read as seconds.

    Examples
    --------
    >>> describe("user_last2_mean_s", -1234.0, log_space=False)
    "mean runtime of the user's last two finished jobs: -1,234 s"
    >>> describe("user_last2_mean_s", np.log(0.65), log_space=True)
    "mean runtime of the user's last two finished jobs: -35%"
    """
    spec = REGISTRY.get(feature)
    what = spec.description if spec is not None else feature
    if log_space:
        return f"{what}: {np.expm1(contribution) * 100:+.0f}%"
    return f"{what}: {contribution:+,.0f} s"


def top_reasons(bundle: Bundle, rows: pd.DataFrame, *, k: int = 3) -> list[list[str]]:
    """For each row, the ``k`` largest contributions (by |SHAP|) as sentences."""
    explanation = shap_values(bundle, rows, check_additivity=False)
    log_space = bundle.manifest.get("target_transform") == "log1p"
    return reasons_from_contributions(explanation.values, explanation.feature_names, k=k, log_space=log_space)


def reasons_from_contributions(values: np.ndarray, names: list[str], *, k: int, log_space: bool) -> list[list[str]]:
    """Per row of a SHAP matrix, the ``k`` largest contributions by magnitude, described."""
    order = np.argsort(-np.abs(values), axis=1)[:, :k]
    return [[describe(names[j], float(values[i, j]), log_space=log_space) for j in order[i]] for i in range(len(values))]
