"""The files a site would hand over: sacct text, LDMS store_csv files, topology, the pending queue."""

from __future__ import annotations

from pathlib import Path

import hostlist
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .config import EPOCH, Topology, World
from .counters import SAMPLERS

__all__ = ["SACCT_FIELDS", "CLUSTER", "write_sacct", "write_topology", "write_ldms_day", "ldms_file_name"]

#: The ``sacct --parsable2 --format=...`` fields written, in order.
SACCT_FIELDS = ("JobID", "JobIDRaw", "JobName", "User", "Account", "Partition", "QOS", "Submit", "Eligible",
                "Start", "End", "Elapsed", "Timelimit", "NNodes", "NCPUS", "ReqMem", "ReqTRES", "AllocTRES",
                "NodeList", "State", "ExitCode", "MaxRSS", "AveRSS", "UID", "ArrayJobID", "ArrayTaskID", "Cluster")
CLUSTER = "simcluster"
LDMS_FIXED = ("#Time", "Time_usec", "ProducerName", "component_id", "job_id", "app_id")
_EXIT = {"COMPLETED": "0:0", "FAILED": "1:0", "TIMEOUT": "0:0", "CANCELLED": "0:0", "RUNNING": "0:0", "PENDING": "0:0"}
# Steps of a job: (state of the batch step, its exit code, state of step .0, its exit code).
_STEP = {"COMPLETED": ("COMPLETED", "0:0", "COMPLETED", "0:0"), "FAILED": ("FAILED", "1:0", "FAILED", "1:0"),
         "TIMEOUT": ("CANCELLED", "0:15", "CANCELLED", "0:15"), "CANCELLED": ("CANCELLED", "0:15", "CANCELLED", "0:15"),
         "RUNNING": ("RUNNING", "0:0", "RUNNING", "0:0")}


def _iso(seconds: np.ndarray) -> np.ndarray:
    """sacct's local time (the simulated site runs on UTC): 2025-01-06T08:00:00."""
    stamps = np.datetime64(EPOCH.tz_localize(None), "s") + np.asarray(seconds, np.int64).astype("timedelta64[s]")
    return np.datetime_as_string(stamps, unit="s")


