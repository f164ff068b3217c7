"""Terminal tables for the results of evaluate, explain and demo."""

from __future__ import annotations

from rich.table import Table

from ..evaluate import METRICS
from ._common import table

__all__ = ["evaluation_table", "group_tables", "metrics_table", "ranking_tables"]


def evaluation_table(evaluation: dict) -> Table:
    """Metrics (rows) for the model and each baseline (columns); the best of each row in bold."""
    split = evaluation.get("split", "temporal")
    if split == "temporal":
        title = f"{evaluation['rows']:,} held-out jobs submitted from {evaluation['test_boundary']}"
    else:
        title = f"{split} split ({len(evaluation.get('folds', []))} folds), {evaluation['rows']:,} test jobs — {evaluation.get('split_note', '')}"
    return metrics_table(evaluation["metrics"], title)


def metrics_table(metrics: dict, title: str) -> Table:
    """Metrics (rows) for each predictor (columns); the best of each row in bold, "—" where not defined."""
    higher_better = {"r2_log", "average_accuracy"}
    rows = []
    for m, label in METRICS.items():
        values = {name: scores.get(m) for name, scores in metrics.items()}
        present = {k: v for k, v in values.items() if v is not None and v == v}
        if not present:
            continue
        best = None if m == "interval_coverage" else (max if m in higher_better else min)(present, key=present.get)
        rows.append([label] + ["—" if name not in present else f"[bold]{_num(v)}[/]" if name == best else _num(v) for name, v in values.items()])
    return table(title, ["metric", *[_label(p) for p in metrics]], rows)


def _label(predictor: str) -> str:
    """A header that can wrap on narrow terminals: ``requested_limit`` → ``requested limit``."""
    return predictor.replace("_", " ").replace("last2", "last-2")


def group_tables(evaluation: dict, *, metric_names: tuple[str, ...] = ("mae", "average_accuracy")) -> list[Table]:
    """One table per metric: a row per group (application, partition), a column per predictor."""
    groups = evaluation.get("groups") or {}
    if not groups:
        return []
    out = []
    for m in metric_names:
        predictors = list(next(iter(groups.values())))
        rows = [[g, scores["model"]["n"], *[_num(scores[p][m]) for p in predictors]] for g, scores in groups.items()]
        out.append(table(f"{METRICS[m]} by {evaluation['by']}", [evaluation["by"], "jobs", *map(_label, predictors)], rows))
    return out


def ranking_tables(explanation: dict) -> tuple[Table, Table]:
    """Top features and families by mean |SHAP|."""
    unit = explanation["unit"]
    features = table(
        f"Top predictors, mean |SHAP| ({unit}) over {explanation['rows']:,} jobs",
        ["feature", "family", "mean |SHAP|"],
        [[f["feature"], f["family"], _num(f["mean_abs_shap"])] for f in explanation["features"]],
    )
    families = table("Families", ["family", "mean |SHAP|"], [[f["family"], _num(f["mean_abs_shap"])] for f in explanation["families"]])
    return features, families


def _num(value: float) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
