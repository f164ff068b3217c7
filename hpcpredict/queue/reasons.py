"""The largest contributions to queued jobs' predictions, in words a user understands.

The wording is the explain layer's (:func:`hpcpredict.explain.job.describe_contributions`):
"mean runtime of the user's last two finished jobs is 12 min: -35%" for a model of log runtime,
"... : -1,234 s" otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..explain import shap_values
from ..explain.job import describe_contributions, feature_descriptions
from ..model import RuntimeModel

__all__ = ["reasons_from_contributions", "top_reasons"]


def top_reasons(bundle: RuntimeModel, rows: pd.DataFrame, *, k: int = 3) -> list[list[str]]:
    """For each feature row, the ``k`` largest contributions (by |SHAP|) as sentences."""
    explanation = shap_values(bundle, rows, check_additivity=False)
    shown = rows[explanation.feature_names].astype(object).to_numpy()
    return reasons_from_contributions(bundle, explanation.values, shown, k=k)


def reasons_from_contributions(bundle: RuntimeModel, values: np.ndarray, shown: np.ndarray, *, k: int) -> list[list[str]]:
    """Per row of a SHAP matrix (rows x features, the model's order), the ``k`` largest, described.

    ``shown`` holds each job's feature values as a user would read them (categories as text).
    """
    descriptions = feature_descriptions(bundle)
    log_output = bundle.manifest_.log_output
    names = bundle.feature_names
    return [describe_contributions(values[i], names, shown[i], descriptions=descriptions, top=k, log_output=log_output) for i in range(len(values))]
