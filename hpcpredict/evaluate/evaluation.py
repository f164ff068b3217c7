"""Evaluate a model beside baselines on the same jobs, under a chosen split, overall and per group."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..model import RuntimeModel, check_table, unseen_categories
from ..model.train import table_for, build_model, cap_runtime, censored_rows, feature_frame, only_apps, valid_target
from .baselines import baseline_predictions
from .metrics import interval_coverage, score
from .splits import SPLITS, Fold, kfold_folds, loao_folds, rolling_folds, temporal_fold

__all__ = ["evaluate", "held_out_rows", "load_evaluation_table", "split_predictions"]


def held_out_rows(bundle: RuntimeModel, table: pd.DataFrame) -> pd.DataFrame:
    """Rows at or after the model's test boundary that have a usable target."""
    m = bundle.manifest_
    table = only_apps(table, m.apps, m.app_column)
    keep = valid_target(table, m.target) & (table[m.time_column] >= pd.Timestamp(m.test_boundary))
    return table.loc[keep]


def load_evaluation_table(bundle: RuntimeModel, features) -> pd.DataFrame:
    """The table to evaluate on: :func:`~hpcpredict.model.train.table_for`, kept to the model's applications."""
    m = bundle.manifest_
    return only_apps(table_for(bundle, features), m.apps, m.app_column)


def split_predictions(bundle: RuntimeModel, table: pd.DataFrame, *, split: str = "temporal", folds: int = 5, max_apps: int = 12, freq: str = "MS") -> tuple[pd.DataFrame, list[dict]]:
    """Predictions of the model and each baseline for the test jobs of every fold of ``split``.

    The temporal split scores the bundle itself; the others refit a model with the bundle's
    parameters on each fold's training jobs. Returns one row per (fold, test job): ``fold``,
    ``actual``, ``model``, each baseline, and ``p10``/``p90`` when the bundle has intervals; and a
    description of each fold.
    """
    if split not in SPLITS:
        raise ParameterError("split", f"one of {sorted(SPLITS)}", split)
    m = bundle.manifest_
    target, time, app = m.target, m.time_column, m.app_column
    usable = table.loc[valid_target(table, target) & table[time].notna()]
    boundary = pd.Timestamp(m.test_boundary)
    if split == "temporal":
        fold_list = [temporal_fold(usable, boundary, time=time)]
    elif split == "rolling":
        fold_list = rolling_folds(usable, boundary, time=time, freq=freq)
    elif split == "loao":
        fold_list = loao_folds(usable, app=app, max_apps=max_apps)
    else:
        fold_list = kfold_folds(usable, folds=folds, seed=m.hyperparameters.get("random_state", 0))
    parts, described = [], []
    for fold in fold_list:
        parts.append(_fold_predictions(bundle, usable, fold, refit=split != "temporal", target=target, time=time, app=app))
        described.append({"label": fold.label, "train_rows": len(fold.train), "test_rows": len(fold.test), "origin": None if fold.origin is None else str(fold.origin)})
    return pd.concat(parts), described


def _fold_predictions(bundle: RuntimeModel, usable: pd.DataFrame, fold: Fold, *, refit: bool, target: str, time: str, app: str | None) -> pd.DataFrame:
    test, history = usable.loc[fold.test], usable.loc[fold.train]
    out = pd.DataFrame({"fold": fold.label, "actual": test[target].to_numpy(float)}, index=test.index)
    if refit:
        specs = [f.to_dict() for f in bundle.manifest_.features]
        params = dict(bundle.manifest_.hyperparameters)
        model = build_model(params).fit(feature_frame(history, specs), history[target].to_numpy(float), time=history[time].to_numpy(), censored=censored_rows(history, target))
        X = feature_frame(test, specs)
        out["model"] = cap_runtime(model.predict(X), test, target)
        if model.interval_booster_ is not None:
            intervals = cap_runtime(model.predict_interval(X), test, target)
            out["p10"], out["p90"] = intervals[:, 0], intervals[:, -1]
    else:
        out["model"] = bundle.predict(test)
        if bundle.has_intervals:
            intervals = bundle.predict_interval(test)
            out["p10"], out["p90"] = intervals[:, 0], intervals[:, -1]
    for name, pred in baseline_predictions(test, history, target=target, app=app).items():
        out[name] = pred
    return out


