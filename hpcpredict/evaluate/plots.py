"""Predicted-vs-actual plot of an evaluation."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

__all__ = ["plot_predicted_vs_actual"]


def plot_predicted_vs_actual(preds: pd.DataFrame, *, path: str | os.PathLike[str] | None = None, target: str = "runtime_s", title: str = "", baseline: str | None = None, max_points: int = 20_000, ax=None, show: bool = False):
    """Scatter of predicted against actual values on log axes, the model beside one baseline.

    ``preds`` has ``actual``, ``model`` and baseline columns (from
    :func:`hpcpredict.evaluate.split_predictions`). More than ``max_points`` rows are subsampled
    (and the title says so). Writes a PNG to ``path`` atomically when given; returns the Axes.
    """
    import matplotlib.pyplot as plt

    from .._atomic import atomic_path
    from .._outputs import PNG_STAMP, check_output

    if baseline is None:
        baseline = next((c for c in ("requested_limit", "app_median", "training_median") if c in preds.columns), None)
    shown = preds.sample(max_points, random_state=0) if len(preds) > max_points else preds
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 5.0), dpi=120)
    if baseline is not None:
        ax.scatter(shown["actual"], shown[baseline], s=3, alpha=0.25, color="0.6", label=baseline.replace("_", " "))
    ax.scatter(shown["actual"], shown["model"], s=3, alpha=0.35, color="tab:blue", label="model")
    values = np.concatenate([shown["actual"].to_numpy(float), shown["model"].to_numpy(float)])
    values = values[np.isfinite(values) & (values > 0)]
    if len(values):
        lo, hi = values.min(), values.max()
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, label="perfect")
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(f"actual {target}")
    ax.set_ylabel(f"predicted {target}")
    sub = f" (random {len(shown):,} of {len(preds):,} shown)" if len(shown) < len(preds) else ""
    ax.set_title(title + sub, fontsize=9)
    ax.legend(loc="upper left", fontsize=8, markerscale=3)
    if path is not None:
        check_output(path, folder=False)
        with atomic_path(path) as tmp:
            ax.figure.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": PNG_STAMP})
    if show:
        plt.show()
    elif path is not None:
        plt.close(ax.figure)
    return ax
