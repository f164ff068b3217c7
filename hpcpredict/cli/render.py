"""Terminal tables for the results of evaluate, explain and demo."""

from __future__ import annotations

from rich.table import Table

from ..evaluate import METRICS
from ._common import table

__all__ = ["evaluation_table", "ranking_tables"]


def evaluation_table(evaluation: dict) -> Table:
    """Metrics (rows) for the model and each baseline (columns); the best of each row in bold."""
    metrics = evaluation["metrics"]
    higher_better = {"r2_log", "average_accuracy"}
    rows = []
    for m, label in METRICS.items():
        values = {name: scores[m] for name, scores in metrics.items()}
        best = (max if m in higher_better else min)(values, key=values.get)
        rows.append([label] + [f"[bold]{_num(v)}[/]" if name == best else _num(v) for name, v in values.items()])
    title = f"{evaluation['rows']:,} held-out jobs submitted from {evaluation['test_boundary']}"
    return table(title, ["metric", *metrics], rows)


def ranking_tables(explanation: dict) -> tuple[Table, Table]:
    """Top features and families by mean |SHAP|."""
    unit = explanation["unit"]
    ci = "ci_low" in (explanation["features"] or [{}])[0]
    features = table(
        f"Top predictors, mean |SHAP| ({unit}) over {explanation['rows']:,} jobs",
        ["feature", "family", "mean |SHAP|"] + (["95% CI"] if ci else []),
        [
            [f["feature"], f["family"], _num(f["mean_abs_shap"])] + ([f"{_num(f['ci_low'])} – {_num(f['ci_high'])}"] if ci else [])
            for f in explanation["features"]
        ],
    )
    families = table("Families", ["family", "mean |SHAP|"], [[f["family"], _num(f["mean_abs_shap"])] for f in explanation["families"]])
    return features, families


def _num(value: float) -> str:
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
