"""What :func:`hpcpredict.api.evaluate` returns: one frozen object, its score tables as DataFrames."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from .._results import Result, plain, records

__all__ = ["EvaluationResult", "scores_frame"]


@dataclass(frozen=True, repr=False)
class EvaluationResult(Result):
    """The model and the baselines scored on the same test jobs.

    Attributes
    ----------
    target, unit : str
        The predicted column and its unit (``"s"`` for runtime).
    split, split_note : str
        The split and what it means.
    test_boundary : str
        The model's first held-out submission time.
    rows : int
        Test jobs (over all folds).
    metrics : DataFrame
        One row per predictor (``model`` first, then each baseline), one column per metric, and
        ``n``: each predictor is scored on every test job it can predict, ``n`` of them.
    common : DataFrame
        The same on the jobs every predictor with a value can predict (:attr:`common_rows` of them).
    common_rows : int
    folds : DataFrame
        One row per fold: ``label``, ``train_rows``, ``test_rows``, ``origin``.
    groups : DataFrame or None
        With ``by``: metrics per (group value, predictor) on the common jobs.
    by : str or None
        The column of :attr:`groups`.
    unseen_categories : mapping
        Categorical feature → test jobs whose category the model never saw.
    warnings : tuple of str
        What an analyst should know before trusting the figures.
    plot : str or None
        The predicted-vs-actual plot written.

    Examples
    --------
    >>> result = hpcpredict.api.evaluate("model/", "features.parquet")  # doctest: +SKIP
    >>> result.metrics.loc["model", "mae"], result.metrics.loc["requested_limit", "mae"]  # doctest: +SKIP
    >>> result.to_json("evaluation.json")  # doctest: +SKIP
    """

    target: str
    unit: str
    split: str
    split_note: str
    test_boundary: str
    rows: int
    metrics: pd.DataFrame
    common: pd.DataFrame
    common_rows: int
    folds: pd.DataFrame
    groups: pd.DataFrame | None = None
    by: str | None = None
    unseen_categories: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    plot: str | None = None

    @property
    def predictors(self) -> list[str]:
        """The model and the baselines, in the order of :attr:`metrics`."""
        return list(self.metrics.index)

    def to_dict(self) -> dict:
        """JSON-ready, in the layout of earlier versions: ``metrics`` as ``{predictor: {metric: value}}``,
        ``common`` as ``{rows, predictors, metrics}``, ``groups`` as ``{value: {predictor: metrics}}``."""
        out = {
            "target": self.target,
            "unit": self.unit,
            "split": self.split,
            "split_note": self.split_note,
            "test_boundary": self.test_boundary,
            "rows": int(self.rows),
            "metrics": scores_dict(self.metrics),
            "common": {"rows": int(self.common_rows), "predictors": list(self.common.index), "metrics": scores_dict(self.common)},
            "folds": records(self.folds),
            "unseen_categories": plain(dict(self.unseen_categories)),
            "warnings": list(self.warnings),
        }
        if self.by is not None and self.groups is not None:
            out["by"] = self.by
            out["groups"] = {str(g): scores_dict(part.droplevel(0)) for g, part in self.groups.groupby(level=0, sort=False)}
        if self.plot is not None:
            out["plot"] = self.plot
        return out

    def __repr__(self) -> str:
        mae = self.metrics["mae"].to_dict() if "mae" in self.metrics.columns else {}
        shown = ", ".join(f"{k} {v:,.4g}" for k, v in list(mae.items())[:4])
        return f"EvaluationResult({self.split} split, {self.rows:,} test jobs, MAE ({self.unit}): {shown})"


def scores_frame(scores: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """``{predictor: {metric: value}}`` → a table, one row per predictor (index ``predictor``).

    Examples
    --------
    >>> float(scores_frame({"model": {"n": 3, "mae": 1.5}, "limit": {"n": 2, "mae": 4.0}}).loc["limit", "mae"])
    4.0
    """
    frame = pd.DataFrame.from_dict({k: dict(v) for k, v in scores.items()}, orient="index")
    if "n" in frame.columns:
        frame["n"] = frame["n"].fillna(0).astype(int)
    return frame.rename_axis("predictor")


def scores_dict(frame: pd.DataFrame) -> dict:
    """The reverse of :func:`scores_frame`, JSON-ready (NaN as None); interval coverage is left out of
    the predictors that have no intervals, as :func:`~hpcpredict.evaluate.metrics.score` leaves it."""
    rows = frame.to_dict(orient="index")
    return {str(name): {k: plain(v) for k, v in row.items() if not (k.startswith("interval_") and plain(v) is None)} for name, row in rows.items()}
