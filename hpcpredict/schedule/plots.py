"""A figure comparing the predictors' scheduling outcomes."""

from __future__ import annotations

import os

__all__ = ["plot_schedule_comparison"]

_PANELS = (("mean_wait_s", "mean wait (h)", 3600.0), ("p95_wait_s", "p95 wait (h)", 3600.0), ("mean_bounded_slowdown", "mean bounded slowdown", 1.0), ("delayed_by_underestimate", "jobs delayed by underestimates", 1.0))


def plot_schedule_comparison(result: dict, *, path: str | os.PathLike[str] | None = None, show: bool = False):
    """Bars per predictor for wait, p95 wait, bounded slowdown and delayed jobs.

    ``result`` is what :func:`~hpcpredict.schedule.compare_predictors` returns. Writes a PNG to
    ``path`` atomically when given; returns the Axes.
    """
    import matplotlib.pyplot as plt

    from .._atomic import atomic_path
    from .._outputs import PNG_STAMP, check_output

    names = [r["predictor"] for r in result["results"]]
    fig, axes = plt.subplots(1, len(_PANELS), figsize=(3.2 * len(_PANELS), 3.2), dpi=110)
    for ax, (key, label, scale) in zip(axes, _PANELS):
        values = [r[key] / scale for r in result["results"]]
        ax.bar(range(len(names)), values, color="tab:blue")
        recorded = (result.get("recorded") or {}).get(key)
        if recorded is not None:
            ax.axhline(recorded / scale, color="k", lw=0.8, ls="--", label="recorded in the trace")
            ax.legend(fontsize=7)
        ax.set_xticks(range(len(names)), [n.split(":")[0] for n in names], rotation=30, fontsize=8)
        ax.set_title(label, fontsize=9)
    fig.suptitle(f"{result['policy']} backfilling, {result['measured_jobs']:,} jobs on {result['machine_size']:,} {result['unit']}", fontsize=10)
    fig.tight_layout()
    if path is not None:
        check_output(path, folder=False)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": PNG_STAMP})
    if show:
        plt.show()
    elif path is not None:
        plt.close(fig)
    return axes
