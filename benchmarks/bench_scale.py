"""The ``large`` simulator preset, reduced, end to end: single machine vs a Dask LocalCluster.

Simulates the ``large`` preset (4,032 hosts; ``--days`` and ``--nodes`` shrink it), then times
each stage twice, each in a fresh process, and samples the resident memory of that process and
all its children (the Dask scheduler and worker processes) every 50 ms for the peak:

- ingest: ``sacct`` accounting + LDMS counters (``hpcpredict ingest ldms``: streamed, a day at a
  time; with Dask the files are parsed on the workers);
- features: ``end`` horizon with samples and topology — every family, job-window statistics
  included (with Dask, one task per block of jobs);
- train: ``hpcpredict.train`` on those features (``xgboost.dask`` with Dask);
- SHAP: exact TreeSHAP for every job (``xgboost.dask.predict(pred_contribs=True)`` with Dask).

Where XGBoost can use a CUDA device (:func:`hpcpredict.scale.cuda_available`), train and SHAP are
also measured with ``device="cuda"``; ingest and features have no GPU path.

Dask times include starting the LocalCluster (``--dask local:N`` pays it too); its start-up alone
is reported in a separate row. Prints a Markdown table with the machine.

    python benchmarks/bench_scale.py --days 3                  # ~4k hosts x 3 days
    python benchmarks/bench_scale.py --days 2 --nodes 1024     # a quick look
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import tree_rss  # noqa: E402


def _stage(name: str, work: Path, dask: str | None, queue, device: str = "cpu") -> None:
    """Run one stage in this (fresh) process; put (seconds, peak bytes, note) on ``queue``."""
    import psutil

    import hpcpredict as hp

    me, peak, done = psutil.Process(), [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(me))
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    tag = "dask" if dask else ("gpu" if device != "cpu" else "local")
    t0 = time.perf_counter()
    note, seconds = "", None
    if name == "cluster":
        from hpcpredict.scale import client_for

        with client_for(dask):
            pass
    elif name == "ingest":
        from hpcpredict.ingest import ingest_samples

        counts = hp.api.ingest("sacct", [work / "sim" / "sacct.txt"], work / f"jobs-{tag}.parquet")
        samples = ingest_samples("ldms", [work / "sim" / "ldms"], work / f"samples-{tag}", dask=dask)
        note = f"{samples['records']:,} LDMS records, {counts.get('jobs', '?'):,} jobs"
    elif name == "features":
        summary = hp.api.features(work / "jobs-local.parquet", work / f"features-{tag}.parquet", horizon="end", samples=work / "samples-local",
                              topology=work / "sim" / "topology.csv", dask=dask)
        note = f"{summary['rows']:,} jobs x {len(summary['features'])} features"
    elif name == "train":
        bundle = hp.train(work / "features-local.parquet", work / f"model-{tag}", dask=dask, device=device)
        seconds = time.perf_counter() - t0  # the evaluation below checks the model; it is not timed
        mae = hp.api.evaluate(bundle, work / "features-local.parquet").metrics.loc["model", "mae"]
        note = f"{bundle.manifest_.n_trees} trees, test MAE {mae:,.0f} s"
    elif name == "shap":
        from hpcpredict.explain import shap_values
        from hpcpredict.features import read_features
        from hpcpredict.model import load_model
        from hpcpredict.scale import client_for
        import contextlib

        bundle, table = load_model(work / "model-local"), read_features(work / "features-local.parquet")
        with contextlib.nullcontext() if dask is None else client_for(dask) as client:
            e = shap_values(bundle, table, client=client, device=device)
        note = f"{e.values.shape[0]:,} jobs x {e.values.shape[1]} features"
    seconds = seconds if seconds is not None else time.perf_counter() - t0
    done.set()
    queue.put((seconds, max(peak[0], tree_rss(me)), note))


def measure(name: str, work: Path, dask: str | None, device: str = "cpu") -> tuple[float, int, str]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_stage, args=(name, work, dask, queue, device))
    proc.start()
    while True:  # a stage that crashes must end the benchmark, not leave it waiting
        try:
            result = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty
            if not proc.is_alive():
                raise SystemExit(f"stage {name} ({'dask' if dask else 'local'}) failed: exit code {proc.exitcode}")
    proc.join()
    return result


def main() -> None:
    from _machine import describe_machine

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--nodes", type=int, default=None, help="hosts (default: the preset's 4,032)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--stages", nargs="+", default=["cluster", "ingest", "features", "train", "shap"],
                    help="stages to run (each needs the files of the stages before it in --work)")
    ap.add_argument("--work", type=Path, default=None, help="folder to keep the files in (default: a temporary one); "
                    "a folder holding sim/truth.json from an earlier run is reused as it is")
    args = ap.parse_args()
    import hpcpredict as hp

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_scale-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    from hpcpredict.simulate import simulate

    truth = work / "sim" / "truth.json"
    if truth.is_file():  # a kept --work folder: the 90-day simulation alone takes minutes
        import json

        sim = json.loads(truth.read_text())["counts"]
        args.days = json.loads(truth.read_text())["world"]["days"]
    else:
        sim = simulate(work / "sim", preset="large", days=args.days, nodes=args.nodes)
    size = sum(f.stat().st_size for f in (work / "sim").rglob("*") if f.is_file())
    print(f"simulated large preset, {args.days} days{f', {args.nodes} nodes' if args.nodes else ''}: "
          f"{sim['jobs']:,} jobs, {size / 2**30:.2f} GiB in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    address = f"local:{args.workers}"
    rows = []
    from hpcpredict.scale import cuda_available

    gpu = cuda_available()
    for stage in args.stages:
        single = measure(stage, work, None) if stage != "cluster" else None
        dask = measure(stage, work, address)
        on_gpu = measure(stage, work, None, device="cuda") if gpu and stage in ("train", "shap") else None
        rows.append((stage, single, dask, on_gpu))
        print(f"{stage}: local {single} dask {dask} gpu {on_gpu}", file=sys.stderr)

    gib = 2**30
    load = os.getloadavg()[0]
    print(f"\n`large` preset, {args.days} days ({sim['jobs']:,} jobs, {size / gib:.2f} GiB dump); {describe_machine()}; "
          f"load average {load:.1f} at the end; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}\n")
    print(f"| stage | single machine s | peak GiB | Dask LocalCluster ({args.workers} workers x 1 thread) s | peak GiB (all processes) | Dask / single | GPU s, peak GiB | what |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for stage, single, dask, on_gpu in rows:
        s = f"{single[0]:.1f} | {single[1] / gib:.2f}" if single else "— | —"
        d = f"{dask[0]:.1f} | {dask[1] / gib:.2f}" if dask else "no Dask path | —"
        ratio = f"{dask[0] / single[0]:.2f}" if single and dask else "—"
        if stage == "cluster":
            what = "LocalCluster start and close alone (included in each Dask row)"
        elif single and dask and single[2] != dask[2]:
            what = f"single: {single[2]}; Dask: {dask[2]}"
        else:
            what = (dask or single)[2]
        if on_gpu:
            g = f"{on_gpu[0]:.1f}, {on_gpu[1] / gib:.2f} ({on_gpu[2]})"
        elif stage in ("train", "shap"):
            g = "not measured: no CUDA device here"
        else:
            g = "no GPU path"
        print(f"| {stage} | {s} | {d} | {ratio} | {g} | {what} |")


if __name__ == "__main__":
    main()
