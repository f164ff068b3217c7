"""SHAP time: hpcpredict (XGBoost ``pred_contribs``) beside ``shap.TreeExplainer``, same model, same rows.

Usage::

    python benchmarks/bench_shap.py [--rows 10000 100000] [--trees 200] [--depth 8] [--features 40] [--device cpu]

A synthetic regression (numeric features, so TreeExplainer takes the DataFrame as is) is fitted
with ``trees`` x ``depth``; for each row count the script times both explainers on the same rows,
checks they agree, and times the stratified sample that :func:`hpcpredict.explain` uses on a CPU
(at most a fifth of the rows: rows explained, whether its top-10 equals the exhaustive one). It prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd
import shap
import xgboost as xgb

from hpcpredict.explain import interaction_matrix, rank_features, shap_values, stable_shap_values
from hpcpredict.model import RuntimeModel
from hpcpredict.model.describe import describe_fit


def machine() -> str:
    """Cores, memory and CPU model, for the table's caption."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB memory, xgboost {xgb.__version__}, shap {shap.__version__}"


def synthetic(rows: int, features: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(rng.normal(size=(rows, features)).astype("float32"), columns=[f"f{i:02d}" for i in range(features)])
    weights = 1.0 / (1 + np.arange(features)) ** 1.2  # a clear but long-tailed ranking
    y = table.to_numpy() @ weights + 0.5 * table["f00"] * table["f01"] + rng.normal(scale=0.1, size=rows)
    table["runtime_s"] = y
    table["job_id"] = np.arange(rows).astype(str)
    table["submit_time"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.linspace(0, 180, rows), unit="D")
    table["app"] = rng.choice(list("abcdefgh"), size=rows)
    return table


def bundle_for(table: pd.DataFrame, names: list[str], trees: int, depth: int) -> RuntimeModel:
    fit = table.iloc[: min(len(table), 20000)]
    model = RuntimeModel("absolute", n_estimators=trees, early_stopping_rounds=None, max_depth=depth, learning_rate=0.1, subsample=1.0, colsample_bytree=1.0)
    model.fit(fit[names], fit["runtime_s"])
    specs = [{"name": n, "family": f"family{int(n[1:]) % 5}", "horizon": "submit", "kind": "numeric"} for n in names]
    model.manifest_ = describe_fit(model, target="runtime_s", specs=specs, horizon="submit", time_column="submit_time")
    return model


def timed(func):
    start = time.perf_counter()
    out = func()
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--interaction-rows", type=int, default=200)
    parser.add_argument("--sample-max", type=int, default=20000, help="largest stratified sample")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    table = synthetic(max(args.rows), args.features)
    names = [c for c in table.columns if c.startswith("f")]
    bundle, fit_s = timed(lambda: bundle_for(table, names, args.trees, args.depth))
    print(f"model: {args.trees} trees, depth {args.depth}, {args.features} features (fitted in {fit_s:.0f} s); {machine()}\n")
    print("| rows | hpcpredict `shap_values` (s) | `shap.TreeExplainer` (s) | ratio shap/hpcpredict | ms/row (hpcpredict) | max abs diff | stratified sample: rows, s, same top-10 |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n in args.rows:
        rows = table.iloc[:n]
        ours, ours_s = timed(lambda: shap_values(bundle, rows, device=args.device))
        explainer = shap.TreeExplainer(bundle.booster_)
        theirs, theirs_s = timed(lambda: explainer.shap_values(rows[names]))
        diff = float(np.max(np.abs(ours.values - theirs)))
        # Capped at a fifth of the rows so that even the small runs show a sample, not every row.
        cap = max(1, min(args.sample_max, n // 5))
        (sampled, record), sample_s = timed(lambda: stable_shap_values(bundle, rows, top=10, start=min(2000, cap), max_rows=cap, device=args.device))
        same = list(rank_features(sampled, bundle.families)["feature"][:10]) == list(rank_features(ours, bundle.families)["feature"][:10])
        print(
            f"| {n:,} | {ours_s:.2f} | {theirs_s:.2f} | {theirs_s / ours_s:.2f} | {1000 * ours_s / n:.2f} | {diff:.1e} "
            f"| {record['rows_explained']:,} rows, {sample_s:.2f} s, {'yes' if same else 'no'} (agreement {record['stability']['top_k_agreement']:.2f}) |"
        )
    if args.interaction_rows:
        rows = table.iloc[: args.interaction_rows]
        _, inter_s = timed(lambda: interaction_matrix(bundle, rows, sample=None, device=args.device))
        print(f"\ninteraction values (`pred_interactions`, batched): {args.interaction_rows} rows in {inter_s:.2f} s ({1000 * inter_s / args.interaction_rows:.1f} ms/row)")


if __name__ == "__main__":
    main()
