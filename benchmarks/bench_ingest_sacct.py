"""Speed and peak memory of ``hpcpredict ingest sacct`` on a synthetic dump, beside pandas loading it.

Generates a ``sacct --parsable2`` dump with job steps (batch, extern, numbered), array tasks and
hostlist NodeLists, then measures, each in a fresh subprocess (so peak memory is its own):

- ``pandas.read_csv(path, sep="|", engine="pyarrow")``: merely loading the file (the baseline);
- ``hpcpredict.api.ingest("sacct", path, out)``: parsing, folding steps, writing Parquet in blocks.

Peak memory is ``ru_maxrss`` of the subprocess; "above imports" subtracts the peak reached after
the imports, before the call. Run at two sizes to show that the reader's memory does not grow with
the file while the load's does.

Usage::

    python benchmarks/bench_ingest_sacct.py                 # 2,000,000 and 500,000 lines
    python benchmarks/bench_ingest_sacct.py --lines 400000  # and a quarter of it
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = (
    "JobID|JobIDRaw|Cluster|User|Account|Partition|QOS|JobName|Submit|Eligible|Start|End|Elapsed|"
    "Timelimit|ReqNodes|NNodes|ReqCPUS|AllocCPUS|ReqMem|ReqTRES|AllocTRES|NodeList|State|ExitCode|"
    "MaxRSS|MaxVMSize|TotalCPU"
)
STATES = ["COMPLETED"] * 14 + ["FAILED", "TIMEOUT", "CANCELLED by 1201", "OUT_OF_MEMORY", "NODE_FAIL"]


def _clock(t: int) -> str:
    return f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"


def _iso(epoch: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def generate(path: Path, lines: int, *, seed: int = 0) -> int:
    """Write a dump of about ``lines`` lines; return the exact number of data lines."""
    rng = random.Random(seed)
    written, job = 0, 100000
    t = 1_700_000_000
    with open(path, "w") as fh:
        fh.write(HEADER + "\n")
        while written < lines:
            job += 1
            t += rng.randint(1, 30)
            nodes = rng.choice([1, 1, 1, 2, 4, 8, 16])
            cpus = nodes * 32
            first = rng.randint(1, 9000)
            nodelist = f"nid{first:05d}" if nodes == 1 else f"nid[{first:05d}-{first + nodes - 2:05d},{first + nodes + 5:05d}]"
            start = t + rng.randint(0, 3600)
            run = rng.randint(30, 86000)
            limit = rng.choice([3600, 7200, 86400, 172800])
            jid = f"{job}_{rng.randint(0, 99)}" if rng.random() < 0.2 else str(job)
            state = STATES[rng.randrange(len(STATES))]
            user = f"user{rng.randint(1, 400):03d}"
            tres = f"billing={cpus},cpu={cpus},mem={nodes * 64}G,node={nodes}"
            times = f"{_iso(t)}|{_iso(t)}|{_iso(start)}|{_iso(start + run)}|{_clock(run)}"
            fh.write(
                f"{jid}|{job}|alpine|{user}|proj{rng.randint(1, 40)}|compute|normal|app{rng.randint(1, 60)}|"
                f"{times}|{limit // 86400}-{_clock(limit % 86400)}|{nodes}|{nodes}|{cpus}|{cpus}|"
                f"{nodes * 64}G|{tres}|{tres}|{nodelist}|{state}|0:0|||{_clock(run)}\n"
            )
            written += 1
            for step in ["batch", "extern"] + [str(i) for i in range(rng.randint(0, 2))]:
                rss = f"{rng.randint(100, 60000)}M"
                fh.write(
                    f"{jid}.{step}|{job}.{step}|alpine||proj1||||{times}||1|{nodes}|{cpus}|{cpus}||||"
                    f"{nodelist}|COMPLETED|0:0|{rss}|{rng.randint(1, 90)}G|{_clock(run)}\n"
                )
                written += 1
    return written


CHILD = r"""
import json, resource, sys, time
kind, path, out = sys.argv[1:4]
import pandas
if kind == "hpcpredict":
    from hpcpredict.ingest import ingest
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if kind == "pandas":
    frame = pandas.read_csv(path, sep="|", engine="pyarrow")
    rows = len(frame)
else:
    rows = ingest("sacct", path, out)["jobs"]
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "above_imports_mb": (peak - before) / 1024, "rows": rows}))
"""


def measure(kind: str, path: Path, out: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), str(out)], capture_output=True,
                          text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{os.cpu_count()} cores, {mem_gb:.0f} GB memory, Python {sys.version.split()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=2_000_000, help="lines of the larger dump")
    parser.add_argument("--repeats", type=int, default=1, help="runs per measurement (the fastest is kept)")
    args = parser.parse_args()
    sizes = [args.lines // 4, args.lines]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            dump = Path(tmp) / f"sacct-{size}.txt"
            lines = generate(dump, size)
            mb = dump.stat().st_size / 1024**2
            results = {}
            for kind in ("pandas", "hpcpredict"):
                runs = [measure(kind, dump, Path(tmp) / "jobs.parquet") for _ in range(args.repeats)]
                results[kind] = min(runs, key=lambda r: r["seconds"])
            base = results["pandas"]["seconds"]
            for kind, label in (("pandas", "pandas.read_csv(engine='pyarrow'), load only"),
                                ("hpcpredict", "hpcpredict ingest sacct → Parquet")):
                r = results[kind]
                rows.append(f"| {lines:,} ({mb:,.0f} MB) | {label} | {r['rows']:,} | {r['seconds']:.2f} | "
                            f"{lines / r['seconds']:,.0f} | {r['seconds'] / base:.2f}x | {r['peak_mb']:,.0f} | "
                            f"{r['above_imports_mb']:,.0f} |")
    print(f"Machine: {machine()}\n")
    print("| dump lines | what | rows out | seconds | lines/s | time vs load | peak RSS MB | above imports MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
