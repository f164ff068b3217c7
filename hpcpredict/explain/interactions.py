"""SHAP interaction values (XGBoost's ``pred_interactions``) reduced to a features x features matrix.

One row's interaction values are a (features + 1)² array, so a sample is computed in batches and
only the running sum is kept: memory stays at one batch whatever the sample size. shap's own
interaction path fails on DataFrames with categorical columns; an ``xgb.DMatrix`` built with
``enable_categorical=True`` does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import EncodedRows, RuntimeModel
from ..scale import check_device

__all__ = ["interaction_matrix", "top_interactions"]

#: Upper bound of one batch's interaction array (bytes).
BATCH_BYTES = 256 * 1024 * 1024


def interaction_matrix(
    bundle: RuntimeModel,
    table: pd.DataFrame,
    *,
    sample: int | None = 500,
    batch_size: int = 256,
    absolute: bool = True,
    device: str = "cpu",
    seed: int = 0,
) -> pd.DataFrame:
    """Mean SHAP interaction value of each pair of features over (a sample of) the rows.

    Parameters
    ----------
    bundle : RuntimeModel
        The trained model.
    table : DataFrame
        Rows of a feature table.
    sample : int or None
        Rows drawn at random (interaction values cost about the number of features times as much
        as SHAP values); None uses every row.
    batch_size : int
        Rows per call of ``pred_interactions``; lowered so that one batch stays under
        :data:`BATCH_BYTES`.
    absolute : bool
        Average |value| (strength of the pair, the default) or the signed value. With signed
        values, row ``i`` sums to the mean SHAP value of feature ``i`` over the same rows; the
        diagonal holds the main effects.
    device : {"cpu", "cuda"}

    Returns
    -------
    DataFrame
        Symmetric, features x features, in the model's output units.

    Examples
    --------
    >>> m = interaction_matrix(bundle, table, sample=200)  # doctest: +SKIP
    >>> top_interactions(m, top=5)  # doctest: +SKIP
    """
    device = check_device(device)
    if sample is not None and sample < len(table):
        table = table.sample(n=sample, random_state=seed)
    matrix = bundle.encode(table).matrix
    names = bundle.feature_names
    p = len(names)
    batch = max(1, min(batch_size, BATCH_BYTES // (4 * (p + 1) ** 2)))
    total = np.zeros((p, p))
    for begin in range(0, len(matrix), batch):
        part = EncodedRows(matrix[begin : begin + batch])
        values = bundle.contributions(part, device=device, interactions=True)[:, :p, :p].astype(float)
        total += (np.abs(values) if absolute else values).sum(axis=0)
    mean = total / max(len(matrix), 1)
    return pd.DataFrame(mean, index=names, columns=names)


def top_interactions(matrix: pd.DataFrame, *, top: int = 10) -> pd.DataFrame:
    """The ``top`` strongest pairs of distinct features of an :func:`interaction_matrix`.

    The pair's strength is ``2 x matrix[a, b]``: TreeSHAP splits an interaction evenly between
    the two cells (a, b) and (b, a).

    Returns
    -------
    DataFrame
        ``feature_a``, ``feature_b``, ``mean_abs_interaction``, strongest first.
    """
    values = matrix.to_numpy(float)
    upper = np.triu_indices(len(values), k=1)
    strength = 2 * values[upper]
    order = np.argsort(-strength, kind="stable")[:top]
    names = np.asarray(matrix.index)
    return pd.DataFrame(
        {"feature_a": names[upper[0][order]], "feature_b": names[upper[1][order]], "mean_abs_interaction": strength[order]}
    )
