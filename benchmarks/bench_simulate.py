"""Simulation time and peak memory per preset, as a Markdown table.

Each run is a fresh Python process (so peak RSS is its own), timed around ``simulate()`` alone
(imports excluded); tiny and default take the median of ``--repeat`` runs. ``large`` is run with
fewer days (``--large-days``, default 3) because the full 90-day preset writes ~20 GB; its per-day
cost is flat, so the table also extrapolates it. Ratios are against ``default`` measured in the same run.

    python benchmarks/bench_simulate.py [--repeat 3] [--large-days 3] [--skip-large]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from hpcpredict.simulate import simulate
out, preset, days = sys.argv[1], sys.argv[2], (int(sys.argv[3]) if sys.argv[3] != "-" else None)
t = time.perf_counter()
s = simulate(out, preset=preset, days=days, seed=0)
wall = time.perf_counter() - t
size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
print(json.dumps({"wall_s": wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "nodes": s["nodes"], "days": s["days"], "jobs": s["jobs"], "ldms_rows": s["ldms_rows"],
                  "bytes": size}))
"""


def run_once(preset: str, days: int | None, tmp: Path) -> dict:
    out = tmp / f"{preset}-{days}"
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    res = subprocess.run([sys.executable, "-c", CHILD, str(out), preset, str(days) if days else "-"],
                         capture_output=True, text=True, env=env, check=True)
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def machine() -> str:
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB memory, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--large-days", type=int, default=3)
    ap.add_argument("--skip-large", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        for preset, days, repeat in (("tiny", None, args.repeat), ("default", None, args.repeat),
                                     *([] if args.skip_large else [("large", args.large_days, 1)])):
            runs = [run_once(preset, days, Path(tmp)) for _ in range(repeat)]
            best = dict(runs[0])
            best["wall_s"] = statistics.median(r["wall_s"] for r in runs)
            best["peak_mb"] = max(r["peak_mb"] for r in runs)
            best["preset"] = preset if days is None else f"{preset} (--days {days})"
            best["repeat"] = repeat
            rows.append(best)
    base = next(r for r in rows if r["preset"] == "default")
    print(f"Machine: {machine()}\n")
    print("| preset | hosts x days | jobs | LDMS rows | output MB | time (s) | time / default | µs per LDMS row | peak RSS (MB) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['preset']} | {r['nodes']:,} x {r['days']} | {r['jobs']:,} | {r['ldms_rows']:,} | "
              f"{r['bytes'] / 1e6:,.0f} | {r['wall_s']:.2f} | {r['wall_s'] / base['wall_s']:.2f} | "
              f"{1e6 * r['wall_s'] / max(r['ldms_rows'], 1):.2f} | {r['peak_mb']:,.0f} |")
    large = [r for r in rows if r["preset"].startswith("large")]
    if large:
        r = large[0]
        print(f"\nFull `large` preset (90 days), extrapolated per day: ~{r['wall_s'] / r['days'] * 90 / 60:.0f} min, "
              f"~{r['bytes'] / r['days'] * 90 / 1e9:.0f} GB written; counters are made day by day, so memory grows "
              "only with the job table (~173k jobs at 90 days), not with the days of counters.")
    print(f"\nMedian of {args.repeat} runs for tiny and default; seed 0; `simulate()` only, imports excluded.")


if __name__ == "__main__":
    main()
