"""One self-contained HTML page about a model: how good it is, and what drives its predictions.

Everything is inside the file (CSS inline, images as base64), so it can be mailed, archived or
opened offline, and reads without knowing hpcpredict.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import atomic_path
from .._outputs import check_output
from .._results import records
from .._version import __version__
from ..evaluate.result import EvaluationResult
from ..explain.result import ExplainResult
from ..model import RuntimeModel, check_table
from ..model.train import table_for
from ._page import figure, number, page, raw, section, table

__all__ = ["report"]

_METRIC_TEXT = {
    "mae": ("mean absolute error (s)", "average distance between predicted and actual runtime; lower is better", False),
    "median_ae": ("median absolute error (s)", "the typical job's error, not swayed by a few very long jobs; lower is better", False),
    "mape": ("mean error in % of runtime", "dominated by short jobs predicted long; lower is better", False),
    "median_ape": ("median error in % of runtime", "the typical job's relative error; lower is better", False),
    "r2_log": ("R² of log runtime", "share of the variation of (log) runtime explained; 1 is perfect, higher is better", True),
    "underestimation_rate": ("share underestimated", "jobs predicted shorter than they ran (costly for backfilling); lower is better", False),
    "average_accuracy": ("average accuracy", "mean of min(predicted, actual) / max(predicted, actual); 1 is perfect, higher is better", True),
}
_PREDICTOR_TEXT = {
    "model": "this model",
    "requested_limit": "user's time limit",
    "user_last2": "user's last two runs",
}


def report(
    model: RuntimeModel | str | os.PathLike[str],
    features: pd.DataFrame | str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    top: int = 10,
    sample: int | None = None,
    exhaustive: bool = False,
    device: str = "cpu",
    examples: int = 2,
    interactions: int = 100,
) -> Path:
    """Write one self-contained HTML page: the evaluation table, the explanations and their plots.

    Parameters
    ----------
    model : RuntimeModel or path
        A trained bundle.
    features : DataFrame or path
        The feature table (its held-out later jobs are evaluated and explained).
    output : path
        The HTML file to write (atomically).
    top : int
        Features shown in tables and plots.
    sample, exhaustive, device, interactions
        See :func:`hpcpredict.explain`.
    examples : int
        Jobs shown one by one with their reasons.

    Returns
    -------
    Path
        ``output``.

    Examples
    --------
    >>> report("model/", "features.parquet", "report.html")  # doctest: +SKIP
    PosixPath('report.html')
    """
    from ..evaluate import evaluate, held_out_rows
    from ..explain import explain, explain_job, reasons
    from ..explain.plots import plot_waterfall, save

    check_output(output, folder=False, inputs=[model, features])
    bundle = model if isinstance(model, RuntimeModel) else RuntimeModel.load(model)
    table_ = table_for(bundle, features)
    check_table(bundle, table_)
    evaluation = evaluate(bundle, table_)
    with tempfile.TemporaryDirectory(prefix="hpcpredict-report-") as tmp:
        folder = Path(tmp)
        result = explain(bundle, table_, folder, top=top, sample=sample, exhaustive=exhaustive, device=device, interactions=interactions)
        test_rows = held_out_rows(bundle, table_).reset_index(drop=True)
        jobs = []
        for i, position in enumerate(_example_rows(bundle, test_rows, examples)):
            one = explain_job(bundle, test_rows.iloc[[position]], device=device)
            save(plot_waterfall(one, top=8), folder / f"job_{i}.png")
            jobs.append((test_rows.iloc[position], one, reasons(one, bundle), folder / f"job_{i}.png"))
        body = _body(bundle, evaluation, result, folder, jobs)
    text = page("hpcpredict report", body)
    output = Path(output)
    with atomic_path(output) as tmp_path:
        Path(tmp_path).write_text(text, encoding="utf-8")
    return output


def _example_rows(bundle: RuntimeModel, rows: pd.DataFrame, n: int) -> list[int]:
    """The job predicted longest and one near the median prediction: a slow case and a typical one."""
    if not len(rows) or n <= 0:
        return []
    pred = bundle.predict(rows)
    order = np.argsort(pred, kind="stable")
    picks = [int(order[-1]), int(order[len(order) // 2])]
    return list(dict.fromkeys(picks))[:n]


def _body(bundle: RuntimeModel, evaluation: EvaluationResult, result: ExplainResult, folder: Path, jobs: list) -> str:
    manifest = bundle.manifest_
    plots = result.plots
    rows = manifest.rows
    window = manifest.training_window
    intro = (
        "<h1>What drives job runtime here, and how well can it be predicted?</h1>"
        f"<p class=\"lead\">A model (gradient-boosted trees, XGBoost) learned to predict the runtime of a job "
        f"from what is known when it is submitted. It was trained on {number(rows.get('train'))} jobs submitted "
        f"from {html.escape(str(window.get('start', '?'))[:10])} to {html.escape(str(window.get('end', '?'))[:10])}, "
        f"and is judged below on {number(evaluation.rows)} <em>later</em> jobs it never saw "
        f"(submitted from {html.escape(str(evaluation.test_boundary)[:10])}), beside two simple rules a scheduler already has.</p>"
    )
    return "".join(
        [
            intro,
            _evaluation(evaluation),
            _drivers(result, folder, plots),
            _confidence(result),
            _drift(result, folder, plots),
            _cohorts(result),
            _pairs(result, folder, plots),
            _dependence(folder, plots),
            _crosscheck(result),
            _jobs(jobs, result),
            _glossary(manifest),
            f"<footer>hpcpredict {html.escape(__version__)} · model {html.escape(str(bundle.path_ or ''))} · "
            f"written {datetime.now(timezone.utc).isoformat(timespec='seconds')}</footer>",
        ]
    )


def _evaluation(evaluation: EvaluationResult) -> str:
    metrics = evaluation.metrics.to_dict(orient="index")  # NaN stays NaN: a predictor with no job is never "best"
    names = list(metrics)
    rows, best = [], []
    for key, (label, meaning, higher) in _METRIC_TEXT.items():
        values = [metrics[n][key] for n in names]
        finite = [v if v == v else (-np.inf if higher else np.inf) for v in values]
        best.append(1 + int(np.argmax(finite) if higher else np.argmin(finite)))
        rows.append([label, *values, meaning])
    columns = ["metric", *[_PREDICTOR_TEXT.get(n, n) for n in names], "what it means"]
    text = table(columns, [[r[0], *r[1:-1], raw(f'<span class="note">{html.escape(r[-1])}</span>')] for r in rows], best=best)
    model_mae, others = metrics["model"]["mae"], {n: m["mae"] for n, m in metrics.items() if n != "model"}
    verdict = ""
    if others:
        name, value = min(others.items(), key=lambda kv: kv[1])
        change = (model_mae - value) / value if value else float("nan")
        verdict = (
            f"<p class=\"callout\">On mean absolute error the model is {abs(change):.0%} "
            f"{'better' if change < 0 else 'worse'} than the best simple rule ({html.escape(_PREDICTOR_TEXT.get(name, name))}). "
            "The best value of each row is in bold.</p>"
        )
    return section("How good are the predictions?", text, verdict, anchor="evaluation")


def _drivers(result: ExplainResult, folder: Path, plots: Mapping[str, str]) -> str:
    unit = result.unit
    rows = result.features[["feature", "family", "mean_abs_shap", "ci_low", "ci_high"]].to_numpy().tolist()
    explain_text = (
        "<p>For every job, SHAP splits the model's prediction into one contribution per feature: starting from the "
        "average prediction, each feature pushes the job's runtime up or down. Averaging the size of those pushes "
        f"over jobs ranks the features (in {html.escape(unit)}; higher = the feature matters more). The interval is "
        "a 95% bootstrap interval: how much the figure would move had other jobs been explained.</p>"
    )
    parts = [explain_text, table(["feature", "family", f"mean |SHAP| ({unit})", "95% low", "95% high"], rows, text_columns=2)]
    grid = []
    if "features_bar" in plots:
        grid.append(figure(folder / plots["features_bar"], "Features ranked by their average effect on the prediction.", alt="feature ranking"))
    if "families_bar" in plots:
        grid.append(figure(folder / plots["families_bar"], "Families of features (contributions added within a family per job), with 95% intervals.", alt="family ranking"))
    parts.append(f"<div class=\"grid\">{''.join(grid)}</div>")
    if "beeswarm" in plots:
        parts.append(
            figure(
                folder / plots["beeswarm"],
                "One dot per job and feature: right of zero the feature made the job's prediction longer, left shorter; "
                "the colour is the feature's value (red high, blue low).",
                alt="beeswarm",
            )
        )
    return section("What drives the predictions?", *parts, anchor="drivers")


def _confidence(result: ExplainResult) -> str:
    s = result.sampling
    stab = s["stability"]
    how = {
        "all": f"every one of the {number(s['rows_total'])} jobs was explained",
        "stratified": f"{number(s['rows_explained'])} of {number(s['rows_total'])} jobs were explained, drawn so that every month and application keeps its share",
        "uniform": f"a random sample of {number(s['rows_explained'])} of {number(s['rows_total'])} jobs was explained",
    }[s["method"]]
    ok = stab["top_k_agreement"] >= 0.9
    text = (
        f"<p>Here {how}. Re-drawing the explained jobs {stab['n_boot']} times, the top {stab['top_k']} features stay "
        f"the same in {stab['top_k_agreement']:.0%} of cases on average, the leading feature in {stab['top1_agreement']:.0%}, "
        f"and the order within the top agrees with a Kendall correlation of {stab['rank_kendall']:.2f} (1 = same order).</p>"
    )
    advice = "The ranking is stable enough to act on." if ok else "Features near the bottom of the top list swap places: read them as a group, not one by one."
    return section("How sure is this ranking?", text, f"<p class=\"callout{'' if ok else ' warn'}\">{advice}</p>", anchor="confidence")


def _drift(result: ExplainResult, folder: Path, plots: Mapping[str, str]) -> str:
    drift = records(result.drift)
    if not drift:
        return section("Does it change over time?", "<p class=\"note\">The explained jobs span a single time window; nothing to compare.</p>", anchor="drift")
    rows = [[d["window"], d["rows"], d["spearman"], d["kendall"], d["top_k_overlap"], d["top_feature"] + (" (changed)" if d["top_changed"] else "")] for d in drift]
    parts = [
        "<p>Each column of the heat map is one period; the colour is the share of that period's total effect held by the feature. "
        "The table compares each period with the previous one: a rank correlation near 1 means the same features dominate, "
        "a drop marks a period where the causes changed.</p>"
    ]
    if "drift_heatmap" in plots:
        parts.append(figure(folder / plots["drift_heatmap"], "Share of each period's mean |SHAP| held by each feature.", alt="drift heat map"))
    parts.append(table(["period", "jobs", "Spearman vs previous", "Kendall vs previous", "top-10 overlap", "leading feature"], rows))
    return section("Does it change over time?", *parts, anchor="drift")


def _cohorts(result: ExplainResult) -> str:
    cohorts = [c for c in records(result.cohorts) if c["level"] == "feature" and c["rank"] <= 3]
    if not cohorts:
        return ""
    grouped: dict[tuple, list] = {}
    for c in cohorts:
        grouped.setdefault((c["column"], c["cohort"], c["rows"]), []).append(c["name"])
    rows = [[column, cohort, n, ", ".join(names)] for (column, cohort, n), names in grouped.items()]
    note = "<p>The same ranking within each large application and partition (30 explained jobs or more): the three leading features.</p>"
    return section("Per application and partition", note, table(["by", "cohort", "jobs", "leading features"], rows, text_columns=2), anchor="cohorts")


def _pairs(result: ExplainResult, folder: Path, plots: Mapping[str, str]) -> str:
    pairs = records(result.interactions)
    if not pairs:
        return ""
    note = (
        "<p>Some features act together: the effect of one depends on the value of another. SHAP interaction values, "
        "computed on a sample of jobs, measure that joint part; the strongest pairs:</p>"
    )
    rows = [[p["feature_a"], p["feature_b"], p["mean_abs_interaction"]] for p in pairs[:8]]
    parts = [note, table(["feature", "with", f"mean |interaction| ({result.unit})"], rows, text_columns=2)]
    if "interactions" in plots:
        parts.append(figure(folder / plots["interactions"], "Strength of each pair's joint effect.", alt="interaction matrix"))
    return section("Features acting together", *parts, anchor="pairs")


def _dependence(folder: Path, plots: Mapping[str, str]) -> str:
    figures = [
        figure(folder / name, f"Contribution of {key.removeprefix('dependence_')} against its value, one dot per job.", alt=key)
        for key, name in plots.items()
        if key.startswith("dependence_")
    ]
    if not figures:
        return ""
    note = "<p>How the leading features act: each dot is a job, placed by the feature's value (across) and its push on the prediction (up).</p>"
    return section("How the leading features act", note, f"<div class=\"grid\">{''.join(figures)}</div>", anchor="dependence")


def _crosscheck(result: ExplainResult) -> str:
    perm = result.permutation
    if perm is None:
        return ""
    rows = perm.importance[["feature", "mae_increase", "rank"]].to_numpy().tolist()
    cmp_ = perm.comparison
    if cmp_["agree"]:
        verdict = f"<p class=\"callout\">Both methods agree on the top {cmp_['top_k']} features (rank correlation {cmp_['spearman']:.2f}).</p>"
    else:
        verdict = (
            f"<p class=\"callout warn\">The methods disagree on the top {cmp_['top_k']}: "
            f"high by SHAP only: {html.escape(', '.join(cmp_['only_shap']) or 'none')}; "
            f"high by shuffling only: {html.escape(', '.join(cmp_['only_permutation']) or 'none')}. "
            "Features that share information (e.g. two history averages) split SHAP credit but lose little when shuffled one at a time.</p>"
        )
    note = (
        f"<p>A second opinion: shuffle one feature's values among the {number(perm.rows)} held-out jobs and measure how much "
        f"the mean absolute error grows (from {number(perm.baseline_mae)} {html.escape(perm.unit)}).</p>"
    )
    return section("Second opinion: shuffling features", note, table(["feature", f"error increase ({perm.unit})", "rank"], rows), verdict, anchor="crosscheck")


def _jobs(jobs: list, result: ExplainResult) -> str:
    if not jobs:
        return ""
    parts = [
        "<p>Why one job is predicted as it is: the bars start from the average prediction and add each feature's push; "
        "the largest pushes are also written out.</p>"
    ]
    for row, one, words, path in jobs:
        unit = "log seconds" if one.log_output else "seconds"
        parts.append(
            f"<h3>Job {html.escape(str(row.get('job_id', one.job_id)))}: predicted {number(one.prediction)} s"
            + (f", ran {number(float(row['runtime_s']))} s" if "runtime_s" in row and row["runtime_s"] == row["runtime_s"] else "")
            + "</h3><ul>"
            + "".join(f"<li>{html.escape(w)}</li>" for w in words)
            + "</ul>"
        )
        parts.append(figure(path, f"Contributions to job {one.job_id}'s prediction ({unit}).", alt=f"job {one.job_id}"))
    return section("Example jobs", *parts, anchor="jobs")


def _glossary(manifest) -> str:
    rows = [[f.name, f.family, raw(html.escape(f.description))] for f in manifest.features]
    return section("What the features mean", table(["feature", "family", "description"], rows, text_columns=3), anchor="glossary")


from .._verbs import make_callable  # noqa: E402  (last: the module must be complete)

make_callable(__name__)
