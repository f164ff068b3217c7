"""Exact SHAP values from XGBoost's own TreeSHAP (``pred_contribs``), as ``shap.Explanation``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shap
import xgboost as xgb

from ..errors import ParameterError
from ..model.bundle import Bundle, to_frame

__all__ = ["concat_explanations", "shap_values"]


def shap_values(
    bundle: Bundle,
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
    bundle : Bundle
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
        ``explanation.job_ids``.
    """
    if device not in ("cpu", "cuda"):
        raise ParameterError("device", "'cpu' or 'cuda'", device)
    if sample is not None and sample < len(table):
        time = bundle.manifest.get("time_column", "submit_time")  # a per-job table names its own
        table = table.sample(n=sample, random_state=seed)
        table = table.sort_values(time, kind="stable") if time in table.columns else table.sort_index()
    frame = to_frame(bundle, table)
    booster = bundle.booster.copy()
    booster.set_param({"device": device})
    predict = _local_predict(frame) if client is None else _dask_predict(frame, client)
    contribs = predict(booster, pred_contribs=True)
    values, base = contribs[:, :-1], contribs[:, -1]
    if check_additivity:
        margin = predict(booster, output_margin=True)
        gap = np.max(np.abs(values.sum(axis=1) + base - margin), initial=0.0)
        tolerance = 1e-3 * max(1.0, float(np.max(np.abs(margin), initial=0.0)))
        if gap > tolerance:
            raise AssertionError(f"SHAP values do not add up to the model output (largest gap {gap:g})")
    data = np.column_stack(
        [frame[c].cat.codes.where(frame[c].notna()).to_numpy(float) if isinstance(frame[c].dtype, pd.CategoricalDtype) else frame[c].to_numpy(float) for c in frame.columns]
    ) if len(frame.columns) else np.empty((len(frame), 0))
    explanation = shap.Explanation(values=values, base_values=base, data=data, feature_names=list(frame.columns))
    explanation.job_ids = table["job_id"].astype(str).to_numpy() if "job_id" in table.columns else np.arange(len(table)).astype(str)
    explanation.row_index = table.index.to_numpy()
    return explanation


def _local_predict(frame: pd.DataFrame):
    dmatrix = xgb.DMatrix(frame, enable_categorical=True, missing=np.nan)
    return lambda booster, **kw: booster.predict(dmatrix, **kw)


def _dask_predict(frame: pd.DataFrame, client):
    from xgboost import dask as dxgb

    from ..scale import dask_frame

    dmatrix = dxgb.DaskDMatrix(client, dask_frame(frame.reset_index(drop=True), client), enable_categorical=True, missing=np.nan)
    return lambda booster, **kw: np.asarray(dxgb.predict(client, booster, dmatrix, **kw).compute())


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
    )
    out.job_ids = np.concatenate([p.job_ids for p in parts])
    out.row_index = np.concatenate([p.row_index for p in parts])
    return out
