"""Plots of explanations, written as PNG files. Each takes ``ax=None`` and returns the Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import shap  # noqa: E402

__all__ = ["plot_beeswarm", "plot_feature_bar", "plot_family_bar", "save"]


def plot_feature_bar(explanation: shap.Explanation, *, top: int = 15, ax=None):
    """Mean |SHAP| of the ``top`` features (shap's bar plot)."""
    ax = ax or plt.figure(figsize=(8, 0.35 * top + 1.5)).gca()
    shap.plots.bar(explanation, max_display=top, ax=ax, show=False)
    ax.set_title("Dominant predictors (mean |SHAP|)")
    return ax


def plot_family_bar(ranking: pd.DataFrame, *, unit: str = "s", ax=None):
    """Mean |SHAP| per feature family, from :func:`~hpcpredict.explain.rankings.rank_families`."""
    ax = ax or plt.figure(figsize=(7, 0.45 * len(ranking) + 1.5)).gca()
    ordered = ranking.sort_values("mean_abs_shap")
    ax.barh(ordered["family"], ordered["mean_abs_shap"], color="#1f77b4")
    ax.set_xlabel(f"mean |SHAP summed within family| ({unit})")
    ax.set_title("Dominant feature families")
    return ax


def plot_beeswarm(explanation: shap.Explanation, *, top: int = 15, ax=None):
    """Per-row SHAP values of the ``top`` features, coloured by feature value (shap's beeswarm)."""
    ax = ax or plt.figure(figsize=(9, 0.4 * top + 2)).gca()
    shap.plots.beeswarm(explanation, max_display=top, ax=ax, show=False, plot_size=None)
    ax.set_title("SHAP values per job")
    return ax


def save(ax, path) -> None:
    """Save the figure of ``ax`` to ``path`` and close it."""
    from .._atomic import atomic_path

    fig = ax.get_figure()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
