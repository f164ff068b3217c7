"""Cross-check of the replay's event loop against AccaSim 1.1.3 on KTH-SP2 (numbers in docs/scheduling.md).

Usage: pip download --no-deps accasim==1.1.3 -d /tmp/accasim && unzip -q /tmp/accasim/*.whl -d /tmp/accasim/lib
       python benchmarks/crosscheck_accasim.py --accasim /tmp/accasim/lib --work /tmp/accasim/run

AccaSim is not a dependency: it is read from the folder given. Both simulators get the same input,
KTH-SP2 with the requested time set to the runtime and the requested processors to the allocated
ones (so both plan with exact runtimes on 100 single-core nodes). Compared, job by job:
1. AccaSim's FirstInFirstOut vs hpcpredict's event loop with a strict FCFS pass;
2. AccaSim's EASYBackfilling vs hpcpredict's EASY, and vs hpcpredict's loop with a pass that starts
   every job that fits (what AccaSim's backfill step does: it passes no reserved nodes).
The passes of 1 and 2 are defined here; they are not policies hpcpredict offers.
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import gzip
import json
import sys
from pathlib import Path

import pandas as pd

import hpcpredict.schedule.engine as engine
from hpcpredict.schedule import load_workload, replay_schedule

REPO = Path(__file__).resolve().parents[1]
KTH = [REPO.parent / "shared" / "data" / "real" / "pwa-kth-sp2-1996" / "KTH-SP2-1996-2.1-cln.swf.gz", REPO / "data" / "kth-sp2" / "KTH-SP2-1996-2.1-cln.swf.gz"]


def exact_trace(out: Path) -> Path:
    src = next(p for p in KTH if p.is_file())
    with gzip.open(src, "rt") as fin, open(out, "w") as fout:
        for line in fin:
            if line.startswith(";"):
                if "MaxProcs" in line or "MaxNodes" in line:
                    fout.write(line)
                continue
            f = line.split()
            run, alloc = int(float(f[3])), int(f[4])
            if run < 0 or alloc < 1:
                continue
            f[3] = f[8] = str(max(run, 1))
            f[7] = str(alloc)
            f[5] = f[6] = f[9] = "-1"
            fout.write(" ".join(f) + "\n")
    return out


def run_accasim(lib: Path, trace: Path, work: Path, policy: str) -> pd.Series:
    for name in ("Mapping", "MutableMapping", "Sequence", "Iterable"):  # AccaSim predates Python 3.10
        setattr(collections, name, getattr(collections.abc, name))
    sys.path.insert(0, str(lib))
    from accasim.base.allocator_class import FirstFit
    from accasim.base.scheduler_class import EASYBackfilling, FirstInFirstOut
    from accasim.base.simulator_class import Simulator

    config = work / "config.json"
    config.write_text(json.dumps({"groups": {"g0": {"core": 1}}, "resources": {"g0": 100}, "equivalence": {"processor": {"core": 1}}, "start_time": 0}))
    results = work / policy
    dispatcher = EASYBackfilling(FirstFit()) if policy == "easy" else FirstInFirstOut(FirstFit())
    Simulator(str(trace), str(config), dispatcher, RESULTS_FOLDER_PATH=str(results), show_statistics=False).start_simulation()
    rows = []
    for line in open(results / f"sched-{trace.name}"):
        parts = line.split("__")
        head, tail = parts[0].split(";"), parts[-1].split(";")
        rows.append((head[0], (pd.Timestamp(tail[0]) - pd.Timestamp(head[2])).total_seconds()))
    return pd.DataFrame(rows, columns=["job_id", "wait_s"]).set_index("job_id")["wait_s"]


def fcfs_pass(now, queue, running, free, state):
    started = []
    for job in queue.tolist():
        if state.size[job] > free:
            break
        started.append(job)
        free -= state.size[job]
    return started


def any_fit_pass(now, queue, running, free, state):
    started = []
    for job in queue.tolist():
        if state.size[job] <= free:
            started.append(job)
            free -= state.size[job]
    return started


def ours(trace: Path, scheduling_pass=None) -> pd.Series:
    original = engine.easy_pass
    if scheduling_pass is not None:
        engine.easy_pass = scheduling_pass
    try:
        w = load_workload(trace)
        return pd.Series(replay_schedule(w, w.limit_s, policy="easy").wait_s, index=w.jobs["job_id"].astype(str))
    finally:
        engine.easy_pass = original


def compare(label: str, mine: pd.Series, theirs: pd.Series) -> None:
    common = mine.index.intersection(theirs.index)
    diff = (mine[common] - theirs[common]).abs()
    print(f"| {label} | {len(common):,} | {mine[common].mean():,.1f} | {theirs[common].mean():,.1f} | {(diff < 1).mean():.4f} | {diff.max():,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accasim", type=Path, required=True, help="folder holding the unpacked accasim package")
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    trace = exact_trace(args.work / "kth_exact.swf")
    fifo, easy = run_accasim(args.accasim, trace, args.work, "fifo"), run_accasim(args.accasim, trace, args.work, "easy")
    print("| comparison | jobs compared | mean wait hpcpredict (s) | mean wait AccaSim (s) | identical starts | max abs. difference (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    compare("FCFS pass vs AccaSim FirstInFirstOut", ours(trace, fcfs_pass), fifo)
    compare("hpcpredict EASY vs AccaSim EASYBackfilling", ours(trace), easy)
    compare("start-any-job-that-fits pass vs AccaSim EASYBackfilling", ours(trace, any_fit_pass), easy)


if __name__ == "__main__":
    main()
