"""Rankings of features and feature families by mean |SHAP|."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shap

__all__ = ["family_values", "rank_families", "rank_features"]


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
