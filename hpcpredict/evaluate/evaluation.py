"""Evaluate a model beside baselines on the same jobs, under a chosen split, overall and per group."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..model import RuntimeModel, check_table, unseen_categories
from ..model.train import table_for, build_model, cap_runtime, censored_rows, feature_frame, only_apps, valid_target
from .baselines import baseline_predictions
from .checks import analyst_warnings
from .metrics import interval_coverage, score, target_unit
from .result import EvaluationResult, scores_frame
from .splits import SPLITS, Fold, kfold_folds, loao_folds, rolling_folds, temporal_fold

__all__ = ["common_mask", "evaluate", "every_to_freq", "held_out_rows", "load_evaluation_table", "split_predictions"]


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
    every: str | None = None,
) -> EvaluationResult:
    """Score the model and the baselines on the same test jobs.

    Parameters
    ----------
    model : RuntimeModel or path
        A trained model (:func:`hpcpredict.train`).
    features : DataFrame or path
        The table the model was trained from (or a later one of the same horizon).
    split : {"temporal", "rolling", "loao", "kfold"}
        ``temporal`` (default) scores the bundle on the jobs after its test boundary; ``rolling``
        refits at the start of each period (``every``, default a month) on what was known then and
        tests on that period (same jobs);
        ``loao`` refits without each of the most frequent applications and tests on it; ``kfold``
        is a random 5-fold split, labelled as flattering (it trains on the future).
    by : str, optional
        Also score per value of this column (``app``, ``partition`` or any column), for the
        ``max_groups`` most frequent values.
    plot : path, optional
        Write a predicted-vs-actual plot (PNG) there.
    folds : int
        Folds of ``kfold``.
    every : str, optional
        Period of the ``rolling`` split (``"7d"``: refit every week on the jobs that had ended by
        then and predict the next week, as a site retraining weekly); default the calendar month.

    Returns
    -------
    EvaluationResult
        ``target``, ``unit``, ``split``, ``split_note``, ``test_boundary``, ``rows`` (test jobs),
        ``metrics`` (a table, one row per predictor: each on every test job it can predict, ``n``
        of them; ``n`` 0 for one that predicts none; the model's has ``interval_coverage`` when
        it has intervals), ``common`` and ``common_rows`` (the same on the jobs every predictor
        with a value can predict), ``folds``, ``groups`` (per value of ``by``, on common rows),
        ``unseen_categories``, ``warnings`` and ``plot``; ``to_json()`` for a file.

    Examples
    --------
    >>> result = hpcpredict.api.evaluate("model/", "features.parquet", split="rolling", by="partition")  # doctest: +SKIP
    >>> result.metrics[["n", "mae", "average_accuracy"]]  # doctest: +SKIP
    """
    bundle = model if isinstance(model, RuntimeModel) else RuntimeModel.load(model)
    table = load_evaluation_table(bundle, features)
    check_table(bundle, table)
    if every is not None and split != "rolling":
        raise ParameterError("every", "used with --split rolling", every)
    preds, fold_info = split_predictions(bundle, table, split=split, folds=folds, freq=every_to_freq(every))
    predictors = [c for c in preds.columns if c not in ("fold", "actual", "p10", "p90")]
    common_rows = common_mask(preds, predictors)
    kept = preds.loc[common_rows]
    present = [p for p in predictors if np.isfinite(preds[p].to_numpy(float)).any()]
    result = {
        "target": bundle.manifest_.target,
        "unit": target_unit(bundle.manifest_.target),
        "split": split,
        "split_note": SPLITS[split] if split != "rolling" else f"{SPLITS[split]} (every {every or 'calendar month'})",
        "test_boundary": str(bundle.manifest_.test_boundary),
        "rows": int(len(preds)),
        "metrics": _scores(preds, predictors, own_rows=True),
        "common": {"rows": int(common_rows.sum()), "predictors": present, "metrics": _scores(kept, present)},
        "folds": fold_info,
        "unseen_categories": unseen_categories(bundle, table.loc[preds.index.unique()]),
        "warnings": analyst_warnings(bundle, table, preds.index.unique(), split=split),
    }
    if by is not None:
        column = bundle.manifest_.app_column if by == "app" and "app" not in table.columns else by
        if column not in table.columns:
            raise ParameterError("by", f"a column of the table (e.g. app, partition); {column!r} is not one", by)
        groups = table.loc[kept.index, column].astype("string").fillna("(missing)").to_numpy()
        order = pd.Series(groups).value_counts().index[:max_groups]
        result["by"] = column
        result["groups"] = {str(g): _scores(kept.loc[groups == g], present) for g in order}
    if plot is not None:
        from .plots import plot_predicted_vs_actual

        plot_predicted_vs_actual(kept, path=plot, target=result["target"], title=f"{split} split, {result['common']['rows']:,} jobs")
        result["plot"] = str(plot)
    return _as_result(result)


def _as_result(scores: dict) -> EvaluationResult:
    """The scores gathered above as the frozen :class:`EvaluationResult`."""
    groups = scores.get("groups")
    if groups is not None:
        groups = pd.concat({g: scores_frame(by_predictor) for g, by_predictor in groups.items()}, names=[scores["by"], "predictor"]) if groups else pd.DataFrame()
    return EvaluationResult(
        target=scores["target"],
        unit=scores["unit"],
        split=scores["split"],
        split_note=scores["split_note"],
        test_boundary=scores["test_boundary"],
        rows=scores["rows"],
        metrics=scores_frame(scores["metrics"]),
        common=scores_frame(scores["common"]["metrics"]),
        common_rows=scores["common"]["rows"],
        folds=pd.DataFrame(scores["folds"]),
        groups=groups,
        by=scores.get("by"),
        unseen_categories=scores["unseen_categories"],
        warnings=tuple(scores["warnings"]),
        plot=scores.get("plot"),
    )


def common_mask(preds: pd.DataFrame, predictors: list[str]) -> np.ndarray:
    """Rows every predictor that predicts anything has a value for (one with no value at all is left out)."""
    values = [preds[c].to_numpy(float) for c in predictors]
    return np.logical_and.reduce([np.isfinite(v) for v in values if np.isfinite(v).any()] or [np.ones(len(preds), bool)])


def _scores(preds: pd.DataFrame, predictors: list[str], *, own_rows: bool = False) -> dict:
    """Each predictor's metrics: on all of ``preds`` or, with ``own_rows``, on the rows it has a value for."""
    actual = preds["actual"].to_numpy(float)
    out = {}
    for name in predictors:
        pred = preds[name].to_numpy(float)
        rows = np.isfinite(pred) if own_rows else np.ones(len(pred), bool)
        out[name] = score(pred[rows], actual[rows])
    if "p10" in preds.columns and len(preds):
        out["model"].update(interval_coverage(preds["p10"].to_numpy(float), preds["p90"].to_numpy(float), actual))
    return out


def every_to_freq(every: str | None) -> str:
    """A period such as ``7d``, ``1w``, ``12h`` or ``1M`` → the pandas frequency of the rolling split.

    Examples
    --------
    >>> every_to_freq("7d"), every_to_freq(None), every_to_freq("2w")
    ('7D', 'MS', '14D')
    """
    if every is None:
        return "MS"
    import re

    match = re.fullmatch(r"\s*(\d+)\s*([hdwM])\s*", every)
    if not match or int(match.group(1)) == 0:
        raise ParameterError("every", "a period such as 7d, 2w, 12h or 1M", every)
    n, unit = int(match.group(1)), match.group(2)
    return {"h": f"{n}h", "d": f"{n}D", "w": f"{7 * n}D", "M": f"{n}MS"}[unit]
