"""The model beside every scheduler heuristic on every accounting trace in ../shared/data/real.

Usage: python benchmarks/accuracy_traces.py [--quick] [--max-refits 8] [--with GROUP] [--json out.json] [--write-docs]

For each trace: ingest → submit-horizon features → train (defaults) → evaluate under
1. the temporal split (latest 20% of jobs held out, one model) and
2. the weekly-retrain protocol (``evaluate --split rolling --every 7d``: refit on the jobs ended by
   each week's start, predict that week). At most ``--max-refits`` refits per trace: a longer test
   period is cut into that many equal periods of whole weeks, and the table says so.
Beside them, a plain XGBoost reference written the way an analyst would in an hour (numeric
columns of the feature table, no ids, absolute error, early stopping on the latest 10%), temporal
split only. Metrics: MAE, median AE, average accuracy, underestimation rate, jobs scored — each
predictor on every job it can predict. Where the model loses, two lines say why: "Blends" (a
weighted mean with the most accurate heuristic) and "Ceiling" (every combination of one blend per
history class, scored on the test jobs themselves: could any choice have won?). ``--quick``
keeps the first 4,000 jobs of each trace and at most 2 refits. ``--with user-activity`` adds an
optional feature group (as ``hpcpredict features --with``), to measure it against the default. ``--write-docs`` replaces the generated section of
docs/models.md (default features only).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import hpcpredict as hp
from hpcpredict import api
from hpcpredict.evaluate import score
from hpcpredict.features import read_features

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe_machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
#: name → (format, path, reader options, note)
TRACES = {
    "KTH-SP2": ("swf", REAL / "pwa-kth-sp2-1996" / "KTH-SP2-1996-2.1-cln.swf.gz", {}, ""),
    "HPC2N (subset)": ("swf", REAL / "pwa-hpc2n-2002-subset" / "hpc2n.swf", {}, "first 3,170 jobs"),
    "CERIT-SC": ("swf", REAL / "cerit-sc-wagap-2013" / "wagap-2013.swf", {}, ""),
    "Theta": ("swf", REAL / "alcf-theta-2022-swf" / "theta_2022.swf", {}, ""),
    "NASA iPSC": ("swf", REAL / "pwa-nasa-ipsc-1993" / "NASA-iPSC-1993-3.1-cln.swf.gz", {}, "no time limits"),
    "Lublin model": ("swf", REAL / "lublin-model-256" / "lublin_256.swf", {}, "SYNTHETIC (Lublin–Feitelson model)"),
    "NREL Eagle": ("table", REAL / "nrel-eagle-sample" / "sample_eagle_data.csv", {"preset": "nrel-eagle"}, "first 1,000 jobs of 2019"),
    "MIT SuperCloud": ("table", REAL / "mit-supercloud-sample" / "slurm-log-queueing-clean.csv", {"preset": "mit-supercloud"}, "sample"),
}
SHOWN = ("n", "mae", "median_ae", "average_accuracy", "underestimation_rate")
START, END = "<!-- accuracy_traces:start -->", "<!-- accuracy_traces:end -->"


def analyst_reference(table: pd.DataFrame, boundary: pd.Timestamp) -> np.ndarray:
    """A plain pandas + XGBoost model: numeric columns, absolute error, early stopping; no project code."""
    import xgboost as xgb

    y = table["runtime_s"].to_numpy(float)
    X = table.drop(columns=["runtime_s", "job_id", "start_time", "end_time"], errors="ignore").select_dtypes("number")
    train = (table["submit_time"] < boundary).to_numpy() & (table["end_time"] <= boundary).to_numpy()
    order = np.flatnonzero(train)[np.argsort(table.loc[train, "submit_time"].to_numpy(), kind="stable")]
    cut = int(len(order) * 0.9)
    fit, valid = order[:cut], order[cut:]
    model = xgb.XGBRegressor(objective="reg:absoluteerror", n_estimators=1000, learning_rate=0.05, max_depth=6, early_stopping_rounds=50)
    model.fit(X.iloc[fit], y[fit], eval_set=[(X.iloc[valid], y[valid])], verbose=False)
    test = (table["submit_time"] >= boundary).to_numpy()
    return np.maximum(model.predict(X.loc[test]), 1.0), test


def temporal_predictions(bundle, feats: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The temporal split's test jobs (feature rows) and the model's and every baseline's
    predictions of them, aligned: what the Blends and Ceiling lines read."""
    from hpcpredict.evaluate import split_predictions
    from hpcpredict.evaluate.evaluation import load_evaluation_table

    table = load_evaluation_table(bundle, feats)
    preds, _ = split_predictions(bundle, table)
    return table.loc[preds.index], preds


