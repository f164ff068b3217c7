"""Model vs the four baselines on the SWF traces in ../shared/data/real, temporal split (latest 20% held out).

Usage: python benchmarks/accuracy_swf.py [--objective absolute] [--also relative] [--json out.json]

Prints one Markdown table per trace (metrics x predictors) and a summary of MAE and average accuracy,
plus the machine. Reads the traces from ../shared/data/real (KTH-SP2 also ships in data/).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import hpcpredict as hp
from hpcpredict.evaluate import METRICS

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
TRACES = {
    "KTH-SP2": [REAL / "pwa-kth-sp2-1996" / "KTH-SP2-1996-2.1-cln.swf.gz", REPO / "data" / "kth-sp2" / "KTH-SP2-1996-2.1-cln.swf.gz"],
    "CERIT-SC": [REAL / "cerit-sc-wagap-2013" / "wagap-2013.swf"],
    "Theta": [REAL / "alcf-theta-2022-swf" / "theta_2022.swf"],
}
ORDER = ["model", "requested_limit", "user_last2", "user_median", "app_median"]


def run(name: str, source: Path, work: Path, objectives: list[str]) -> dict:
    jobs, feats = work / f"{name}.jobs.parquet", work / f"{name}.features.parquet"
    counts = hp.api.ingest("swf", [source], jobs)
    hp.api.features(jobs, feats, horizon="submit")
    out = {"trace": name, "source": str(source.relative_to(REPO.parent)), "ingest": counts, "objectives": {}}
    for obj in objectives:
        t0 = time.perf_counter()
        bundle = hp.train(feats, work / f"{name}.{obj}.model", objective=obj)
        result = hp.api.evaluate(bundle, feats).to_dict()
        result["train_and_evaluate_s"] = time.perf_counter() - t0
        result["trees"] = bundle.manifest_.n_trees
        out["objectives"][obj] = result
    return out


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"


def markdown(result: dict, objective: str) -> str:
    ev = result["objectives"][objective]
    m = ev["metrics"]
    cols = [c for c in ORDER if c in m] + [c for c in m if c not in ORDER]
    lines = [
        f"**{result['trace']}** — {ev['rows']:,} held-out jobs from {ev['test_boundary'][:10]} "
        f"(objective `{objective}`, {ev['trees']} trees; {result['ingest']['jobs']:,} jobs ingested, {result['ingest']['quarantined']} quarantined)",
        "",
        "| metric | " + " | ".join(cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for key, label in METRICS.items():
        if key == "interval_coverage":
            continue
        lines.append(f"| {label} | " + " | ".join(_fmt(m[c].get(key)) for c in cols) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objective", default="absolute")
    parser.add_argument("--also", action="append", default=[], help="Other objectives to compare.")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    objectives = [args.objective, *args.also]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, candidates in TRACES.items():
            source = next((p for p in candidates if p.exists()), None)
            if source is None:
                print(f"{name}: not found under {REAL}, skipped\n")
                continue
            results.append(run(name, source, Path(tmp), objectives))
            print(markdown(results[-1], args.objective) + "\n", flush=True)
    print("**Summary** (MAE in s / average accuracy; model beats limit and last-2 on both?)\n")
    print("| trace | objective | model | requested limit | user last-2 | user median | app median | beats both |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        for obj, ev in r["objectives"].items():
            m = ev["metrics"]
            cell = lambda c: f"{m[c]['mae']:,.0f} / {m[c]['average_accuracy']:.3f}" if c in m else "n/a"
            wins = all(m["model"]["mae"] < m[c]["mae"] and m["model"]["average_accuracy"] > m[c]["average_accuracy"] for c in ("requested_limit", "user_last2"))
            print(f"| {r['trace']} | {obj} | {cell('model')} | {cell('requested_limit')} | {cell('user_last2')} | {cell('user_median')} | {cell('app_median')} | {'yes' if wins else 'no'} |")
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, hpcpredict {hp.__version__}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
