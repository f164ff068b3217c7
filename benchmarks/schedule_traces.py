"""Scheduling value of each predictor on every SWF trace in ../shared/data/real and the simulator's dump.

Usage: python benchmarks/schedule_traces.py [--only NAME ...] [--policy easy] [--starts 2000] [--json out.json]

Per trace: ingest, build submit-horizon features, train a model on the earliest 80% (hpcpredict's
default temporal split), then replay every submission under EASY backfilling (and, with
``--policy conservative``, conservative) planning with limit, last-2, ALEA ratio, the model and the
oracle. Figures cover the jobs submitted after the model's training window (the same jobs for every
predictor); earlier jobs still run, as warm-up. Start times are predicted at submission for
``--starts`` of those jobs and compared with the recorded starts, beside the limit-based planner.
Prints Markdown tables (docs/scheduling.md) and the machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _machine import describe_machine

from hpcpredict import api
from hpcpredict.schedule import compare_predictors, load_workload

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
TRACES = {
    "NASA-iPSC": REAL / "pwa-nasa-ipsc-1993" / "NASA-iPSC-1993-3.1-cln.swf.gz",
    "KTH-SP2": REAL / "pwa-kth-sp2-1996" / "KTH-SP2-1996-2.1-cln.swf.gz",
    "HPC2N (first 3,170)": REAL / "pwa-hpc2n-2002-subset" / "hpc2n.swf",
    "CERIT-SC": REAL / "cerit-sc-wagap-2013" / "wagap-2013.swf",
    "Theta 2022": REAL / "alcf-theta-2022-swf" / "theta_2022.swf",
    "Lublin-256 (synthetic)": REAL / "lublin-model-256" / "lublin_256.swf",
}
PREDICTOR_NAMES = ["limit", "last2", "alea", "model", "oracle"]


def run_trace(name: str, source: Path | None, work: Path, *, policies: list[str], starts: int) -> dict:
    t0 = time.perf_counter()
    slug = "".join(c if c.isalnum() else "_" for c in name)
    jobs, feats, model = work / f"{slug}.jobs.parquet", work / f"{slug}.features.parquet", work / f"{slug}.model"
    nodes = None
    if source is None:  # the simulator's dump: sacct text of a 128-node cluster
        summary = api.simulate(work / "sim", preset="default", seed=0)
        api.ingest("sacct", [work / "sim" / "sacct.txt"], jobs)
        nodes, replayed = summary["nodes"], jobs
    else:
        api.ingest("swf", [source], jobs)
        replayed = source  # the SWF header carries the machine size
    api.features(jobs, feats, horizon="submit")
    api.train(feats, model)
    workload = load_workload(replayed, nodes=nodes)
    predictors = [p if p != "model" else f"model:{model}" for p in PREDICTOR_NAMES]
    out = {"trace": name, "results": {}}
    for policy in policies:
        out["results"][policy] = compare_predictors(workload, predictors=predictors, policy=policy, starts=starts if policy == policies[0] else 0)
    out["seconds"] = time.perf_counter() - t0
    return out


def _h(seconds: float) -> str:
    return f"{seconds / 3600:,.2f}"


def markdown(result: dict) -> str:
    lines = []
    for policy, r in result["results"].items():
        lines += [
            f"**{result['trace']}**, {policy} — {r['jobs']:,} jobs replayed on {r['machine_size']:,} {r['unit']} ({r['machine_source']}); "
            f"figures over the {r['measured_jobs']:,} jobs submitted after {str(r['measured_from'])[:10]} (the model's training window)"
            + (f"; set aside: {', '.join(f'{n:,} {why}' for why, n in r['set_aside'].items())}" if r["set_aside"] else ""),
            "",
            "| predictor | mean wait (h) | p95 wait (h) | mean bounded slowdown | utilisation | backfilled | delayed by underestimates | underestimated |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in r["results"]:
            label = "model" if s["predictor"].startswith("model:") else s["predictor"]
            lines.append(f"| {label} | {_h(s['mean_wait_s'])} | {_h(s['p95_wait_s'])} | {s['mean_bounded_slowdown']:,.1f} | {s['utilisation']:.3f} | {s['backfilled']:,} | {s['delayed_by_underestimate']:,} | {s['underestimated']:,} |")
        if r.get("recorded"):
            rec = r["recorded"]
            lines.append(f"| *recorded in the trace* | {_h(rec['mean_wait_s'])} | {_h(rec['p95_wait_s'])} | {rec['mean_bounded_slowdown']:,.1f} | | | | |")
        if r.get("start_times"):
            st = r["start_times"]
            lines += ["", f"Start times predicted at submission ({st['jobs']:,} jobs), against the recorded starts:", "",
                      "| planner | MAE (h) | median abs. error (h) | bias (h) | within 10% | within 1 h |", "|---|---:|---:|---:|---:|---:|"]
            for planner, s in st["predictors"].items():
                label = "model" if planner.startswith("model:") else ("limit (`squeue --start`)" if planner == "limit" else planner)
                lines.append(f"| {label} | {_h(s['mae_s'])} | {_h(s['median_abs_error_s'])} | {_h(s['bias_s'])} | {s['within_10pct']:.3f} | {s['within_1h']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="trace names (default: all, and 'simulator')")
    parser.add_argument("--policy", nargs="*", default=["easy"], choices=["easy", "conservative"])
    parser.add_argument("--starts", type=int, default=2000, help="jobs whose start is predicted (0: none)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sources = {**TRACES, "simulator (default preset)": None}
    chosen = {k: v for k, v in sources.items() if not args.only or any(o.lower() in k.lower() for o in args.only)}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in chosen.items():
            if source is not None and not source.is_file():
                print(f"skipped {name}: {source} not found")
                continue
            result = run_trace(name, source, Path(tmp), policies=args.policy, starts=args.starts)
            results.append(result)
            print(markdown(result), flush=True)
            print(f"({result['seconds']:.0f} s)\n", flush=True)
    print(f"Machine: {describe_machine()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