def _duration(seconds: int) -> str:
    """Slurm's [D-]HH:MM:SS."""
    days, rest = divmod(int(seconds), 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{days}-{h:02d}:{m:02d}:{s:02d}" if days else f"{h:02d}:{m:02d}:{s:02d}"


def _job_lines(jobs: pd.DataFrame, hosts_of: list, topo: Topology, world: World, *, steps: bool) -> list[str]:
    C = world.cores_per_node
    mem_g = world.mem_per_node_gib - 16  # what users may request: the node minus the OS reserve
    horizon = world.duration_s
    submit_iso = _iso(jobs.submit_s.to_numpy())
    eligible_iso = _iso(jobs.eligible_s.to_numpy())
    start_s, end_s = jobs.start_s.to_numpy(), jobs.end_s.to_numpy()
    start_iso, end_iso = _iso(np.maximum(start_s, 0)), _iso(np.maximum(end_s, 0))
    # Slurm keeps an array's still-pending tasks in one record: 456_[3-5].
    pend_arr = (jobs.state.to_numpy() == "PENDING") & (jobs.array_job.to_numpy() >= 0)
    pending_tasks = jobs[pend_arr].groupby("array_job").array_task.agg(list).to_dict()
    lines = []
    for i, job in enumerate(jobs.itertuples(index=False)):
        raw = str(job.job_raw)
        jid = f"{job.array_job}_{job.array_task}" if job.array_job >= 0 else raw
        if pend_arr[i]:
            tasks = pending_tasks.get(job.array_job)
            if tasks is None or tasks[0] != job.array_task:
                continue
            jid = f"{job.array_job}_[{_ranges(tasks)}]"
        n = int(job.nodes)
        req_tres = f"billing={n * C},cpu={n * C},mem={n * mem_g}G,node={n}"
        hosts = hosts_of[i]
        started = start_s[i] >= 0
        state = job.state
        if state == "PENDING":
            start, end, elapsed, nodelist, alloc = "Unknown", "Unknown", 0, "None assigned", ""
        elif not started:  # cancelled while waiting: Slurm 22.05 prints Start None, End the cancel time
            start, end, elapsed, nodelist, alloc = "None", end_iso[i], 0, "None assigned", ""
        else:
            running = state == "RUNNING"
            start, end = start_iso[i], "Unknown" if running else end_iso[i]
            elapsed = (horizon if running else end_s[i]) - start_s[i]
            nodelist = hostlist.collect_hostlist(list(topo.hosts[hosts]))
            alloc = req_tres
        shown = f"CANCELLED by {job.uid}" if job.cancelled else state
        arr = (str(job.array_job), jid.split("_", 1)[1]) if job.array_job >= 0 else ("", "")
        lines.append("|".join([
            jid, raw, job.app, job.user, job.account, job.partition, job.qos, submit_iso[i], eligible_iso[i], start, end,
            # ReqMem: the job's total from its TRES, without the old n/c suffix (real sacct 22.05)
            _duration(elapsed), _duration(job.limit_s), str(n), str(n * C), f"{n * mem_g}G", req_tres, alloc, nodelist,
            shown, _EXIT[state], "", "", str(job.uid), *arr, CLUSTER]))
        if not (steps and started):
            continue
        b_state, b_exit, s_state, s_exit = _STEP[state]
        t0, t1 = start_s[i], (horizon if state == "RUNNING" else end_s[i])
        s0, s1 = min(t0 + 3, t1), max(min(t0 + 3, t1), t1 - 2)
        unknown = state == "RUNNING"
        rss_k = int(job.mem * world.mem_per_node_gib * 1024 * 1024)
        step_rows = [
            (".batch", "batch", 1, C, t0, t1, nodelist_first(topo, hosts), b_state, b_exit, f"{20480 + i % 4096}K"),
            (".extern", "extern", n, n * C, t0, t1, nodelist, "RUNNING" if unknown else "COMPLETED", "0:0", "1024K"),
            (".0", job.app, n, n * C, s0, s1, nodelist, s_state, s_exit, f"{rss_k}K"),
        ]
        for suffix, name, nn, ncpu, a, b, nl, st, ex, rss in step_rows:
            a_iso, b_iso = _iso(np.array([a, b]))
            lines.append("|".join([
                jid + suffix, raw + suffix, name, "", job.account, "", "", a_iso, a_iso, a_iso,
                "Unknown" if unknown else b_iso, _duration(b - a), "", str(nn), str(ncpu), "", "",
                f"cpu={ncpu},mem={nn * mem_g}G,node={nn}", nl, st, ex, rss, rss, "", *arr, CLUSTER]))
    return lines


def _ranges(values: list[int]) -> str:
    """1,3,4,5 → "1,3-5" (Slurm's array task notation).

    Examples
    --------
    >>> _ranges([1, 3, 4, 5])
    '1,3-5'
    """
    parts, run = [], [values[0], values[0]]
    for v in values[1:]:
        if v == run[1] + 1:
            run[1] = v
        else:
            parts.append(run)
            run = [v, v]
    parts.append(run)
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


def nodelist_first(topo: Topology, hosts: np.ndarray) -> str:
    return str(topo.hosts[hosts[0]])


def write_sacct(path: Path, jobs: pd.DataFrame, hosts_of: list, topo: Topology, world: World, *, steps: bool = True) -> int:
    """Write ``jobs`` as ``sacct --parsable2`` text (header + one line per job and step); return the lines."""
    lines = ["|".join(SACCT_FIELDS)] + _job_lines(jobs, hosts_of, topo, world, steps=steps)
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def write_topology(path: Path, topo: Topology) -> None:
    topo.frame().to_csv(path, index=False)


def ldms_file_name(sampler: str, day_start_s: int) -> str:
    """store_csv's daily rollover name: ``<schema>.<epoch seconds of the day's start>``."""
    return f"{sampler}.{int(EPOCH.timestamp()) + day_start_s}"


def write_ldms_day(folder: Path, topo: Topology, world: World, day_start_s: int, times: np.ndarray,
                   data: dict, rng: np.random.Generator) -> int:
    """Write one day of every sampler (store_csv layout, header line first); return the rows written."""
    rows = 0
    epoch = int(EPOCH.timestamp())
    for sampler in SAMPLERS:
        ids, metrics = data[sampler.name]
        hosts = np.arange(world.nodes)[:: world.hosts_per_router] if sampler.per_router else np.arange(world.nodes)
        H, T = ids.shape
        sec = np.repeat(epoch + times, H)
        usec = rng.integers(1000, 30000, size=H * T)  # sampler wake-up jitter, as on a real node
        time_str = pc.binary_join_element_wise(
            pc.cast(pa.array(sec), pa.string()), pc.utf8_lpad(pc.cast(pa.array(usec), pa.string()), 6, "0"), ".")
        columns = {
            "#Time": time_str, "Time_usec": pa.array(usec),
            "ProducerName": pa.array(topo.hosts[hosts].tolist()).take(pa.array(np.tile(np.arange(H), T))),
            "component_id": pa.array(np.tile(hosts + 1, T)),
            "job_id": pa.array(ids.T.ravel()), "app_id": pa.array(np.zeros(H * T, np.int64)),
        }
        for (name, _, _), values in zip(sampler.metrics, metrics, strict=True):
            columns[name] = pa.array(values.T.ravel().astype(np.uint64))
        table = pa.table(columns)
        path = folder / sampler.name / ldms_file_name(sampler.name, day_start_s)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write((",".join(table.column_names) + "\n").encode())
            pacsv.write_csv(table, fh, write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"))
        rows += table.num_rows
    return rows
