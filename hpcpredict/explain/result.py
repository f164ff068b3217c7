"""What :func:`hpcpredict.api.explain` returns: one frozen object, its tables as DataFrames."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from .._results import Result, plain, records
from .crosscheck import PermutationCheck
from .values import JobExplanation

__all__ = ["ExplainResult"]


@dataclass(frozen=True, repr=False)
class ExplainResult(Result):
    """SHAP values of a model on a set of jobs, and what they say.

    Attributes
    ----------
    values : JobExplanation
        The SHAP values (a ``shap.Explanation``: every shap plot takes it); the job ids are its
        ``instance_names`` and follow any selection of rows.
    unit : str
        Unit of the values: ``"s"``, or ``"log seconds"`` for a model on log runtime.
    sampling : dict
        How the rows were chosen: ``method`` ("all", "stratified", "uniform"), ``rows_total``,
        ``rows_explained``, ``steps`` and ``stability`` of the top features.
    features, families : DataFrame
        Ranking by mean |SHAP| with a bootstrap 95% interval: ``feature`` (or ``family``),
        ``mean_abs_shap``, ``ci_low``, ``ci_high``, ``rank`` (``features``: the top ones only).
    cohorts : DataFrame
        The same ranking per application and partition (``column``, ``cohort``, ``level``, ``name``, ``rank``, ...).
    window : str
        Period of the drift analysis (``"M"``: month).
    windows : DataFrame
        Mean |SHAP| per feature (columns) in each window (index), and ``rows`` per window.
    drift : DataFrame
        Each window against the previous one: ``window``, ``rows``, ``spearman``, ``kendall``,
        ``top_k_overlap``, ``top_feature``, ``top_changed``.
    interactions : DataFrame
        The strongest pairs: ``feature_a``, ``feature_b``, ``mean_abs_interaction``.
    permutation : PermutationCheck or None
        Permutation importance on the held-out jobs, and where it disagrees with SHAP.
    plots : mapping
        Plot name → file name in the output folder (empty without one).

    Examples
    --------
    >>> result = hpcpredict.api.explain("model/", "features.parquet", top=10)  # doctest: +SKIP
    >>> result.features[["feature", "mean_abs_shap"]].head(3)  # doctest: +SKIP
    >>> shap.plots.waterfall(result.values[result.values.job_ids == "1234"][0])  # doctest: +SKIP
    >>> result.to_json("explain.json")  # doctest: +SKIP
    """

    values: JobExplanation
    unit: str
    sampling: dict
    features: pd.DataFrame
    families: pd.DataFrame
    cohorts: pd.DataFrame
    window: str
    windows: pd.DataFrame
    drift: pd.DataFrame
    interactions: pd.DataFrame
    permutation: PermutationCheck | None = None
    plots: Mapping[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Jobs explained."""
        return int(self.values.values.shape[0])

    @property
    def job_ids(self):
        """The explained jobs' ids, in the order of :attr:`values`."""
        return self.values.job_ids

    def to_dict(self) -> dict:
        """JSON-ready (``ranking.json``): ``rows``, ``unit``, ``sampling``, ``features``, ``families``,
        ``cohorts``, ``windows`` (``freq``, ``rows`` per window, ``drift``), ``interactions``,
        ``permutation`` and ``plots``; the SHAP values themselves are in ``shap_values.parquet``."""
        counts = self.windows["rows"] if "rows" in self.windows.columns else pd.Series(dtype=int)
        return {
            "rows": self.rows,
            "unit": self.unit,
            "sampling": plain(self.sampling),
            "features": records(self.features),
            "families": records(self.families),
            "cohorts": records(self.cohorts),
            "windows": {"freq": self.window, "rows": {str(k): int(v) for k, v in counts.items()}, "drift": records(self.drift)},
            "interactions": records(self.interactions),
            "permutation": None if self.permutation is None else self.permutation.to_dict(),
            "plots": dict(self.plots),
        }

    def __repr__(self) -> str:
        top = ", ".join(self.features["feature"].head(3).astype(str)) if len(self.features) else "none"
        return f"ExplainResult(rows={self.rows:,}, unit={self.unit!r}, top features: {top})"
