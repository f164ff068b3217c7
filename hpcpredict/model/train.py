"""Train a :class:`RuntimeModel` on the past, keep the future for evaluation, and write the bundle."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._outputs import check_output
from ..errors import HpcPredictError, InputFileError, ParameterError
from ..metadata import feature_specs, table_metadata
from .describe import describe_fit
from .combine import cap_at_limit
from .estimator import RuntimeModel
from .objectives import DEFAULT_OBJECTIVE, get_objective

__all__ = [
    "DEFAULT_PARAMS",
    "build_model",
    "cap_at_limit",
    "cap_runtime",
    "censored_rows",
    "feature_frame",
    "known_by",
    "load_training_table",
    "only_apps",
    "table_for",
    "temporal_split",
    "train",
    "valid_target",
]

#: XGBoost parameters used unless overridden.
DEFAULT_PARAMS = {
    "tree_method": "hist",
    "max_depth": 6,
    "learning_rate": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 5,
    "max_cat_to_onehot": 1,
}


def valid_target(table: pd.DataFrame, target: str) -> pd.Series:
    """Rows whose target is known and positive (a zero runtime has no relative error)."""
    y = pd.to_numeric(table[target], errors="coerce")
    return y.notna() & (y > 0)


def temporal_split(table: pd.DataFrame, *, test_fraction: float, time: str = "submit_time") -> tuple[pd.Index, pd.Index, pd.Timestamp]:
    """Split rows by time: the earliest ``1 - test_fraction`` for training, the rest for testing.

    Returns the training index, the test index and the boundary: the time of the first test row.
    Rows at the boundary time all go to the test side, so no job is split across it.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ParameterError("test_fraction", "a number strictly between 0 and 1", test_fraction)
    times = table[time].sort_values(kind="stable")
    if len(times) < 2:
        raise HpcPredictError(f"need at least 2 jobs with a runtime to split, found {len(times)}")
    boundary = times.iloc[int(np.floor(len(times) * (1.0 - test_fraction)))]
    is_test = table[time] >= boundary
    return table.index[~is_test], table.index[is_test], boundary


def only_apps(table: pd.DataFrame, apps: Sequence[str] | None, app_col: str | None = "app") -> pd.DataFrame:
    """The rows of ``table`` whose application is one of ``apps`` (all rows when ``apps`` is empty)."""
    if not apps:
        return table
    if not app_col or app_col not in table.columns:
        raise ParameterError("apps", "used with a table that has an application column", list(apps))
    kept = table.loc[table[app_col].astype("string").isin([str(a) for a in apps])]
    if kept.empty:
        raise HpcPredictError(f"no job of the applications {list(apps)} in the table (column {app_col!r})")
    return kept


def load_training_table(
    features: pd.DataFrame | str | os.PathLike[str],
    *,
    target: str = "runtime_s",
    time: str | None = None,
    app: str | None = None,
    exclude: tuple[str, ...] | list[str] = (),
) -> pd.DataFrame:
    """A feature table from :func:`hpcpredict.features`, or a bring-your-own per-job table.

    A table without hpcpredict feature metadata is read with
    :func:`hpcpredict.model.table.read_job_table`, which needs ``time``.
    """
    from ..features import read_features
    from ..features.build import _read_table
    from .._atomic import read_parquet_metadata
    from .table import read_job_table

    frame = isinstance(features, pd.DataFrame)
    path = None if frame else os.fspath(features)
    if frame:
        is_feature_table = bool(feature_specs(features))
    else:
        is_feature_table = False
        if not path.endswith((".csv", ".csv.gz")):
            _read_table(path)  # names a missing or unreadable file
            is_feature_table = (read_parquet_metadata(path) or {}).get("table") == "features"
    if is_feature_table and time is None:
        if exclude:  # a feature table is the model's feature set: left-out features would not match it later
            raise ParameterError("exclude (--exclude)", "used only with a per-job table (--time); a feature table trains on the features it was built with", ", ".join(exclude))
        return features if frame else read_features(path)
    if time is None:
        if frame:
            raise ParameterError("time", "the name of the table's time column (a table without feature metadata needs --time)", None)
        raise InputFileError(path, "not a feature table (no hpcpredict feature metadata); give --time (and --target) to train on it as a per-job table")
    return read_job_table(features if frame else path, target=target, time=time, app=app, exclude=exclude)


