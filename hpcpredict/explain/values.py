"""Exact SHAP values from XGBoost's own TreeSHAP (``pred_contribs``), as ``shap.Explanation``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shap

from ..scale import check_device
from ..model import RuntimeModel

__all__ = ["concat_explanations", "shap_values"]


def shap_values(
    bundle: RuntimeModel,
    table: pd.DataFrame,
    *,
    device: str = "cpu",
    sample: int | None = None,
    seed: int = 0,
    check_additivity: bool = True,
    client=None,
) -> shap.Explanation:
    """SHAP values of every feature for the rows of a feature table.

    Values come from XGBoost's ``pred_contribs`` (exact TreeSHAP on the model's own trees), in
    the model's output space (seconds for the default objective; log seconds for ``squared_log``).

    Parameters
    ----------
    bundle : RuntimeModel
        The trained model.
    table : DataFrame
        Rows to explain (a feature table of the model's horizon).
    device : {"cpu", "cuda"}
        Where XGBoost computes the values.
    sample : int, optional
        Explain a uniform random sample of this many rows instead of all of them.
    seed : int
        Seed of the sample.
    check_additivity : bool
        Check that base value + sum of SHAP values equals the model's raw output for each row.
    client : distributed.Client, optional
        Compute the values on this Dask cluster (``xgboost.dask.predict`` with
        ``pred_contribs``, rows partitioned across the workers); same values as in-process.

    Returns
    -------
    shap.Explanation
        ``values`` (rows x features), ``base_values``, ``data`` (numeric; categories as codes),
        ``feature_names``; the job ids are in ``explanation.display_data`` order-aligned as
        ``explanation.job_ids``; the job ids are also the rows' ``instance_names``, which slicing
        by position keeps aligned.
    """
    device = check_device(device)
    if sample is not None and sample < len(table):
        time = bundle.manifest_.time_column if bundle.manifest_ is not None else None  # a per-job table names its own
        table = table.sample(n=sample, random_state=seed)
        table = table.sort_values(time, kind="stable") if time in table.columns else table.sort_index()
    rows = bundle.encode(table)
    if client is None:
        contribs = bundle.contributions(rows, device=device)
    else:
        contribs = _dask_predict(bundle, rows, client)(pred_contribs=True) * np.reshape(bundle.output_scale(rows), (-1, 1))
    values, base = contribs[:, :-1], contribs[:, -1]
    if check_additivity:
        margin = bundle.margin(rows, device=device) if client is None else _dask_predict(bundle, rows, client)(output_margin=True) * bundle.output_scale(rows)
        gap = np.max(np.abs(values.sum(axis=1) + base - margin), initial=0.0)
        tolerance = 1e-3 * max(1.0, float(np.max(np.abs(margin), initial=0.0)))
        if gap > tolerance:
            raise AssertionError(f"SHAP values do not add up to the model output (largest gap {gap:g})")
    job_ids = table["job_id"].astype(str).to_numpy() if "job_id" in table.columns else np.arange(len(table)).astype(str)
    # instance_names travel with the rows when the Explanation is sliced (explanation[mask])
    explanation = shap.Explanation(values=values, base_values=base, data=rows.matrix.astype(float), feature_names=bundle.feature_names, instance_names=list(job_ids))
    explanation.job_ids = job_ids
    explanation.row_index = table.index.to_numpy()
    return explanation


def _dask_predict(model: RuntimeModel, rows, client):
    """Predictions of the encoded ``rows`` on a Dask cluster, rows partitioned across the workers."""
    from xgboost import dask as dxgb

    from ..scale import dask_frame

    names = model.feature_names
    types = ["c" if model.feature_kinds_[n] == "categorical" else "float" for n in names]
    frame = pd.DataFrame(rows.matrix, columns=names)
    dmatrix = dxgb.DaskDMatrix(client, dask_frame(frame, client), feature_names=names, feature_types=types, enable_categorical=True, missing=np.nan)
    return lambda **kw: np.asarray(dxgb.predict(client, model.booster_, dmatrix, **kw).compute())


def concat_explanations(parts: list[shap.Explanation]) -> shap.Explanation:
    """Stack the rows of several Explanations of the same model (job ids and row index kept).

    Examples
    --------
    >>> import numpy as np, shap
    >>> e = shap.Explanation(values=np.ones((2, 1)), base_values=np.zeros(2), data=np.ones((2, 1)), feature_names=["a"])
    >>> e.job_ids, e.row_index = np.array(["1", "2"]), np.array([0, 1])
    >>> concat_explanations([e, e]).values.shape
    (4, 1)
    """
    out = shap.Explanation(
        values=np.concatenate([p.values for p in parts]),
        base_values=np.concatenate([np.asarray(p.base_values) for p in parts]),
        data=np.concatenate([p.data for p in parts]),
        feature_names=list(parts[0].feature_names),
        instance_names=[str(name) for p in parts for name in (p.instance_names if p.instance_names is not None else [])] or None,
    )
    out.job_ids = np.concatenate([p.job_ids for p in parts])
    out.row_index = np.concatenate([p.row_index for p in parts])
    return out
