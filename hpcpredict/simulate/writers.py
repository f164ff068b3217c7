"""The files a site would hand over: sacct text, LDMS store_csv files, topology, the pending queue."""

from __future__ import annotations

from pathlib import Path

import hostlist
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..ingest.slurm import SACCT_FIELDS as _READER_FIELDS
from .config import EPOCH, Topology, World
from .counters import SAMPLERS
from .workload import FIRST_JOB_ID

__all__ = ["SACCT_FIELDS", "CLUSTER", "write_sacct", "write_topology", "write_ldms_day", "ldms_file_name"]

#: The ``sacct --parsable2 --format=...`` fields written, in order: exactly hpcpredict's field list
#: (:data:`hpcpredict.ingest.slurm.SACCT_FIELDS`, what ``hpcpredict collect`` asks for); real sacct
#: prints these names as its header.
SACCT_FIELDS = tuple(_READER_FIELDS.split(","))
CLUSTER = "simcluster"
LDMS_FIXED = ("#Time", "Time_usec", "ProducerName", "component_id", "job_id", "app_id")
_EXIT = {"COMPLETED": "0:0", "FAILED": "1:0", "TIMEOUT": "0:0", "CANCELLED": "0:0", "RUNNING": "0:0", "PENDING": "0:0"}
# Steps of a job: (state of the batch step, its exit code, state of step .0, its exit code).
_STEP = {"COMPLETED": ("COMPLETED", "0:0", "COMPLETED", "0:0"), "FAILED": ("FAILED", "1:0", "FAILED", "1:0"),
         "TIMEOUT": ("CANCELLED", "0:15", "CANCELLED", "0:15"), "CANCELLED": ("CANCELLED", "0:15", "CANCELLED", "0:15"),
         "RUNNING": ("RUNNING", "0:0", "RUNNING", "0:0")}
#: Slurm's priority/basic: the first job gets 2^32 - 2^16 - 1, each later one one less (real 22.05).
_FIRST_PRIORITY = 4294901759


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


def _cpu_time(seconds: float) -> str:
    """sacct's TotalCPU: ``MM:SS.mmm`` under an hour, else ``[D-]HH:MM:SS``; nothing used: ``00:00:00``.

    Examples
    --------
    >>> _cpu_time(3.2955), _cpu_time(0), _cpu_time(90061)
    ('00:03.296', '00:00:00', '1-01:01:01')
    """
    if seconds <= 0:
        return "00:00:00"
    if seconds >= 3600:
        return _duration(int(seconds))
    millis = int(round(seconds * 1000))
    return f"{millis // 60000:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def _disk(nbytes: float) -> str:
    """sacct's MaxDiskRead/MaxDiskWrite: mebibytes with two decimals, scaled up past 1024.

    Examples
    --------
    >>> _disk(10_000), _disk(3 * 2**30)
    ('0.01M', '3.00G')
    """
    value, unit = nbytes / 2**20, "M"
    for bigger in "GTP":
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.2f}{unit}"


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
            jid, raw = f"{job.array_job}_[{_ranges(tasks)}]", str(job.array_job)  # the record of the array itself
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
        step_rows = _step_rows(job, i, C, mem_g, t0=start_s[i], t1=horizon if state == "RUNNING" else end_s[i],
                               nodelist=nodelist, first_host=str(topo.hosts[hosts[0]]) if started else "")
        # the job's TotalCPU is its steps' sum; usage is accounted when a step ends
        total_cpu = sum(r["cpu_s"] for r in step_rows) if started and state != "RUNNING" else 0.0
        line = {
            "JobID": jid, "JobIDRaw": raw, "Cluster": CLUSTER, "User": job.user, "Group": job.user,
            "Account": job.account, "Partition": job.partition, "QOS": job.qos, "JobName": job.app,
            "Submit": submit_iso[i], "Eligible": eligible_iso[i], "Start": start, "End": end,
            "Elapsed": _duration(elapsed), "Timelimit": _duration(job.limit_s), "ReqNodes": str(n), "NNodes": str(n),
            "ReqCPUS": str(n * C), "AllocCPUS": str(n * C),
            # ReqMem: the job's total from its TRES, without the old n/c suffix (real sacct 22.05)
            "ReqMem": f"{n * mem_g}G", "ReqTRES": req_tres, "AllocTRES": alloc, "NodeList": nodelist,
            "State": f"CANCELLED by {job.uid}" if job.cancelled else state, "ExitCode": _EXIT[state],
            "DerivedExitCode": "0:0", "TotalCPU": _cpu_time(total_cpu),
            "Priority": str(_FIRST_PRIORITY - (int(job.job_raw) - FIRST_JOB_ID)),
            "WorkDir": f"/lus/scratch/{job.user}/{job.app}",
        }
        lines.append(_line(line))
        if not (steps and started):
            continue
        running = state == "RUNNING"
        for r in step_rows:
            a_iso, b_iso = _iso(np.array([r["a"], r["b"]]))
            nn, ncpu = r["nodes"], r["cpus"]
            lines.append(_line({
                "JobID": jid + r["suffix"], "JobIDRaw": raw + r["suffix"], "Cluster": CLUSTER, "Account": job.account,
                "JobName": r["name"], "Submit": a_iso, "Eligible": a_iso, "Start": a_iso, "End": "Unknown" if running else b_iso,
                "Elapsed": _duration(r["b"] - r["a"]), "ReqNodes": str(nn), "NNodes": str(nn), "ReqCPUS": str(ncpu),
                "AllocCPUS": str(ncpu), "AllocTRES": f"{r['billing']}cpu={ncpu},mem={nn * mem_g}G,node={nn}",
                "NodeList": r["nodelist"], "State": r["state"], "ExitCode": r["exit"],
                # a running step's usage is not in the accounting yet (sstat shows it)
                **({} if running else {"MaxRSS": f"{r['rss_k']}K", "MaxVMSize": f"{r['vm_k']}K",
                                       "MaxDiskRead": _disk(r["read_b"]), "MaxDiskWrite": _disk(r["write_b"]),
                                       "TotalCPU": _cpu_time(r["cpu_s"])}),
            }))
    return lines


