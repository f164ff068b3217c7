"""Terminal tables for the results of evaluate, explain and demo."""

from __future__ import annotations

from rich.table import Table

from ..evaluate import METRICS
from ._common import table

__all__ = ["evaluation_table", "queue_table", "ranking_tables", "replay_table"]


def evaluation_table(evaluation: dict, *, title: str | None = None) -> Table:
    """Metrics (rows) for the model and each baseline (columns); the best of each row in bold."""
    metrics = evaluation["metrics"]
    higher_better = {"r2_log", "average_accuracy"}
    rows = []
    for m, label in METRICS.items():
        values = {name: scores[m] for name, scores in metrics.items()}
        best = (max if m in higher_better else min)(values, key=values.get)
        rows.append([label] + [f"[bold]{_num(v)}[/]" if name == best else _num(v) for name, v in values.items()])
    title = title or f"{evaluation['rows']:,} held-out jobs submitted from {evaluation['test_boundary']}"
    return table(title, ["metric", *metrics], rows)


def replay_table(result: dict) -> Table:
    """The replay's metrics, titled with how far replayed and offline predictions differ."""
    title = f"{result['rows']:,} submissions replayed; replay vs offline predictions differ by at most {result['max_abs_difference_s']:g} s"
    return evaluation_table(result, title=title)


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
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"


def queue_table(predictions) -> Table:
    """One line per queued job: limit, prediction (with interval), end if started now, reasons."""
    has_interval = "predicted_p10_s" in predictions.columns
    rows = []
    for _, job in predictions.iterrows():
        interval = f" [{_hours(job['predicted_p10_s'])}–{_hours(job['predicted_p90_s'])}]" if has_interval else ""
        rows.append(
            [job["job_id"], str(job["user"]), _hours(job["time_limit_s"]), _hours(job["predicted_runtime_s"]) + interval,
             job["predicted_end_if_started_now"].strftime("%Y-%m-%d %H:%M"), "\n".join(job["reasons"])]
        )
    at = predictions.attrs.get("at")
    return table(f"{len(predictions)} queued jobs, predicted at {at}", ["job", "user", "limit", "predicted", "ends if started now", "why"], rows)


def _hours(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "-"
    h, rem = divmod(int(round(seconds)), 3600)
    return f"{h}:{rem // 60:02d}"
