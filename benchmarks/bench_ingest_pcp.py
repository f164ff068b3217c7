"""Speed and peak memory of ``hpcpredict ingest pcp`` beside PCP's own ``pmrep -o csv`` on the same archives.

Writes synthetic pmlogger archives with PCP's archive-writing library (``pcp.pmi``, through
``pmpython``: :class:`hpcpredict.ingest.pcp_archive.PcpArchiveWriter`): HOSTS hosts x DAYS days,
one archive per host and day (``HOST/YYYYMMDD``) as SUPReMM sites keep them, every metric of
hpcpredict's PCP map (CPU states and per-CPU user time, memory, load, disk totals and 4 disks, 3
network interfaces including ``lo``) logged every INTERVAL
seconds. Then, in one run, each in a fresh process tree whose resident memory is sampled every
20 ms (the ingest's ``pmpython`` child included):

- ``pmrep -a ARCHIVE -u -o csv METRICS``: PCP's own reporter printing every record of the same
  metrics as rates, archive after archive (the baseline: reading the format, no samples table);
- ``hpcpredict ingest pcp FOLDER -o samples/``: the same records into the samples folder.

Usage::

    python benchmarks/bench_ingest_pcp.py                          # 2 hosts x 2 days at 10 s
    python benchmarks/bench_ingest_pcp.py --hosts 1 --days 1 --interval 1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe_machine, tree_rss  # noqa: E402

from hpcpredict.ingest.pcp import pcp_python  # noqa: E402
from hpcpredict.ingest.pcp_archive import PcpArchiveWriter, PcpMetric  # noqa: E402
from hpcpredict.ingest.pcp_metrics import pcp_metric_names  # noqa: E402

CPUS, DISKS, NICS, LOADS = 16, ("sda", "sdb", "nvme0n1", "nvme1n1"), ("lo", "eth0", "ib0"), ("1 minute", "5 minute", "15 minute")
METRICS = [
    *[PcpMetric(f"kernel.all.cpu.{s}", "u64", "counter", "millisec") for s in ("user", "nice", "sys", "idle", "wait.total", "intr", "steal")],
    PcpMetric("kernel.percpu.cpu.user", "u64", "counter", "millisec", tuple(f"cpu{i}" for i in range(CPUS))),
    PcpMetric("kernel.all.load", "float", "instant", "", LOADS),
    PcpMetric("mem.physmem", "u64", "discrete", "Kbyte"),
    *[PcpMetric(f"mem.util.{s}", "u64", "instant", "Kbyte") for s in ("used", "free", "available", "cached", "bufmem")],
    *[PcpMetric(f"disk.all.{s}", "u64", "counter", "Kbyte" if s.endswith("bytes") else "count") for s in ("read_bytes", "write_bytes", "read", "write")],
    *[PcpMetric(f"disk.dev.{s}", "u64", "counter", "Kbyte", DISKS) for s in ("read_bytes", "write_bytes")],
    *[PcpMetric(f"network.interface.{d}.bytes", "u64", "counter", "byte", NICS) for d in ("in", "out")],
]


def _columns(records: int, step: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One day of a busy node: a value column per metric instance, in the order of METRICS."""
    busy = 0.5 + 0.5 * np.sin(np.arange(records) / 97.0)
    ms = CPUS * step * 1000

    def counter(rate):
        return np.cumsum(np.rint(rate)).astype(np.int64)

    cpu = [counter(share * ms) for share in (busy * 0.8, np.zeros(records), busy * 0.1, 1 - busy, np.full(records, 0.02),
                                             np.full(records, 0.01), np.zeros(records))]
    percpu = [counter(busy * 0.8 * step * 1000 * rng.uniform(0.9, 1.1, records)) for _ in range(CPUS)]
    loads = [np.round(busy * CPUS, 2)] * len(LOADS)
    physmem = np.r_[256 * 2**20, np.full(records - 1, np.nan)]  # logged once, as pmlogger does
    used = (2**27 * (1 + busy)).astype(np.int64)
    mem = [used, 2**28 - used, 2**28 - used // 2, used // 3, np.full(records, 2**20)]
    reads = [counter(rng.exponential(5e3, records) * step) for _ in DISKS]
    writes = [counter(rng.exponential(2e4, records) * step) for _ in DISKS]
    disk_all = [sum(reads), sum(writes), counter(np.full(records, 50 * step)), counter(np.full(records, 80 * step))]
    nics = [counter(rng.exponential(1e6, records) * step) for _ in range(2 * len(NICS))]
    return [*cpu, *percpu, *loads, physmem, *mem, *disk_all, *reads, *writes, *nics]


def write_archives(root: Path, *, hosts: int, days: int, interval: int) -> list[Path]:
    """Write HOSTS x DAYS archives under ``root/HOST/YYYYMMDD`` with PCP's pcp.pmi; return their base names."""
    start0 = 1_767_225_600  # 2026-01-01T00:00:00Z
    per_day = 86_400 // interval
    with PcpArchiveWriter() as writer:
        for h in range(hosts):
            for d in range(days):
                start = start0 + d * 86_400
                writer.start(root / f"node{h:03d}" / time.strftime("%Y%m%d", time.gmtime(start)), host=f"node{h:03d}", metrics=METRICS)
                writer.write(start + interval * np.arange(per_day), _columns(per_day, interval, np.random.default_rng(h * 1000 + d)))
    return writer.archives


def measure(argv: list[str], *, env=None, stdout=None) -> tuple[float, int]:
    """Wall time and peak resident memory of the process tree started by ``argv``."""
    import psutil

    peak = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=stdout or subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def watch():
        nonlocal peak
        try:
            ps = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            try:
                peak = max(peak, tree_rss(ps))
            except psutil.Error:  # the process ended between two samples
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    done.set()
    watcher.join()
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {err.decode()[-500:]}")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--interval", type=int, default=10, help="logging interval, seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pcp-") as tmp:
        root = Path(tmp) / "pmlogger"
        t0 = time.perf_counter()
        bases = write_archives(root, hosts=args.hosts, days=args.days, interval=args.interval)
        written = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        records = args.hosts * args.days * (86_400 // args.interval)
        print(f"{describe_machine()}; load average {os.getloadavg()[0]:.1f}")
        print(f"{len(bases)} archives ({args.hosts} hosts x {args.days} days at {args.interval} s), {records:,} records, "
              f"{size / 2**20:.1f} MiB, written with pcp.pmi in {written:.1f} s\n")
        pmpython, env = pcp_python()
        held = subprocess.run(["pminfo", "-a", str(bases[0])], env=env, capture_output=True, text=True, check=True).stdout.split()
        names = " ".join(n for n in pcp_metric_names() if n in held)  # what the ingest reads from these archives
        script = "; ".join(f"pmrep -a {b} -u -o csv {names} > {tmp}/pmrep-{i}.csv" for i, b in enumerate(bases))
        rows = [("pmrep -u -o csv, archive after archive", *measure(["bash", "-c", script], env=env))]
        hpc = [sys.executable, "-m", "hpcpredict", "ingest", "pcp", str(root), "-o", f"{tmp}/samples"]
        rows.append(("hpcpredict ingest pcp (samples folder)", *measure(hpc)))
        print("| command | time (s) | records/s | peak RSS of the process tree (MiB) |")
        print("|---|---:|---:|---:|")
        for name, seconds, peak in rows:
            print(f"| {name} | {seconds:.1f} | {records / seconds:,.0f} | {peak / 2**20:.0f} |")


if __name__ == "__main__":
    main()
