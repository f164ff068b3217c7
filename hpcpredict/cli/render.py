"""Terminal tables for the results of evaluate, explain and demo."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from ..metadata import table_metadata, with_metadata
from ._common import table

if TYPE_CHECKING:  # the CLI imports pandas and the result classes only when a command runs
    import pandas as pd

    from ..evaluate.result import EvaluationResult
    from ..explain.result import ExplainResult

__all__ = ["common_table", "demo_report", "evaluation_table", "group_tables", "metrics_table", "queue_table", "ranking_tables", "replay_table"]


def evaluation_table(evaluation: EvaluationResult) -> Table:
    """Metrics (rows) for the model and each baseline (columns); the best of each row in bold."""
    if evaluation.split == "temporal":
        title = f"{evaluation.rows:,} held-out jobs submitted from {evaluation.test_boundary}"
    else:
        title = f"{evaluation.split} split ({len(evaluation.folds)} folds), {evaluation.rows:,} test jobs — {evaluation.split_note}"
    return metrics_table(evaluation.metrics, title + "; each predictor on the jobs it can predict", unit=evaluation.unit)


def common_table(evaluation: EvaluationResult) -> Table:
    """The same metrics on the jobs every predictor can predict (shown when that is not all of them)."""
    return metrics_table(evaluation.common, f"the {evaluation.common_rows:,} of {evaluation.rows:,} jobs every predictor with a value can predict", unit=evaluation.unit)


def metrics_table(metrics: pd.DataFrame | dict, title: str, *, unit: str = "s") -> Table:
    """One row per predictor, one column per metric; the best of each column in bold, "—" where not defined.

    ``metrics`` is a table of :class:`~hpcpredict.evaluate.EvaluationResult` (or ``{predictor:
    {metric: value}}``). The first column counts the jobs each predictor was scored on (a predictor
    may predict only some); "(s)" in a label becomes the target's ``unit`` (none when it has none).
    """
    from ..evaluate.metrics import METRICS
    from ..evaluate.result import scores_dict

    if not isinstance(metrics, dict):
        metrics = scores_dict(metrics)
    higher_better = {"r2_log", "average_accuracy"}
    # relative errors (MAPE) stay in --json: the table has a row per heuristic and must fit a terminal
    shown = {m: label.replace("(s)", f"({unit})" if unit else "").rstrip() for m, label in METRICS.items() if m not in ("mape", "median_ape")}
    shown = {m: label for m, label in shown.items() if any(scores.get(m) == scores.get(m) and scores.get(m) is not None for scores in metrics.values())}
    best = {}
    for m in shown:
        present = {k: v[m] for k, v in metrics.items() if v.get(m) is not None and v[m] == v[m] and v.get("n", 1) > 0}
        if present and m != "interval_coverage":
            best[m] = (max if m in higher_better else min)(present, key=present.get)
    rows = []
    for name, scores in metrics.items():
        cells = [_num(scores.get(m)) if best.get(m) != name else f"[bold]{_num(scores.get(m))}[/]" for m in shown]
        rows.append([_label(name), f"{scores.get('n', 0):,}", *cells])
    return table(title, ["predictor", "jobs scored", *shown.values()], rows)


def _label(predictor: str) -> str:
    """A header that can wrap on narrow terminals: ``requested_limit`` → ``requested limit``."""
    import re

    return re.sub(r"last(\d)", r"last-\1", predictor).replace("_", " ")


def group_tables(evaluation: EvaluationResult, *, metric_names: tuple[str, ...] = ("mae", "average_accuracy")) -> list[Table]:
    """One table per metric: a row per group (application, partition), a column per predictor."""
    from ..evaluate.metrics import METRICS

    groups = evaluation.groups
    if groups is None or not len(groups):
        return []
    out = []
    for m in metric_names:
        wide = groups[m].unstack("predictor")
        predictors = list(dict.fromkeys(groups.index.get_level_values("predictor")))
        counts = groups["n"].xs("model", level="predictor")
        rows = [[g, counts[g], *[_num(wide.loc[g, p]) for p in predictors]] for g in dict.fromkeys(groups.index.get_level_values(0))]
        out.append(table(f"{METRICS[m]} by {evaluation.by}", [evaluation.by, "jobs", *map(_label, predictors)], rows))
    return out


def replay_table(result: dict) -> Table:
    """The replay's metrics, titled with how far replayed and offline predictions differ."""
    title = f"{result['rows']:,} submissions replayed; replay vs offline predictions differ by at most {result['max_abs_difference_s']:g} s"
    return metrics_table(result["metrics"], title)


