"""One queued job's prediction in process and through the HTTP service, this hpcpredict beside an
earlier checkout, in one run.

    python benchmarks/bench_one_job.py [--before DIR] [--repeat 300]

Each source trains the same model (the KTH-SP2 slice of the tests, 300 trees, submit horizon) in
its own process and times
1. in process, the service's path (``OnlinePredictor.predict``) for one job, without and with the
   three reasons;
2. through the service: ``hpcpredict serve`` of that source in its own process, one client posting
   one job per request (``POST /predict``, keep-alive, the three reasons the service gives), one
   request at a time, so the figure is one job's latency, not throughput.
Medians (and the service's p99) in milliseconds. ``--before`` is a checkout of an earlier
hpcpredict (``git worktree add DIR <commit>``). The sources run one after the other, alternating
``--rounds`` times, so a change of load on a shared machine hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
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
booster = model.booster_ if hasattr(model, "booster_") else model.booster  # the earlier package returned a Bundle
shape = {"features": len(model.feature_names), "trees": booster.num_boosted_rounds()}
print(json.dumps({"no_reasons_ms": median_ms(0, repeat), "reasons_ms": median_ms(3, repeat // 3), **shape}))
"""

# The service of the same source, started as a user would, and one client posting one job at a time.
SERVICE = r"""
import json, statistics, subprocess, sys, time
import httpx
out, repeat, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
server = subprocess.Popen([sys.executable, "-m", "hpcpredict", "serve", out + "/model", "--jobs", out + "/jobs.parquet", "--port", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
url = f"http://127.0.0.1:{port}"
try:
    with httpx.Client(timeout=30) as client:
        for _ in range(1200):
            try:
                if client.get(url + "/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        body = {"jobs": [{"job_id": "q1", "user": "12", "time_limit_s": 7200.0, "req_cpus": 8}]}
        for _ in range(10):
            assert client.post(url + "/predict", json=body).status_code == 200
        times = []
        for _ in range(repeat):
            t = time.perf_counter(); answer = client.post(url + "/predict", json=body); times.append(time.perf_counter() - t)
            assert answer.status_code == 200, answer.text
    times.sort()
    print(json.dumps({"service_ms": statistics.median(times) * 1e3, "service_p99_ms": times[int(0.99 * (len(times) - 1))] * 1e3}))
finally:
    server.terminate()
    server.wait(timeout=30)
"""


def _run(code: str, args: list[str], source: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(source), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=source, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{source}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(source: Path, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        in_process = _run(CHILD, [tmp, str(repeat), str(SLICE)], source)
        return {**in_process, **_run(SERVICE, [tmp, str(repeat // 3), str(_free_port())], source)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load() -> str:
    with open("/proc/loadavg") as fh:
        return fh.read().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    sources = {"this": REPO, **({"before": args.before.resolve()} if args.before else {})}
    print(describe_machine())
    print("| round | source | model (features, trees) | in process, no reasons (ms) | in process, 3 reasons (ms) | service over HTTP, median (ms) | service p99 (ms) | load average before |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for round_ in range(1, args.rounds + 1):
        for label, source in sources.items():
            load, t0 = _load(), time.perf_counter()
            r = _measure(source, args.repeat)
            print(f"| {round_} | {label} | {r['features']}, {r['trees']} | {r['no_reasons_ms']:.3f} | {r['reasons_ms']:.3f} | {r['service_ms']:.2f} | {r['service_p99_ms']:.2f} | {load} |", flush=True)
            print(f"<!-- {label}: {time.perf_counter() - t0:.0f} s -->", flush=True)
    print(f"\nload average at the end: {_load()}")


if __name__ == "__main__":
    main()