def blend_frontier(preds: pd.DataFrame, metrics: dict) -> list[dict] | None:
    """Why the model loses where it does: MAE and AA of w x model + (1 - w) x the heuristic with the
    best AA, on the temporal split's jobs both predict. If no w beats the best heuristic MAE and the
    best heuristic AA at once, no blend of the two can either."""
    aa = best_heuristic(metrics, "average_accuracy", higher=True)
    if aa is None:
        return None
    rows = preds.loc[np.isfinite(preds[aa[0]].to_numpy(float))]
    actual = rows["actual"].to_numpy(float)
    out = []
    for w in (1.0, 0.8, 0.6, 0.4, 0.2, 0.0):
        s = score(w * rows["model"].to_numpy(float) + (1 - w) * rows[aa[0]].to_numpy(float), actual)
        out.append({"model_weight": w, "heuristic": aa[0], "mae": s["mae"], "average_accuracy": s["average_accuracy"]})
    return out


#: Scheduler heuristics in seconds (no limit needed) that the ceiling's wider family adds.
SECONDS_HEURISTICS = ("user_last2", "user_last2_completed", "user_median", "app_median")


def blend_ceiling(bundle, test: pd.DataFrame, preds: pd.DataFrame, metrics: dict) -> dict | None:
    """Could any blend have won? The best blend per class of history chosen on the temporal
    split's test jobs themselves: an upper bound no rule choosing on the past can pass.

    The family is the model's own (:mod:`hpcpredict.model.combine`: the trees alone, or w x trees
    + (1 - w) x an ALEA history feature or the limit, arithmetic or geometric, w = 0, 0.1, ..., 0.9,
    one choice per history class, capped as the model caps), and a wider one that also blends with
    the heuristics in seconds (user last-2 over any and over completed jobs, the training window's
    per-user and per-application medians). Every combination of per-class choices counts (options
    to the power of the classes present), searched through their Pareto frontier
    (:func:`pareto_sums`); a combination "beats both" as the summary counts it (figures as printed).
    Returns, per family, the number of combinations, whether any beats both, and the best one: the
    best of those that beat both, else the largest log(best MAE / MAE) + log(AA / best AA).
    """
    from hpcpredict.evaluate.metrics import accuracy
    from hpcpredict.model.combine import CLASS_COLUMNS, CLASS_NAMES, blend, blend_options, cap_at_limit, heuristic_columns, heuristic_values, history_classes

    mae_bar, aa_bar = best_heuristic(metrics, "mae", higher=False), best_heuristic(metrics, "average_accuracy", higher=True)
    if mae_bar is None or aa_bar is None or bundle.objective != "absolute":
        return None
    actual = preds["actual"].to_numpy(float)
    trees = np.asarray(bundle.margin(test), float)  # the trees' seconds before the combination (absolute error: margin = prediction)
    names = bundle.feature_names
    rule = bundle.manifest_.limit_rule or {}
    limit = test["time_limit_s"].to_numpy(float) if "time_limit_s" in test.columns else np.full(len(test), np.nan)
    cap = limit if rule.get("enforced", True) else None
    # the model's candidates, as it applies them: the limit where the user has no history
    own = {n: heuristic_values(test[n].to_numpy(float), limit) for n in heuristic_columns(names, bundle.limit_feature)} if bundle.limit_feature in names else {}
    seconds = {n: preds[n].to_numpy(float) for n in SECONDS_HEURISTICS if n in preds.columns and np.isfinite(preds[n].to_numpy(float)).any()}
    classes = history_classes(*(test[n].to_numpy(float) for n in CLASS_COLUMNS)) if set(CLASS_COLUMNS) <= set(names) else np.zeros(len(test), int)
    present = [c for c in range(len(CLASS_NAMES)) if np.any(classes == c)]
    out = {"jobs": int(len(actual)), "best_heuristic": {"mae": mae_bar, "average_accuracy": aa_bar}}
    for family, candidates in (("model's heuristics", own), ("+ heuristics in seconds", {**own, **seconds})):
        options = blend_options(candidates)
        err, acc = np.empty((len(present), len(options))), np.empty((len(present), len(options)))
        for i, (h, form, w) in enumerate(options):
            pred = cap_at_limit(trees if h is None else blend(trees, candidates[h], w, form), cap)
            e, a = np.abs(pred - actual), accuracy(pred, actual)
            for j, c in enumerate(present):
                err[j, i], acc[j, i] = e[classes == c].sum(), a[classes == c].sum()
        # every combination of one option per present class, through the Pareto frontier of (summed
        # error, summed accuracy): a combination another beats on both sums can neither beat both
        # heuristics where that one does not, nor have a larger margin (options^classes is 10^9 and more)
        total_e, total_a, chosen = pareto_sums(err, acc)
        mae, aa = total_e / len(actual), total_a / len(actual)
        wins = (np.round(mae) < round(mae_bar[1])) & (np.round(aa, 3) > round(aa_bar[1], 3))
        margin = np.log((mae_bar[1] + 1.0) / (mae + 1.0)) + np.log(aa / max(aa_bar[1], 1e-12))
        best = int(np.argmax(np.where(wins, margin, -np.inf)) if wins.any() else np.argmax(margin))
        best_parts = chosen[best]
        parts = {CLASS_NAMES[c] if len(present) > 1 else "all": options[best_parts[j]] for j, c in enumerate(present)}
        out[family] = {"combinations": len(options) ** len(present), "beat_both": bool(wins.any()), "mae": float(mae[best]), "average_accuracy": float(aa[best]),
                       "parts": {k: {"heuristic": h, "form": f, "weight": w} for k, (h, f, w) in parts.items()}}
    return out


