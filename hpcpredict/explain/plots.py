"""Plots of explanations, written as PNG files. Each takes ``ax=None`` and returns the Axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap

__all__ = [
    "plot_beeswarm",
    "plot_dependence",
    "plot_drift_heatmap",
    "plot_family_bar",
    "plot_feature_bar",
    "plot_interactions",
    "plot_waterfall",
    "save",
]


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
    errors = None
    if {"ci_low", "ci_high"} <= set(ordered.columns):
        errors = np.vstack([ordered["mean_abs_shap"] - ordered["ci_low"], ordered["ci_high"] - ordered["mean_abs_shap"]]).clip(min=0)
    ax.barh(ordered["family"], ordered["mean_abs_shap"], xerr=errors, color="#1f77b4", ecolor="#444444", capsize=3)
    ax.set_xlabel(f"mean |SHAP summed within family| ({unit})")
    ax.set_title("Dominant feature families")
    return ax


def plot_beeswarm(explanation: shap.Explanation, *, top: int = 15, ax=None):
    """Per-row SHAP values of the ``top`` features, coloured by feature value (shap's beeswarm)."""
    ax = ax or plt.figure(figsize=(9, 0.4 * top + 2)).gca()
    shap.plots.beeswarm(explanation, max_display=top, ax=ax, show=False, plot_size=None)
    ax.set_title("SHAP values per job")
    return ax


def plot_drift_heatmap(by_window: pd.DataFrame, *, top: int = 15, ax=None):
    """Share of each window's total mean |SHAP| held by each of the ``top`` features (rows) per window.

    ``by_window`` comes from :func:`~hpcpredict.explain.drift.rank_by_window`. Shares rather than
    raw values, so that a busier month does not look like a change of cause.
    """
    means = by_window.drop(columns=["rows"])
    share = means.div(means.sum(axis=1).replace(0, np.nan), axis=0)
    chosen = share.mean(axis=0).sort_values(ascending=False).index[:top]
    grid = share[chosen].T
    ax = ax or plt.figure(figsize=(max(6, 0.55 * grid.shape[1] + 4), 0.38 * len(chosen) + 2)).gca()
    image = ax.imshow(grid.to_numpy(float), aspect="auto", cmap="viridis")
    ax.set_yticks(range(len(chosen)), labels=list(chosen))
    ax.set_xticks(range(grid.shape[1]), labels=list(grid.columns), rotation=60, ha="right")
    ax.figure.colorbar(image, ax=ax, label="share of the window's mean |SHAP|")
    ax.set_title("Dominant predictors over time")
    return ax


def plot_dependence(explanation: shap.Explanation, feature: str, *, ax=None):
    """SHAP value of ``feature`` against its value, one dot per job (shap's scatter plot)."""
    ax = ax or plt.figure(figsize=(6, 4)).gca()
    shap.plots.scatter(explanation[:, feature], ax=ax, show=False)
    ax.set_title(f"How {feature} moves the prediction")
    return ax


def plot_interactions(matrix: pd.DataFrame, *, top: int = 12, ax=None):
    """Mean |SHAP interaction| between the ``top`` features with the strongest interactions."""
    off = matrix.to_numpy(float).copy()
    np.fill_diagonal(off, 0.0)
    strength = pd.Series(off.sum(axis=1), index=matrix.index).sort_values(ascending=False)
    chosen = list(strength.index[:top])
    grid = matrix.loc[chosen, chosen].to_numpy(float).copy()
    np.fill_diagonal(grid, np.nan)  # main effects dwarf the pairs; they are in the bar plot
    ax = ax or plt.figure(figsize=(0.5 * len(chosen) + 4, 0.5 * len(chosen) + 3)).gca()
    image = ax.imshow(2 * grid, cmap="magma_r")
    ax.set_xticks(range(len(chosen)), labels=chosen, rotation=60, ha="right")
    ax.set_yticks(range(len(chosen)), labels=chosen)
    ax.figure.colorbar(image, ax=ax, label="mean |interaction|")
    ax.set_title("Pairs of features acting together")
    return ax


def plot_waterfall(explanation: shap.Explanation, *, top: int = 10):
    """One job's contributions from the average prediction to its own (shap's waterfall)."""
    plt.figure()
    # No title: shap writes f(x) where a title would go; the caller's caption names the job.
    return shap.plots.waterfall(explanation, max_display=top, show=False)


def save(ax, path) -> None:
    """Save the figure of ``ax`` to ``path`` and close it."""
    from .._atomic import atomic_path
    from .._outputs import PNG_STAMP

    fig = ax.get_figure()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png", metadata={"Software": PNG_STAMP})
    plt.close(fig)