def _step_rows(job, i: int, C: int, mem_g: int, *, t0: int, t1: int, nodelist: str, first_host: str) -> list[dict]:
    """The ``.batch``, ``.extern`` and ``.0`` steps of a job that started: their spans, sizes and usage."""
    state = job.state if job.state in _STEP else "COMPLETED"
    b_state, b_exit, s_state, s_exit = _STEP[state]
    n = int(job.nodes)
    s0, s1 = min(t0 + 3, t1), max(min(t0 + 3, t1), t1 - 2)
    rss_k = int(job.mem * (mem_g + 16) * 1024 * 1024)
    batch_k = 20480 + i % 4096
    return [
        {"suffix": ".batch", "name": "batch", "nodes": 1, "cpus": C, "a": t0, "b": t1, "nodelist": first_host,
         "state": b_state, "exit": b_exit, "billing": "", "rss_k": batch_k, "vm_k": batch_k * 3 // 2,
         "read_b": 2.0e6, "write_b": 1.0e5, "cpu_s": 0.5 + 0.001 * (t1 - t0)},
        {"suffix": ".extern", "name": "extern", "nodes": n, "cpus": n * C, "a": t0, "b": t1, "nodelist": nodelist,
         "state": "RUNNING" if state == "RUNNING" else "COMPLETED", "exit": "0:0", "billing": f"billing={n * C},",
         "rss_k": 1024, "vm_k": 2920, "read_b": 1.0e4, "write_b": 0.0, "cpu_s": 0.001},
        {"suffix": ".0", "name": job.app, "nodes": n, "cpus": n * C, "a": s0, "b": s1, "nodelist": nodelist,
         "state": s_state, "exit": s_exit, "billing": "", "rss_k": rss_k, "vm_k": rss_k + rss_k // 4 + 65536,
         # MaxDisk*: the largest figure of one task (one node here) of the step
         "read_b": job.read_bytes_s * (s1 - s0), "write_b": job.write_bytes_s * (s1 - s0),
         "cpu_s": float(job.cpu) * n * C * (s1 - s0)},
    ]


def _line(values: dict) -> str:
    """One sacct line: ``values`` in :data:`SACCT_FIELDS` order, fields not given empty."""
    return "|".join(str(values.get(name, "")) for name in SACCT_FIELDS)


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