def evaluate(
    model: RuntimeModel | str | os.PathLike[str],
    features: pd.DataFrame | str | os.PathLike[str],
    *,
    split: str = "temporal",
    by: str | None = None,
    plot: str | os.PathLike[str] | None = None,
    folds: int = 5,
    max_groups: int = 12,
) -> dict:
    """Score the model and the baselines on the same test jobs.

    Parameters
    ----------
    model : RuntimeModel or path
        A trained model (:func:`hpcpredict.train`).
    features : DataFrame or path
        The table the model was trained from (or a later one of the same horizon).
    split : {"temporal", "rolling", "loao", "kfold"}
        ``temporal`` (default) scores the bundle on the jobs after its test boundary; ``rolling``
        refits at each month start on what was known then and tests on that month (same jobs);
        ``loao`` refits without each of the most frequent applications and tests on it; ``kfold``
        is a random 5-fold split, labelled as flattering (it trains on the future).
    by : str, optional
        Also score per value of this column (``app``, ``partition`` or any column), for the
        ``max_groups`` most frequent values.
    plot : path, optional
        Write a predicted-vs-actual plot (PNG) there.
    folds : int
        Folds of ``kfold``.

    Returns
    -------
    dict
        ``target``, ``split``, ``split_note``, ``test_boundary``, ``rows``, ``excluded``,
        ``metrics`` ({predictor: {metric: value}}; the model's include ``interval_coverage``
        when it has intervals), ``folds``, ``groups`` ({value: {predictor: metrics}}) when
        ``by`` is given, ``unseen_categories`` and ``plot``. Jobs for which a baseline has no
        value are left out of every predictor's score and counted in ``excluded``, so all are
        compared on the same jobs.

    Examples
    --------
    >>> hpcpredict.api.evaluate("model/", "features.parquet", split="rolling", by="partition")  # doctest: +SKIP
    """
    bundle = model if isinstance(model, RuntimeModel) else RuntimeModel.load(model)
    table = load_evaluation_table(bundle, features)
    check_table(bundle, table)
    preds, fold_info = split_predictions(bundle, table, split=split, folds=folds)
    predictors = [c for c in preds.columns if c not in ("fold", "actual", "p10", "p90")]
    finite = np.logical_and.reduce([np.isfinite(preds[c].to_numpy(float)) for c in predictors])
    kept = preds.loc[finite]
    result = {
        "target": bundle.manifest_.target,
        "split": split,
        "split_note": SPLITS[split],
        "test_boundary": str(bundle.manifest_.test_boundary),
        "rows": int(finite.sum()),
        "excluded": int((~finite).sum()),
        "metrics": _scores(kept, predictors),
        "folds": fold_info,
        "unseen_categories": unseen_categories(bundle, table.loc[preds.index.unique()]),
    }
    if by is not None:
        column = bundle.manifest_.app_column if by == "app" and "app" not in table.columns else by
        if column not in table.columns:
            raise ParameterError("by", f"a column of the table (e.g. app, partition); {column!r} is not one", by)
        groups = table.loc[kept.index, column].astype("string").fillna("(missing)").to_numpy()
        order = pd.Series(groups).value_counts().index[:max_groups]
        result["by"] = column
        result["groups"] = {str(g): _scores(kept.loc[groups == g], predictors) for g in order}
    if plot is not None:
        from .plots import plot_predicted_vs_actual

        plot_predicted_vs_actual(kept, path=plot, target=result["target"], title=f"{split} split, {result['rows']:,} jobs")
        result["plot"] = str(plot)
    return result


def _scores(preds: pd.DataFrame, predictors: list[str]) -> dict:
    actual = preds["actual"].to_numpy(float)
    out = {name: score(preds[name].to_numpy(float), actual) for name in predictors}
    if "p10" in preds.columns and len(preds):
        out["model"].update(interval_coverage(preds["p10"].to_numpy(float), preds["p90"].to_numpy(float), actual))
    return out
