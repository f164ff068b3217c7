"""Explanations: exact SHAP values, rankings per feature and family (with confidence, per cohort,
over time), interactions, per-job reasons, a permutation cross-check, and their plots."""

from __future__ import annotations

from .analysis import explain
from .crosscheck import PermutationCheck, compare_importance, permutation_check, permutation_importance
from .drift import drift_summary, rank_by_window
from .interactions import interaction_matrix, top_interactions
from .job import explain_job, format_effect, reasons
from .result import ExplainResult
from .rankings import bootstrap_rankings, family_values, rank_by_cohort, rank_families, rank_features
from .sampling import ranking_stability, stable_shap_values, stratified_order
from .values import JobExplanation, concat_explanations, shap_values

__all__ = [
    "ExplainResult",
    "JobExplanation",
    "bootstrap_rankings",
    "compare_importance",
    "concat_explanations",
    "drift_summary",
    "explain",
    "explain_job",
    "family_values",
    "format_effect",
    "interaction_matrix",
    "PermutationCheck",
    "permutation_check",
    "permutation_importance",
    "rank_by_cohort",
    "rank_by_window",
    "rank_families",
    "rank_features",
    "ranking_stability",
    "reasons",
    "shap_values",
    "stable_shap_values",
    "stratified_order",
    "top_interactions",
]

from .._verbs import make_callable  # noqa: E402  (last: the module must be complete)

make_callable(__name__)
