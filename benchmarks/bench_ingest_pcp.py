"""Speed and peak memory of ``hpcpredict ingest pcp`` beside PCP's own ``pmrep -o csv`` on the same archives.

Writes synthetic pmlogger archives with PCP's archive-writing library (``pcp.pmi``, through
``pmpython``): HOSTS hosts x DAYS days, one archive per host and day (``HOST/YYYYMMDD``) as SUPReMM
sites keep them, every metric of hpcpredict's PCP map (CPU states and per-CPU user time, memory,
load, disk totals and 4 disks, 3 network interfaces including ``lo``) logged every INTERVAL
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

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe_machine, tree_rss  # noqa: E402

from hpcpredict.ingest.pcp import pcp_python  # noqa: E402
from hpcpredict.ingest.pcp_metrics import pcp_metric_names  # noqa: E402

# Run by pmpython: writes one archive with pcp.pmi (PCP's LOGIMPORT library).
WRITER = r'''
import math, random, sys
from pcp import pmi
import cpmapi as c

path, host, start, records, step, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
rng = random.Random(seed)
log = pmi.pmiLogImport(path)
log.pmiSetHostname(host)
log.pmiSetTimezone("UTC")
ms = log.pmiUnits(0, 1, 0, 0, c.PM_TIME_MSEC, 0)
kb = log.pmiUnits(1, 0, 0, c.PM_SPACE_KBYTE, 0, 0)
byte = log.pmiUnits(1, 0, 0, c.PM_SPACE_BYTE, 0, 0)
count = log.pmiUnits(0, 0, 1, 0, 0, c.PM_COUNT_ONE)
none = log.pmiUnits(0, 0, 0, 0, 0, 0)
U64, FLT = c.PM_TYPE_U64, c.PM_TYPE_FLOAT
CTR, INST, DISC = c.PM_SEM_COUNTER, c.PM_SEM_INSTANT, c.PM_SEM_DISCRETE
NULL = c.PM_INDOM_NULL
cpus, disks, nics, loads = 16, ["sda", "sdb", "nvme0n1", "nvme1n1"], ["lo", "eth0", "ib0"], ["1 minute", "5 minute", "15 minute"]
indom = {k: log.pmiInDom(60, i) for i, k in enumerate(["cpu", "disk", "nic", "load"])}
for i in range(cpus):
    log.pmiAddInstance(indom["cpu"], f"cpu{i}", i)
for k, names in (("disk", disks), ("nic", nics), ("load", loads)):
    for i, n in enumerate(names):
        log.pmiAddInstance(indom[k], n, i)
metrics = [
    *[(f"kernel.all.cpu.{s}", U64, NULL, CTR, ms) for s in ("user", "nice", "sys", "idle", "wait.total", "intr", "steal")],
    ("kernel.percpu.cpu.user", U64, indom["cpu"], CTR, ms),
    ("kernel.all.load", FLT, indom["load"], INST, none),
    ("mem.physmem", U64, NULL, DISC, kb),
    *[(f"mem.util.{s}", U64, NULL, INST, kb) for s in ("used", "free", "available", "cached", "bufmem")],
    *[(f"disk.all.{s}", U64, NULL, CTR, kb if s.endswith("bytes") else count) for s in ("read_bytes", "write_bytes", "read", "write")],
    *[(f"disk.dev.{s}", U64, indom["disk"], CTR, kb) for s in ("read_bytes", "write_bytes")],
    *[(f"network.interface.{d}.bytes", U64, indom["nic"], CTR, byte) for d in ("in", "out")],
]
for item, (name, typ, dom, sem, units) in enumerate(metrics):
    log.pmiAddMetric(name, log.pmiID(60, item // 32, item % 32), typ, dom, sem, units)
total = {}
def bump(key, by):
    total[key] = total.get(key, 0) + int(by)
    return str(total[key])
for r in range(records):
    busy = 0.5 + 0.5 * math.sin(r / 97.0)
    for s, share in (("user", busy * 0.8), ("nice", 0.0), ("sys", busy * 0.1), ("idle", 1 - busy), ("wait.total", 0.02), ("intr", 0.01), ("steal", 0.0)):
        log.pmiPutValue(f"kernel.all.cpu.{s}", "", bump(s, share * cpus * step * 1000))
    for i in range(cpus):
        log.pmiPutValue("kernel.percpu.cpu.user", f"cpu{i}", bump(f"u{i}", busy * 0.8 * step * 1000 * rng.uniform(0.9, 1.1)))
    for n in loads:
        log.pmiPutValue("kernel.all.load", n, f"{busy * cpus:.2f}")
    if r == 0:
        log.pmiPutValue("mem.physmem", "", str(256 * 2**20))
    used = int(2**27 * (1 + busy))
    for s, v in (("used", used), ("free", 2**28 - used), ("available", 2**28 - used // 2), ("cached", used // 3), ("bufmem", 2**20)):
        log.pmiPutValue(f"mem.util.{s}", "", str(v))
    for k, d in enumerate(disks):
        log.pmiPutValue("disk.dev.read_bytes", d, bump(f"r{d}", rng.expovariate(1 / 5e3) * step))
        log.pmiPutValue("disk.dev.write_bytes", d, bump(f"w{d}", rng.expovariate(1 / 2e4) * step))
    log.pmiPutValue("disk.all.read_bytes", "", str(sum(total[f"r{d}"] for d in disks)))
    log.pmiPutValue("disk.all.write_bytes", "", str(sum(total[f"w{d}"] for d in disks)))
    log.pmiPutValue("disk.all.read", "", bump("rops", 50 * step))
    log.pmiPutValue("disk.all.write", "", bump("wops", 80 * step))
    for n in nics:
        for d in ("in", "out"):
            log.pmiPutValue(f"network.interface.{d}.bytes", n, bump(f"{d}{n}", rng.expovariate(1 / 1e6) * step))
    log.pmiWrite(start + r * step, 0)
log.pmiEnd()
'''


def write_archives(root: Path, *, hosts: int, days: int, interval: int) -> list[Path]:
    """Write HOSTS x DAYS archives under ``root/HOST/YYYYMMDD``; return their base names."""
    pmpython, env = pcp_python()
    start0 = 1_767_225_600  # 2026-01-01T00:00:00Z
    per_day = 86_400 // interval
    bases = []
    for h in range(hosts):
        for d in range(days):
            start = start0 + d * 86_400
            base = root / f"node{h:03d}" / time.strftime("%Y%m%d", time.gmtime(start))
            base.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([pmpython, "-I", "-c", WRITER, str(base), f"node{h:03d}", str(start), str(per_day), str(interval), str(h * 1000 + d)],
                           env=env, check=True)
            bases.append(base)
    return bases


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