def pareto_sums(err: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The combinations of one option per row of ``err`` / ``acc`` (classes x options: summed
    absolute error and accuracy of each option on each class's jobs) that no other combination
    beats on both totals: their total error, total accuracy and options (one column per class).

    Examples
    --------
    >>> e, a, chosen = pareto_sums(np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 1.0]]), np.array([[1.0, 2.0, 1.0], [0.0, 3.0, 2.0]]))
    >>> e.tolist(), a.tolist(), chosen.tolist()
    ([1.0, 2.0, 3.0, 7.0], [1.0, 3.0, 4.0, 5.0], [[0, 0], [0, 2], [1, 2], [1, 1]])
    """
    total_e, total_a, chosen = np.zeros(1), np.zeros(1), np.zeros((1, 0), int)
    for e, a in zip(err, acc):
        n = len(e)
        pe, pa = (total_e[:, None] + e[None, :]).ravel(), (total_a[:, None] + a[None, :]).ravel()
        order = np.lexsort((-pa, pe))  # by error, then the most accurate first
        keep = order[pa[order] > np.maximum.accumulate(np.r_[-np.inf, pa[order][:-1]])]
        total_e, total_a = pe[keep], pa[keep]
        chosen = np.column_stack([chosen[keep // n], keep % n])
    return total_e, total_a, chosen


def rolling_every(features: Path, bundle, max_refits: int) -> tuple[str, str]:
    """``7d``, or whole weeks so the test period needs at most ``max_refits`` refits; and a note."""
    times = read_features(features)["submit_time"]
    boundary = pd.Timestamp(bundle.manifest_.test_boundary)
    weeks = max(1, math.ceil((times.max() - boundary) / pd.Timedelta(days=7)))
    if weeks <= max_refits:
        return "7d", f"{weeks} weekly refits"
    every = math.ceil(weeks / max_refits)
    return f"{7 * every}d", f"test period of {weeks} weeks: refits every {every} weeks (capped at {max_refits} refits)"


def run_trace(name: str, spec: tuple, work: Path, *, quick: bool, max_refits: int, optional: list[str]) -> dict:
    fmt, path, options, note = spec
    jobs, feats = work / f"{name}.jobs.parquet", work / f"{name}.features.parquet"
    t0 = time.perf_counter()
    counts = api.ingest(fmt, [path], jobs, **options)
    if quick:
        table = pd.read_parquet(jobs).sort_values("submit_time", kind="stable").head(4000)
        table.to_parquet(jobs)
    api.features(jobs, feats, horizon="submit", optional=optional)
    out = {"trace": name, "note": note, "source": str(path.relative_to(REPO.parent)), "ingest": counts}
    try:
        bundle = api.train(feats, work / f"{name}.model")
    except hp.HpcPredictError as exc:
        out["error"] = str(exc)
        return out
    out["trees"] = bundle.manifest_.n_trees
    out["limit_rule"], out["combination"] = bundle.manifest_.limit_rule, bundle.manifest_.combination
    temporal = api.evaluate(bundle, feats).to_dict()
    table = read_features(feats)
    ref, test = analyst_reference(table.loc[table["runtime_s"] > 0], pd.Timestamp(bundle.manifest_.test_boundary))
    actual = table.loc[table["runtime_s"] > 0].loc[test, "runtime_s"].to_numpy(float)
    temporal["metrics"]["xgboost_reference"] = score(ref, actual)
    test_rows, preds = temporal_predictions(bundle, feats)
    out["frontier"] = blend_frontier(preds, temporal["metrics"])
    out["ceiling"] = blend_ceiling(bundle, test_rows, preds, temporal["metrics"])
    every, refit_note = rolling_every(feats, bundle, max_refits)
    rolling = api.evaluate(bundle, feats, split="rolling", every=every).to_dict()
    out.update(temporal=temporal, rolling=rolling, every=every, refit_note=refit_note, seconds=round(time.perf_counter() - t0, 1))
    return out


def _f(v) -> str:
    if v is None or v != v:
        return "—"
    return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"


def best_heuristic(metrics: dict, key: str, *, higher: bool) -> tuple[str, float] | None:
    """The best baseline (not the model, not the reference) on ``key`` among those that scored jobs."""
    cands = {p: m[key] for p, m in metrics.items() if p not in ("model", "xgboost_reference") and m["n"] > 0 and m[key] == m[key]}
    if not cands:
        return None
    name = (max if higher else min)(cands, key=cands.get)
    return name, cands[name]


def beats_as_printed(model: dict, best_mae: float, best_aa: float) -> bool:
    """Lower MAE and higher average accuracy than the best heuristic, in the figures as printed
    (whole seconds, three decimals): a model that has become the heuristic ties, it does not win."""
    return round(model["mae"]) < round(best_mae) and round(model["average_accuracy"], 3) > round(best_aa, 3)


def trace_markdown(r: dict) -> str:
    head = f"### {r['trace']}" + (f" ({r['note']})" if r["note"] else "")
    if "error" in r:
        return f"{head}\n\nNo model: `{r['error']}`\n"
    lines = [head, ""]
    for proto in ("temporal", "rolling"):
        ev = r[proto]
        title = f"temporal split, {ev['rows']:,} held-out jobs from {ev['test_boundary'][:10]}, {r['trees']} trees" if proto == "temporal" else f"weekly retrain ({r['refit_note']}), {ev['rows']:,} test jobs"
        lines += [f"**{title}**", "", "| predictor | jobs | MAE (s) | median AE (s) | avg. accuracy | under-est. rate |", "|---|---:|---:|---:|---:|---:|"]
        for p, m in ev["metrics"].items():
            lines.append(f"| {p} | {m['n']:,} | {_f(m['mae'])} | {_f(m['median_ae'])} | {_f(m['average_accuracy'])} | {_f(m['underestimation_rate'])} |")
        lines.append("")
    lines += [rules_markdown(r), ""]
    if r.get("frontier"):
        f = r["frontier"]
        lines += [f"Blends w x model + (1 - w) x {f[0]['heuristic']} (temporal split): " + "; ".join(f"w={x['model_weight']:.1f}: {_f(x['mae'])} / {_f(x['average_accuracy'])}" for x in f), ""]
    if r.get("ceiling"):
        lines += [ceiling_markdown(r["ceiling"]), ""]
    warnings = r["temporal"].get("warnings") or []
    if warnings:
        lines += ["Warnings: " + "; ".join(warnings), ""]
    return "\n".join(lines)


def ceiling_markdown(c: dict) -> str:
    """Whether any blend per history class could have beaten both best heuristics on the test jobs."""
    def blend_text(p: dict) -> str:
        return "the trees" if p["heuristic"] is None else f"{p['weight']:.1f} x trees + {1 - p['weight']:.1f} x {p['heuristic']} ({p['form']})"

    lines = [f"Ceiling: blends per history class chosen on these {c['jobs']:,} test jobs themselves (temporal split), against the best heuristics' "
             f"{_f(c['best_heuristic']['mae'][1])} / {_f(c['best_heuristic']['average_accuracy'][1])}:"]
    for family in ("model's heuristics", "+ heuristics in seconds"):
        f = c[family]
        label = "the model's own heuristics" if family.startswith("model") else "with the heuristics in seconds too"
        chosen = "; ".join(f"{k.replace('_', ' ')}: {blend_text(p)}" for k, p in f["parts"].items())
        if f["combinations"] == 1:
            lines.append(f"- {label}: none (no limits), the trees alone {_f(f['mae'])} / {_f(f['average_accuracy'])}")
        elif f["beat_both"]:
            lines.append(f"- {label}: of {f['combinations']:,} combinations some beat both; the best {_f(f['mae'])} / {_f(f['average_accuracy'])} ({chosen})")
        else:
            lines.append(f"- {label}: none of {f['combinations']:,} beats both; the closest {_f(f['mae'])} / {_f(f['average_accuracy'])} ({chosen})")
    return "\n".join(lines)


def rules_markdown(r: dict) -> str:
    """What the temporal-split model learnt from its training jobs about the limit and the heuristics."""
    rule, comb = r.get("limit_rule"), r.get("combination")
    if rule is None:
        return "Limit rule: none (no time limits); trees fit seconds; no combination."
    text = (f"Limit rule: {rule['within_limit']:.1%} of {rule['jobs_with_limit']:,} training jobs ended within 1.05x their limit, so predictions are "
            f"{'capped at' if rule['enforced'] else 'NOT capped at'} the limit; trees fit {'runtime / limit' if rule['ratio_target'] else 'seconds'}. ") if rule["within_limit"] is not None else "Limit rule: no training job has a limit. "
    if comb is None:
        return text + "No combination (validation slice under 20 jobs)."
    v = comb["validation"]
    def part(c: str, p: dict) -> str:
        who = "all jobs" if c == "all" else f"{c.replace('_', ' ')}, {v['jobs_by_class'][c]:,} jobs"
        what = "the trees alone" if p["heuristic"] is None else f"{p['weight']:.1f} x trees + {1 - p['weight']:.1f} x {p['heuristic']} ({p['form']} mean)"
        return f"{what} ({who})"

    chosen = "; ".join(part(c, p) for c, p in comb["parts"].items())
    return text + (f"Combination chosen on the {v['jobs']:,} validation jobs: {chosen} — there {_f(v['mae'])} / {_f(v['average_accuracy'])} "
                   f"vs trees {_f(v['trees_mae'])} / {_f(v['trees_average_accuracy'])} and best heuristic {_f(v['best_heuristic_mae'])} / {_f(v['best_heuristic_average_accuracy'])}.")


def summary_markdown(results: list[dict]) -> tuple[str, int, int]:
    lines = ["| trace | protocol | model MAE / AA / under-est. | best heuristic MAE | best heuristic AA | beats both | plain XGBoost reference MAE / AA |", "|---|---|---:|---:|---:|---|---:|"]
    wins = total = 0
    for r in results:
        if "error" in r:
            lines.append(f"| {r['trace']} | — | no model ({r['error'][:60]}) | | | no | |")
            continue
        for proto in ("temporal", "rolling"):
            m = r[proto]["metrics"]
            mae, aa = best_heuristic(m, "mae", higher=False), best_heuristic(m, "average_accuracy", higher=True)
            me = m["model"]
            beats = None if mae is None or aa is None else beats_as_printed(me, mae[1], aa[1])
            if proto == "rolling" and beats is not None:  # a trace where no heuristic predicts a job is not a win
                total += 1
                wins += beats
            label = "temporal" if proto == "temporal" else f"weekly retrain ({r['every']})"
            ref = m.get("xgboost_reference")  # temporal split only
            ref = "—" if ref is None else f"{_f(ref['mae'])} / {_f(ref['average_accuracy'])}"
            lines.append(
                f"| {r['trace']} | {label} | {_f(me['mae'])} / {_f(me['average_accuracy'])} / {_f(me['underestimation_rate'])} | "
                f"{'—' if mae is None else f'{_f(mae[1])} ({mae[0]})'} | {'—' if aa is None else f'{_f(aa[1])} ({aa[0]})'} | {'n/a (no heuristic predicts any job)' if beats is None else 'yes' if beats else 'no'} | {ref} |"
            )
    return "\n".join(lines), wins, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="First 4,000 jobs of each trace, at most 2 refits.")
    parser.add_argument("--max-refits", type=int, default=8)
    parser.add_argument("--only", action="append", default=[], help="Run only these traces (by name).")
    parser.add_argument("--with", dest="optional", action="append", default=[], help="Add an optional feature group (user-activity).")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write-docs", action="store_true", help="Replace the generated section of docs/models.md.")
    args = parser.parse_args()
    if args.write_docs and args.optional:
        parser.error("--write-docs regenerates the default model's figures: run it without --with")
    refits = 2 if args.quick else args.max_refits
    results = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in TRACES.items():
            if args.only and name not in args.only:
                continue
            if not spec[1].exists():
                print(f"{name}: {spec[1]} not found, skipped", flush=True)
                continue
            results.append(run_trace(name, spec, Path(tmp), quick=args.quick, max_refits=refits, optional=args.optional))
            print(trace_markdown(results[-1]), flush=True)
    summary, wins, total = summary_markdown(results)
    text = "\n".join(
        [
            START,
            f"Generated by `python benchmarks/accuracy_traces.py{' --quick' if args.quick else ''}{''.join(f' --with {g}' for g in args.optional)}` ({time.perf_counter() - t0:,.0f} s; {describe_machine()})"
            + (": **quick run, the first 4,000 jobs of each trace and at most 2 refits**, not the whole traces." if args.quick else f"; at most {refits} refits per trace."),
            "",
            f"**Summary: under weekly retrain the model beats the best heuristic on MAE and average accuracy at once on {wins} of {total} traces** "
            "(the best heuristic on each metric separately, among the baselines that predict at least one job, in the figures as printed: "
            "a model equal to a heuristic does not count; traces where no heuristic predicts a job are not counted).",
            "",
            summary,
            "",
            *[trace_markdown(r) for r in results],
            END,
        ]
    )
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    if args.write_docs:
        doc = REPO / "docs" / "models.md"
        old = doc.read_text()
        new = old[: old.index(START)] + text + old[old.index(END) + len(END):] if START in old else old.rstrip() + "\n\n## Accuracy on every real trace\n\n" + text + "\n"
        doc.write_text(new)


if __name__ == "__main__":
    main()
