"""Exact SHAP values from XGBoost's own TreeSHAP (``pred_contribs``), as ``shap.Explanation``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shap

from ..scale import check_device
from ..model import RuntimeModel

__all__ = ["JobExplanation", "concat_explanations", "shap_values"]


class JobExplanation(shap.Explanation):
    """A ``shap.Explanation`` whose rows are jobs: the job ids are its ``instance_names``.

    Every shap plot takes it. Selecting rows keeps each job id with its row, whatever the selector
    (position, slice, list or boolean mask: shap 0.51 slices ``instance_names`` wrongly for a mask),
    and ``row_index`` (the rows' labels in the table that was explained) follows the same rows.

    Examples
    --------
    >>> import numpy as np
    >>> e = JobExplanation(values=np.arange(6.0).reshape(3, 2), base_values=np.zeros(3), data=np.ones((3, 2)),
    ...                    feature_names=["a", "b"], instance_names=["j1", "j2", "j3"], row_index=[10, 11, 12])
    >>> kept = e[np.array([True, False, True])]
    >>> kept.job_ids.tolist(), kept.row_index.tolist(), kept.values[:, 0].tolist()
    (['j1', 'j3'], [10, 12], [0.0, 4.0])
    """

    def __init__(self, *args, row_index=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.row_index = None if row_index is None else np.asarray(row_index)

    @property
    def job_ids(self) -> np.ndarray:
        """The job id of each row (``instance_names`` as an array of strings)."""
        return np.atleast_1d(np.asarray(self.instance_names, dtype=object)).astype(str)

    @property
    def job_id(self) -> str:
        """The job id of a one-job explanation (``explanation[i]``, :func:`~hpcpredict.explain.explain_job`)."""
        ids = self.job_ids
        if len(ids) != 1:
            raise ValueError(f"job_id names the job of a one-row explanation; this one has {len(ids)} rows (use job_ids)")
        return str(ids[0])

    def __copy__(self) -> JobExplanation:
        out = super().__copy__()  # shap builds a plain Explanation
        out.__class__ = type(self)
        out.row_index = self.row_index
        return out

    def __getitem__(self, item):
        rows, rest = (item[0], item[1:]) if isinstance(item, tuple) else (item, ())
        positions = _row_positions(rows, len(self.values)) if np.ndim(self.values) >= 1 else None
        out = super().__getitem__((rows if positions is None else positions, *rest))
        if positions is not None and self.row_index is not None:
            out.row_index = self.row_index[positions]
        elif not (isinstance(rows, slice) and rows == slice(None)):
            out.row_index = None  # a selector shap resolves itself (an OpChain): the labels cannot follow
        return out


def _row_positions(rows, n: int):
    """A plain row selector as positions shap slices correctly (a mask → the positions it keeps)."""
    if rows is Ellipsis or isinstance(rows, str):
        return None
    if isinstance(rows, (int, np.integer)):
        return int(rows)
    if isinstance(rows, slice):
        return list(range(n))[rows]
    if isinstance(rows, (list, np.ndarray, pd.Series, pd.Index)):
        array = np.asarray(rows)
        if array.dtype == bool:
            if len(array) != n:
                raise IndexError(f"a boolean mask of {len(array)} values selects among {n} rows")
            return np.flatnonzero(array).tolist()
        if np.issubdtype(array.dtype, np.integer):
            return array.astype(int).tolist()
    return None


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
        ``feature_names``, and the job ids as ``instance_names`` (``explanation.job_ids``), which
        every row selection keeps aligned (:class:`JobExplanation`). A table without ``job_id``
        names its rows by their index labels.
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
        contribs = _dask_predict(bundle, rows, client)(pred_contribs=True)
    values, base = contribs[:, :-1], contribs[:, -1]
    if check_additivity:
        margin = bundle.margin(rows, device=device) if client is None else _dask_predict(bundle, rows, client)(output_margin=True)
        gap = np.max(np.abs(values.sum(axis=1) + base - margin), initial=0.0)
        tolerance = 1e-3 * max(1.0, float(np.max(np.abs(margin), initial=0.0)))
        if gap > tolerance:
            raise AssertionError(f"SHAP values do not add up to the model output (largest gap {gap:g})")
    job_ids = table["job_id"].astype(str).to_numpy() if "job_id" in table.columns else table.index.astype(str).to_numpy()
    return JobExplanation(
        values=values, base_values=base, data=rows.matrix.astype(float), feature_names=bundle.feature_names, instance_names=list(job_ids), row_index=table.index.to_numpy()
    )


def _dask_predict(model: RuntimeModel, rows, client):
    """Predictions of the encoded ``rows`` on a Dask cluster, rows partitioned across the workers."""
    from xgboost import dask as dxgb

    from ..scale import dask_frame

    names = model.feature_names
    types = ["c" if model.feature_kinds_[n] == "categorical" else "float" for n in names]
    frame = pd.DataFrame(rows.matrix, columns=names)
    dmatrix = dxgb.DaskDMatrix(client, dask_frame(frame, client), feature_names=names, feature_types=types, enable_categorical=True, missing=np.nan)
    return lambda **kw: np.asarray(dxgb.predict(client, model.booster_, dmatrix, **kw).compute())


def concat_explanations(parts: list[JobExplanation]) -> JobExplanation:
    """Stack the rows of several Explanations of the same model (job ids and row index kept).

    Examples
    --------
    >>> import numpy as np
    >>> e = JobExplanation(values=np.ones((2, 1)), base_values=np.zeros(2), data=np.ones((2, 1)), feature_names=["a"],
    ...                    instance_names=["1", "2"], row_index=[0, 1])
    >>> both = concat_explanations([e, e])
    >>> both.values.shape, both.job_ids.tolist()
    ((4, 1), ['1', '2', '1', '2'])
    """
    return JobExplanation(
        values=np.concatenate([p.values for p in parts]),
        base_values=np.concatenate([np.asarray(p.base_values) for p in parts]),
        data=np.concatenate([p.data for p in parts]),
        feature_names=list(parts[0].feature_names),
        instance_names=[name for p in parts for name in p.job_ids],
        row_index=np.concatenate([p.row_index for p in parts]),
    )
