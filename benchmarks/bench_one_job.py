"""One queued job's prediction in process, this hpcpredict beside an earlier checkout, in one run.

    python benchmarks/bench_one_job.py [--before DIR] [--repeat 300]

Each source trains the same model (the KTH-SP2 slice of the tests, 300 trees, submit horizon) in
its own process and times the service's path (``OnlinePredictor.predict``) for one job, without
and with the three reasons; medians in milliseconds. ``--before`` is a checkout of an earlier
hpcpredict (``git archive <commit> | tar -x -C DIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe_machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SLICE = REPO / "tests" / "data" / "kth-sp2-first3000.swf"

CHILD = r"""
import json, statistics, sys, time
from pathlib import Path
import pandas as pd
import hpcpredict as hp
from hpcpredict.serve.online import OnlinePredictor
out, repeat = Path(sys.argv[1]), int(sys.argv[2])
api = getattr(hp, "api", hp)  # the earlier package had the verbs at the top
api.ingest("swf", [sys.argv[3]], out / "jobs.parquet")
api.features(out / "jobs.parquet", out / "features.parquet", horizon="submit")
model = hp.train(out / "features.parquet", out / "model", n_estimators=300)
online = OnlinePredictor(model, pd.read_parquet(out / "jobs.parquet"))
one = [{"job_id": "q1", "user": "12", "time_limit_s": 7200.0, "req_cpus": 8}]
def median_ms(reasons, n):
    times = []
    for _ in range(n):
        t = time.perf_counter(); online.predict(one, reasons=reasons); times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3
online.predict(one)
print(json.dumps({"no_reasons_ms": median_ms(0, repeat), "reasons_ms": median_ms(3, repeat // 3)}))
"""


def _measure(source: Path, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(source), "OMP_NUM_THREADS": "1"}
        done = subprocess.run([sys.executable, "-c", CHILD, tmp, str(repeat), str(SLICE)], cwd=source, env=env, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    sources = {"this": REPO, **({"before": args.before.resolve()} if args.before else {})}
    print(describe_machine())
    print("| source | one job, no reasons (ms) | one job, 3 reasons (ms) |\n|---|---:|---:|")
    for label, source in sources.items():
        r = _measure(source, args.repeat)
        print(f"| {label} | {r['no_reasons_ms']:.3f} | {r['reasons_ms']:.3f} |")
    with open("/proc/loadavg") as fh:
        print(f"\nload average at the end: {fh.read().split()[0]}")


if __name__ == "__main__":
    main()
