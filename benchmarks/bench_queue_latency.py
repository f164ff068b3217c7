"""Latency of queued-job prediction: in process, and through the HTTP service under local load.

    python benchmarks/bench_queue_latency.py [--seconds 30] [--clients 4]

Trains the KTH-SP2 model of the demo (or uses --model/--jobs), then measures
1. in process: one job and 1,000 jobs through the online predictor (the service's path), beside
   the offline path (`predict_queued`, which rebuilds features from the jobs table) as baseline;
2. the service (`hpcpredict serve` in its own process) under a bounded load from a second
   process: concurrent clients posting one job each for --seconds, p50/p99 latency, throughput.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe_machine  # noqa: E402

ONE = {"job_id": "q1", "user": "12", "time_limit_s": 7200.0, "req_cpus": 8}


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _time(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _prepare(workdir: Path) -> tuple[Path, Path]:
    import hpcpredict as hp
    from hpcpredict.datasets import dataset_path

    jobs, feats, model = workdir / "jobs.parquet", workdir / "features.parquet", workdir / "model"
    hp.api.ingest("swf", [dataset_path("kth-sp2")], jobs)
    hp.api.features(jobs, feats, horizon="submit")
    hp.train(feats, model)
    return model, jobs


def _client(url: str, token: str, seconds: float, out: mp.Queue) -> None:
    import httpx

    latencies, errors = [], 0
    end = time.monotonic() + seconds
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < end:
            t = time.perf_counter()
            answer = client.post(f"{url}/predict", json={"jobs": [ONE]})
            latencies.append(time.perf_counter() - t)
            errors += answer.status_code != 200
    out.put((latencies, errors))


def _load(url: str, token: str, clients: int, seconds: float) -> dict:
    """Run `clients` concurrent clients in one second process (threads), bounded in time."""
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_client, args=(url, token, seconds, queue)) for _ in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    latencies = [x for r in results for x in r[0]]
    p50, p99 = _percentiles(latencies)
    return {"requests": len(latencies), "errors": sum(r[1] for r in results), "p50_ms": p50, "p99_ms": p99, "per_s": len(latencies) / seconds}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--jobs", type=Path)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    from hpcpredict.model import load_model
    from hpcpredict.queue import predict_queued
    from hpcpredict.serve import OnlinePredictor

    with tempfile.TemporaryDirectory() as tmp:
        model, jobs = (args.model, args.jobs) if args.model else _prepare(Path(tmp))
        bundle, jobs_df = load_model(model), pd.read_parquet(jobs)
        online = OnlinePredictor(bundle, jobs_df)
        many = [{**ONE, "job_id": f"q{i}", "user": str(u)} for i, u in enumerate(np.resize(jobs_df["user"].dropna().unique(), 1000))]
        one_offline = pd.DataFrame([ONE]).assign(submit_time=online.at)
        rows = [
            ("offline path (predict_queued), 1 job", _percentiles(_time(lambda: predict_queued(bundle, one_offline, jobs_df, at=online.at), 10))),
            ("online predictor, 1 job, with 3 reasons", _percentiles(_time(lambda: online.predict([ONE]), 300))),
            ("online predictor, 1 job, no reasons", _percentiles(_time(lambda: online.predict([ONE], reasons=0), 300))),
            ("online predictor, 1,000 jobs, with reasons", _percentiles(_time(lambda: online.predict(many), 5))),
            ("online predictor, 1,000 jobs, no reasons", _percentiles(_time(lambda: online.predict(many, reasons=0), 20))),
        ]
        token = "bench-token"
        token_file = Path(tmp) / "token"
        token_file.write_text(token)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "hpcpredict", "serve", str(model), "--jobs", str(jobs), "--port", str(port), "--token-file", str(token_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            import httpx

            url = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            service = _load(url, token, args.clients, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)

    baseline = rows[0][1][0]
    print(f"Machine: {describe_machine()}\n")
    print("| in process | p50 (ms) | p99 (ms) | p50 per job vs offline path |")
    print("|---|---:|---:|---:|")
    for name, (p50, p99) in rows:
        per_job = p50 / (1000 if "1,000" in name else 1)
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {baseline / per_job:,.0f}x faster |")
    print(f"\n| service, {args.clients} concurrent clients (second process), one job per request, {args.seconds:.0f} s | value |")
    print("|---|---:|")
    for key in ("requests", "errors", "p50_ms", "p99_ms", "per_s"):
        value = service[key]
        print(f"| {key.replace('_', ' ')} | {value:,.2f} |" if isinstance(value, float) else f"| {key} | {value:,} |")
    print(json.dumps(service))


if __name__ == "__main__":
    main()