def table_for(model: RuntimeModel, features: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    """The table ``model`` reads, from a path or a frame: a feature table (Parquet with hpcpredict
    metadata), or — for a model trained on a bring-your-own table (CSV or Parquet) — that kind of
    table, read with the settings the model was trained with (target, time, exclusions)."""
    source = model.manifest_.table_source
    if isinstance(features, pd.DataFrame) and (not source or table_metadata(features).get("table_source")):
        return features
    if source:
        return load_training_table(features, target=source["target"], time=source["time"], app=source["app"], exclude=source["exclude"])
    return load_training_table(features, target=model.manifest_.target)


def train(
    features: pd.DataFrame | str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    target: str = "runtime_s",
    objective: str = DEFAULT_OBJECTIVE,
    test_fraction: float = 0.2,
    time: str | None = None,
    app: str | None = None,
    exclude: tuple[str, ...] | list[str] = (),
    apps: Sequence[str] | None = None,
    intervals: bool = False,
    n_estimators: int = 2000,
    early_stopping_rounds: int = 50,
    device: str = "cpu",
    seed: int = 0,
    params: dict | None = None,
    dask=None,
) -> RuntimeModel:
    """Train a :class:`RuntimeModel` on the earliest jobs and write the bundle to ``output``.

    The latest ``test_fraction`` of jobs (by ``time``) is held out for :func:`hpcpredict.evaluate`;
    training uses only jobs that had *ended* before the first held-out job when end times are known
    (a model trained at that moment could not know the others' runtimes). Early stopping watches the
    last fifth of the training window, which lies after the rest of it in time, and keeps at least
    ``min_trees`` (50) trees.

    Parameters
    ----------
    features : DataFrame or path
        A feature table from :func:`hpcpredict.features`, or a per-job CSV/Parquet table (then give
        ``time``; every other column but ``target`` and those matching ``exclude`` is a feature).
    output : path
        The bundle folder to write (``model.ubj`` + ``manifest.json``, ``intervals.ubj``).
    target : str
        The column to predict.
    objective : str
        A key of :data:`hpcpredict.model.objectives.OBJECTIVES`; default ``"absolute"``.
        ``"aft"`` treats TIMEOUT jobs (runtime >= limit) as censored.
    test_fraction : float
        Share of the latest jobs held out.
    time, app : str, optional
        The time and application columns of a per-job table (feature tables: ``submit_time``, ``app``).
    exclude : list of str
        Regular expressions of columns that are not features (per-job tables only: a feature
        table trains on the features it was built with).
    apps : list of str, optional
        Train and test on these applications only, e.g. the control jobs a site reruns at fixed
        sizes (Costello & Bhatele): their runtime varies with the system state alone. Evaluation
        and explanation of the bundle keep to them too.
    intervals : bool
        Also fit p10/p50/p90 prediction intervals.
    n_estimators, early_stopping_rounds : int
        Boosting rounds, and patience on the validation slice.
    device : {"cpu", "cuda"}
        Passed to XGBoost.
    seed : int
        Random seed of the row and column subsampling.
    params : dict, optional
        Other :class:`RuntimeModel` parameters (``max_depth``, ``learning_rate``, ...).
    dask : str or distributed.Client, optional
        Boost with ``xgboost.dask`` on a Dask cluster: ``"local:N"``, a scheduler address
        (``"tcp://host:8786"``) or a client (see :func:`hpcpredict.scale.client_for`). The split,
        parameters and early stopping are those of the single-machine path; row subsampling
        draws differ, so metrics agree within a tolerance rather than exactly.

    Returns
    -------
    RuntimeModel
        The fitted model, saved to ``output``; its ``manifest_`` records the estimator's effective
        parameters and the trees it kept.

    Examples
    --------
    >>> hpcpredict.train("features.parquet", "model/")  # doctest: +SKIP
    >>> hpcpredict.train("cori.csv.gz", "io-model/", target="darshan_agg_perf_by_slowest_posix",
    ...                  time="_datetime_start", app="darshan_app", exclude=["^darshan_(?!app|nprocs)"])  # doctest: +SKIP
    """
    check_output(output, folder=True, inputs=[features])
    table = load_training_table(features, target=target, time=time, app=app, exclude=exclude)
    specs, meta = feature_specs(table), table_metadata(table)
    if not specs:
        raise HpcPredictError("the feature table lists no features; build it with `hpcpredict features`")
    if target not in table.columns:
        raise ParameterError("target", f"a column of the feature table ({', '.join(map(str, table.columns[:8]))}, ...)", target)
    source = meta.get("table_source")
    time_col = source["time"] if source else "submit_time"
    app_col = (source["app"] if source else "app") or None
    if apps:
        table = only_apps(table, apps, app_col)
    obj = get_objective(objective)
    usable = table.loc[valid_target(table, target) & table[time_col].notna()]
    train_idx, test_idx, boundary = temporal_split(usable, test_fraction=test_fraction, time=time_col)
    fit_rows = known_by(usable.loc[train_idx], boundary)
    if fit_rows.empty:
        raise HpcPredictError(
            f"no job had ended before the first held-out submission ({boundary}): {len(train_idx):,} earlier jobs were all still running, "
            "so there is nothing to train on; use a trace that spans longer than its jobs run, or a smaller --test-fraction"
        )

    limit_feature = "time_limit_s" if target == "runtime_s" and any(f["name"] == "time_limit_s" for f in specs) else None
    model = build_model(
        {"objective": obj.name, "intervals": intervals, "n_estimators": n_estimators, "early_stopping_rounds": early_stopping_rounds, "device": device, "random_state": seed, "limit_feature": limit_feature, **(params or {})}
    )
    X = feature_frame(fit_rows, specs)
    fit = dict(time=fit_rows[time_col].to_numpy(), censored=censored_rows(fit_rows, target))
    if dask is None:
        model.fit(X, fit_rows[target].to_numpy(float), **fit)
    else:
        from ..scale import client_for

        with client_for(dask) as client:
            model.fit(X, fit_rows[target].to_numpy(float), client=client, **fit)
    model.manifest_ = describe_fit(
        model,
        target=target,
        specs=specs,
        horizon=meta.get("horizon", "submit"),
        time_column=time_col,
        app_column=app_col,
        apps=list(apps) if apps else None,
        table_source=source,
        training_window={"start": fit_rows[time_col].min(), "end": fit_rows[time_col].max()},
        test_boundary=boundary,
        test_fraction=test_fraction,
        rows={"test": len(test_idx), "not_finished_at_boundary": len(train_idx) - len(fit_rows)},
        dask=None if dask is None else (dask if isinstance(dask, str) else "client"),
        data_hash=_data_hash(usable, target, time_col),
    )
    model.save(output)
    return model


def build_model(params: dict) -> RuntimeModel:
    """A :class:`RuntimeModel` from a parameter dict, naming any unknown parameter."""
    known = RuntimeModel().get_params()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ParameterError("params", f"RuntimeModel parameters ({', '.join(sorted(known))})", unknown)
    return RuntimeModel(**params)


def feature_frame(table: pd.DataFrame, specs: list[dict]) -> pd.DataFrame:
    """The feature columns of ``table`` with the dtypes their specs declare (categoricals as category)."""
    out = {}
    for f in specs:
        col = table[f["name"]]
        if f["kind"] == "categorical":
            out[f["name"]] = col if isinstance(col.dtype, pd.CategoricalDtype) else col.astype("string").astype("category")
        else:
            out[f["name"]] = pd.to_numeric(col, errors="coerce").astype("float32")
    return pd.DataFrame(out, index=table.index)


def known_by(rows: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """Rows whose outcome was known at ``moment``: jobs that had ended by then (all rows when end times are unknown)."""
    if "end_time" in rows.columns and rows["end_time"].notna().any():
        return rows.loc[rows["end_time"].isna() | (rows["end_time"] <= moment)]
    return rows


def censored_rows(rows: pd.DataFrame, target: str) -> np.ndarray | None:
    """Jobs whose runtime is only a lower bound: TIMEOUT, or runtime at or above the time limit."""
    if target != "runtime_s":
        return None
    cens = np.zeros(len(rows), bool)
    if "state" in rows.columns:
        cens |= (rows["state"].astype("string") == "TIMEOUT").fillna(False).to_numpy(bool)
    if "time_limit_s" in rows.columns:
        limit = pd.to_numeric(rows["time_limit_s"], errors="coerce").to_numpy(float)
        cens |= np.nan_to_num(rows[target].to_numpy(float) >= limit, nan=False).astype(bool) & np.isfinite(limit)
    return cens


def cap_runtime(pred: np.ndarray, table: pd.DataFrame, target: str, *, enforced: bool = True) -> np.ndarray:
    """Runtime predictions capped at the job's time limit where the training jobs show it enforced
    (``enforced``: the model's ``limit_rule_``, see :mod:`hpcpredict.model.combine`), floored at 1 s."""
    if target != "runtime_s":
        return np.asarray(pred, float)
    limit = pd.to_numeric(table["time_limit_s"], errors="coerce").to_numpy(float) if enforced and "time_limit_s" in table.columns else None
    return cap_at_limit(pred, limit)


def _data_hash(table: pd.DataFrame, target: str, time: str) -> str:
    digest = hashlib.sha256()
    cols = [c for c in ("job_id", time, target) if c in table.columns]
    digest.update(pd.util.hash_pandas_object(table[cols], index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]