def ranking_tables(explanation: ExplainResult) -> tuple[Table, Table]:
    """Top features and families by mean |SHAP|."""
    ranked = explanation.features
    ci = "ci_low" in ranked.columns
    features = table(
        f"Top predictors, mean |SHAP| ({explanation.unit}) over {explanation.rows:,} jobs",
        ["feature", "family", "mean |SHAP|"] + (["95% CI"] if ci else []),
        [[f.feature, f.family, _num(f.mean_abs_shap)] + ([f"{_num(f.ci_low)} – {_num(f.ci_high)}"] if ci else []) for f in ranked.itertuples()],
    )
    families = table("Families", ["family", "mean |SHAP|"], [[f.family, _num(f.mean_abs_shap)] for f in explanation.families.itertuples()])
    return features, families


def _num(value: float) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"


def demo_report(summary: dict) -> list:
    """What ``hpcpredict demo`` prints: counts, accuracy beside baselines, families, the queue."""
    c = summary["ingest"]
    parts = [f"[bold]hpcpredict demo[/] on {summary['dataset']}: {c['jobs']:,} jobs ingested, {c['quarantined']} quarantined"]
    if summary["dataset"] == "simulated":
        s = summary["samples"]
        parts[0] += f"; {s['samples']:,} node samples of {s['hosts']} hosts, {s['quarantined']} quarantined"
        parts.append(f"Control jobs ({', '.join(summary['control_apps'])}) at the start horizon: planted causes {summary['planted']}")
    parts.append(evaluation_table(summary["evaluation"]))
    floor = summary.get("noise_floor")
    if floor:
        parts.append(
            f"Model MAE on the held-out control jobs: {floor['model_control_mae_s']:,.0f} s = {floor['ratio']:.2f}x the noise floor "
            f"({floor['control_oracle_mae_s']:,.0f} s, the error of an oracle that knows every planted cause)."
        )
    parts.extend(ranking_tables(summary["explanation"]))
    if summary.get("queue"):
        import pandas as pd

        queued = pd.DataFrame(summary["queue"]["jobs"])
        if len(queued):
            queued["predicted_end_if_started_now"] = pd.to_datetime(queued["predicted_end_if_started_now"])
            with_metadata(queued, at="the end of the simulated period")
            parts.append(queue_table(queued.head(8)))
    return parts


def queue_table(predictions) -> Table:
    """One line per queued job: limit, prediction (with interval), end if started now (or expected start), reasons."""
    has_interval = "predicted_p10_s" in predictions.columns
    has_start = "expected_start" in predictions.columns
    rows = []
    for _, job in predictions.iterrows():
        interval = f" [{_hours(job['predicted_p10_s'])}–{_hours(job['predicted_p90_s'])}]" if has_interval else ""
        when = [job["expected_start"].strftime("%Y-%m-%d %H:%M"), job["limit_based_start"].strftime("%Y-%m-%d %H:%M")] if has_start else [job["predicted_end_if_started_now"].strftime("%Y-%m-%d %H:%M")]
        rows.append([job["job_id"], str(job["user"]), _hours(job["time_limit_s"]), _hours(job["predicted_runtime_s"]) + interval, *when, "\n".join(job["reasons"])])
    at = table_metadata(predictions).get("at")
    when_columns = ["expected start", "start planned with limits"] if has_start else ["ends if started now"]
    return table(f"{len(predictions)} queued jobs, predicted at {at}", ["job", "user", "limit", "predicted", *when_columns, "why"], rows, text_columns=("why",))


def _hours(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "-"
    h, rem = divmod(int(round(seconds)), 3600)
    return f"{h}:{rem // 60:02d}"
