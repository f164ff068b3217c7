"""Train an XGBoost runtime model on the past and keep the future for evaluation."""

from __future__ import annotations

import hashlib
import os
import platform
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import xgboost as xgb

from .._version import __version__
from ..errors import HpcPredictError, ParameterError
from ..progress import progress
from .bundle import Bundle, load_bundle, save_bundle, to_frame
from .objectives import get_objective

__all__ = ["DEFAULT_PARAMS", "predict_runtime", "temporal_split", "train", "valid_target"]

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


def train(
    features: pd.DataFrame | str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    target: str = "runtime_s",
    objective: str = "absolute",
    test_fraction: float = 0.2,
    n_estimators: int = 2000,
    early_stopping_rounds: int = 50,
    device: str = "cpu",
    seed: int = 0,
    params: dict | None = None,
) -> Bundle:
    """Train a runtime model on the earliest jobs and write the bundle to ``output``.

    The latest ``test_fraction`` of jobs (by submit time) is held out for
    :func:`hpcpredict.evaluate`; early stopping watches the last tenth of the training window,
    which lies after the rest of it in time.

    Parameters
    ----------
    features : DataFrame or path
        A feature table from :func:`hpcpredict.features` (its specs say which columns are features).
    output : path
        The bundle folder to write (``model.ubj`` + ``manifest.json``).
    target : str
        The column to predict.
    objective : str
        A key of :data:`hpcpredict.model.objectives.OBJECTIVES`; default ``"absolute"``.
    test_fraction : float
        Share of the latest jobs held out.
    n_estimators, early_stopping_rounds : int
        Boosting rounds, and patience on the validation slice.
    device : {"cpu", "cuda"}
        Passed to XGBoost.
    seed : int
        Random seed of the row and column subsampling.
    params : dict, optional
        Extra XGBoost parameters.

    Returns
    -------
    Bundle
        The trained model as loaded back from ``output``.
    """
    from ..features import read_features

    table = features if isinstance(features, pd.DataFrame) else read_features(features)
    specs = list(table.attrs.get("features", []))
    if not specs:
        raise HpcPredictError("the feature table lists no features; build it with `hpcpredict features`")
    if target not in table.columns:
        raise ParameterError("target", f"a column of the feature table ({', '.join(table.columns[:8])}, ...)", target)
    obj = get_objective(objective)
    usable = table.loc[valid_target(table, target)]
    train_idx, test_idx, boundary = temporal_split(usable, test_fraction=test_fraction)
    fit_rows = usable.loc[train_idx].sort_values("submit_time", kind="stable")
    n_valid = max(1, len(fit_rows) // 10)
    fit_part, valid_part = fit_rows.iloc[:-n_valid], fit_rows.iloc[-n_valid:]

    categories = {
        f["name"]: sorted(map(str, fit_part[f["name"]].dropna().astype(str).unique()))
        for f in specs
        if f["kind"] == "categorical"
    }
    manifest = {
        "hpcpredict_version": __version__,
        "versions": {"xgboost": xgb.__version__, "pandas": pd.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "target": target,
        "objective": obj.name,
        "xgb_objective": obj.xgb_objective,
        "target_transform": obj.transform,
        "horizon": table.attrs.get("horizon", "submit"),
        "features": [{**f, "dtype": "category" if f["kind"] == "categorical" else "float32"} for f in specs],
        "categories": categories,
        "training_window": {"start": fit_rows["submit_time"].min(), "end": fit_rows["submit_time"].max()},
        "test_boundary": boundary,
        "test_fraction": test_fraction,
        "rows": {"train": len(fit_part), "validation": len(valid_part), "test": len(test_idx)},
        "data_hash": _data_hash(usable, target),
    }
    booster_params = {**DEFAULT_PARAMS, **(params or {}), "objective": obj.xgb_objective, "eval_metric": obj.eval_metric, "device": device, "seed": seed, "nthread": os.cpu_count() or 1}
    dtrain = _matrix(manifest, fit_part, obj.forward(fit_part[target].to_numpy(float)))
    dvalid = _matrix(manifest, valid_part, obj.forward(valid_part[target].to_numpy(float)))
    with progress(total=n_estimators, description="training") as advance:
        booster = xgb.train(
            booster_params,
            dtrain,
            num_boost_round=n_estimators,
            evals=[(dvalid, "validation")],
            early_stopping_rounds=early_stopping_rounds,
            verbose_eval=False,
            callbacks=[_ProgressCallback(advance)],
        )
    best = int(getattr(booster, "best_iteration", n_estimators - 1))
    booster = booster[: best + 1]  # keep only the trees early stopping chose
    manifest["params"] = {**booster_params, "n_estimators": n_estimators, "best_iteration": best, "early_stopping_rounds": early_stopping_rounds}
    save_bundle(booster, manifest, output)
    return load_bundle(output)


def predict_runtime(bundle: Bundle, table: pd.DataFrame) -> np.ndarray:
    """Predict the target for each row of a feature table, in target units.

    Runtime predictions are capped at the job's requested time limit (the scheduler ends a job
    there) and floored at one second.
    """
    from .objectives import get_objective

    dmatrix = _matrix(bundle.manifest, table)
    pred = get_objective(bundle.manifest["objective"]).inverse(bundle.booster.predict(dmatrix))
    if bundle.manifest["target"] == "runtime_s":
        if "time_limit_s" in table.columns:
            limit = pd.to_numeric(table["time_limit_s"], errors="coerce").to_numpy(float)
            pred = np.where(np.isfinite(limit) & (limit > 0), np.minimum(pred, limit), pred)
        pred = np.maximum(pred, 1.0)
    return pred


def _matrix(manifest: dict, table: pd.DataFrame, label: np.ndarray | None = None) -> xgb.DMatrix:
    return xgb.DMatrix(to_frame(manifest, table), label=label, enable_categorical=True, missing=np.nan)


def _data_hash(table: pd.DataFrame, target: str) -> str:
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(table[["job_id", "submit_time", target]], index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


class _ProgressCallback(xgb.callback.TrainingCallback):
    def __init__(self, advance) -> None:
        self._advance = advance

    def after_iteration(self, model, epoch, evals_log) -> bool:
        self._advance(1)
        return False
