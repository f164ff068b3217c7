"""LDMS node counters, generated day by day with numpy arrays (no per-sample Python loop).

For each day the occupancy matrix ``J[host, sample]`` (which job runs on each host in each
sampling interval) is painted with a difference array, and every metric is an array expression
over it: a running job's profile (:data:`.effects.APPS`), the state of its dragonfly group and of
the file system, and multiplicative noise. Counters are cumulative uint64 values carried from day to
day; a planted reboot sets every counter of one host back to zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .config import Topology, World
from .effects import FS_BYTES_PER_S_PER_NODE, stall_ratio

__all__ = ["SAMPLERS", "Sampler", "day_samples"]

USER_HZ = 100
NIC_FLITS_PER_S = 1.0e8
IDLE_FLITS_PER_S = 2.0e4
KIB = 1024


@dataclass(frozen=True)
class Sampler:
    """One LDMS sampler: its metrics as (name, kind, unit), and whether one host per router reports it."""

    name: str
    metrics: tuple
    per_router: bool = False


SAMPLERS = (
    Sampler("procstat", (
        ("cpu_enabled", "gauge", "cpus"), ("user", "counter", "jiffies"), ("nice", "counter", "jiffies"),
        ("sys", "counter", "jiffies"), ("idle", "counter", "jiffies"), ("iowait", "counter", "jiffies"),
        ("irq", "counter", "jiffies"), ("softirq", "counter", "jiffies"),
        ("context_switches", "counter", "switches"), ("processes", "counter", "forks"),
        ("procs_running", "gauge", "processes"), ("procs_blocked", "gauge", "processes"))),
    Sampler("meminfo", (
        ("MemTotal", "gauge", "kB"), ("MemFree", "gauge", "kB"), ("MemAvailable", "gauge", "kB"),
        ("Buffers", "gauge", "kB"), ("Cached", "gauge", "kB"), ("Active", "gauge", "kB"))),
    Sampler("lustre_client", (
        ("read_bytes", "counter", "bytes"), ("write_bytes", "counter", "bytes"), ("open", "counter", "operations"),
        ("close", "counter", "operations"), ("getattr", "counter", "operations"), ("setattr", "counter", "operations"))),
    Sampler("aries_nic_mmr", (
        ("AR_NIC_NETMON_ORB_EVENT_CNTR_REQ_FLITS", "counter", "flits"),
        ("AR_NIC_NETMON_ORB_EVENT_CNTR_REQ_STALLED", "counter", "cycles"),
        ("AR_NIC_RSPMON_NPT_EVENT_CNTR_NL_FLITS", "counter", "flits"))),
    Sampler("aries_rtr_mmr", (
        ("AR_RTR_INQ_PRF_INCOMING_FLIT_VC0", "counter", "flits"),
        ("AR_RTR_INQ_PRF_ROWBUS_STALL_CNT", "counter", "cycles")), per_router=True),
)


def _occupancy(jobs, host_ptr, host_idx, mids: np.ndarray, n_hosts: int, horizon: int) -> np.ndarray:
    """``J[h, k]`` = 1 + row of the job running on host h at time mids[k], 0 when idle."""
    start = jobs.start_s.to_numpy()
    end = np.where(jobs.end_s.to_numpy() >= 0, jobs.end_s.to_numpy(), horizon)
    rows = np.flatnonzero((start >= 0) & (start <= mids[-1]) & (end > mids[0]))
    T = len(mids)
    diff = np.zeros((n_hosts, T + 1), np.int64)
    if len(rows):
        lens = host_ptr[rows + 1] - host_ptr[rows]
        hosts = np.concatenate([host_idx[host_ptr[r]: host_ptr[r + 1]] for r in rows])
        r = np.repeat(rows, lens)
        k0 = np.searchsorted(mids, start[r], "left")
        k1 = np.searchsorted(mids, end[r], "left")
        np.add.at(diff, (hosts, k0), r + 1)
        np.add.at(diff, (hosts, k1), -(r + 1))
    return np.cumsum(diff, axis=1)[:, :T]


def _cumulate(inc: np.ndarray, carry: np.ndarray, resets: np.ndarray) -> np.ndarray:
    """Cumulative counter values from increments, restarting at zero where ``resets`` is True."""
    cum = carry[:, None] + np.cumsum(inc, axis=1)
    if not resets.any():
        return cum
    before = cum - inc
    last = np.maximum.accumulate(np.where(resets, np.arange(inc.shape[1]), -1), axis=1)
    base = np.where(last >= 0, np.take_along_axis(before, np.maximum(last, 0), axis=1), 0)
    return cum - base


def day_samples(world: World, topo: Topology, jobs, host_ptr, host_idx, resets: np.ndarray,
                seed: int) -> Iterator[tuple[int, np.ndarray, dict]]:
    """Yield ``(day_start_s, sample_times_s, {sampler: (job_ids[H,T], [metric arrays [H,T]])})`` per day.

    ``resets`` is a boolean ``[hosts, all samples]`` array of planted reboots. Arrays are
    host-major; the writer transposes them to LDMS's time-major row order.
    """
    H, dt = world.nodes, world.sample_s
    full_T = 86400 // dt
    C = world.cores_per_node
    mem_total_kb = world.mem_per_node_gib * KIB * KIB
    hpr, G = world.hosts_per_router, world.groups
    col = {name: jobs[name].to_numpy() for name in ("net", "read_bytes_s", "write_bytes_s", "meta_s", "cpu", "mem")}
    col = {k: np.concatenate([[0.0], v]) for k, v in col.items()}  # index 0 = idle host
    raw_id = np.concatenate([[0], jobs.job_raw.to_numpy()])
    carry: dict = {}
    for day in range(world.days):
        rng = np.random.default_rng([seed, 7, day])
        t0 = day * 86400
        times = t0 + dt * np.arange(1, full_T + 1)  # a sample reports the interval that ends at it
        times = times[times <= world.duration_s]
        if not len(times):
            break
        J = _occupancy(jobs, host_ptr, host_idx, times - dt / 2, H, world.duration_s)
        busy = J > 0
        T = len(times)
        reset = resets[:, day * full_T:day * full_T + T]

        def noisy(x, sd):
            return x * rng.lognormal(0.0, sd, size=x.shape)

        net = col["net"][J]
        u = net.reshape(G, -1, T).mean(axis=1)  # group network intensity, all jobs
        ratio = np.repeat(stall_ratio(u), world.hosts_per_group, axis=0)
        io_bytes = col["read_bytes_s"][J] + col["write_bytes_s"][J]
        sys_io = io_bytes.sum(axis=0) / (FS_BYTES_PER_S_PER_NODE * H)  # file-system load, all jobs

        tot = C * USER_HZ * dt
        iowait_f = np.where(busy, np.clip(io_bytes / 2e9 * (1 + sys_io), 0, 0.3), 0.0)
        user_f = np.where(busy, noisy(col["cpu"][J], 0.05) * (1 - iowait_f), 0.004)
        sys_f = np.where(busy, 0.03, 0.003)
        inc = {
            "user": user_f * tot, "nice": np.full((H, T), 0.0001 * tot), "sys": sys_f * tot,
            "iowait": iowait_f * tot, "irq": np.full((H, T), 0.001 * tot), "softirq": (0.001 + 0.004 * net) * tot,
            "context_switches": noisy(np.where(busy, C * 200.0, 60.0) * dt, 0.1),
            "processes": noisy(np.where(busy, 2.0, 0.5) * dt, 0.2),
            "read_bytes": noisy(col["read_bytes_s"][J] * dt + 4096 * dt, 0.5),
            "write_bytes": noisy(col["write_bytes_s"][J] * dt + 1024 * dt, 0.5),
            "open": noisy((col["meta_s"][J] + 0.2) * dt, 0.3), "close": noisy((col["meta_s"][J] + 0.2) * dt, 0.3),
            "getattr": noisy((col["meta_s"][J] * 2 + 1.0) * dt, 0.3), "setattr": noisy((col["meta_s"][J] * 0.1 + 0.01) * dt, 0.3),
        }
        inc["idle"] = np.maximum(tot - inc["user"] - inc["nice"] - inc["sys"] - inc["iowait"] - inc["irq"] - inc["softirq"], 0)
        flits = noisy(net * NIC_FLITS_PER_S * dt + IDLE_FLITS_PER_S * dt, 0.15)
        inc["req_flits"] = flits
        inc["req_stalled"] = noisy(flits * ratio, 0.1)
        inc["rsp_flits"] = noisy(flits * 0.9, 0.05)
        # Router tiles carry the router's own hosts' traffic plus transit traffic of its group.
        r_hosts = flits.reshape(-1, hpr, T).sum(axis=1)
        transit = np.repeat(u, world.routers_per_group, axis=0) * hpr * NIC_FLITS_PER_S * dt * 0.5
        r_flits = noisy(r_hosts + transit, 0.05)
        r_ratio = np.repeat(stall_ratio(u), world.routers_per_group, axis=0)
        inc["rtr_flits"] = r_flits
        inc["rtr_stalls"] = noisy(r_flits * r_ratio, 0.1)
        r_reset = reset[::hpr]

        def counter(key, rst=reset):
            if key not in carry:  # the nodes booted days before the period began
                uptime = np.random.default_rng([seed, 11, len(carry)]).uniform(0, 30 * 86400 / dt, rst.shape[0])
                carry[key] = np.rint(inc[key].mean(axis=1)[: rst.shape[0]] * uptime).astype(np.int64)
            values = _cumulate(np.rint(inc[key]).astype(np.int64), carry[key], rst)
            carry[key] = values[:, -1]
            return values

        used = np.where(busy, noisy(col["mem"][J], 0.05) * mem_total_kb, 2.0 * KIB * KIB)
        used = np.minimum(used, 0.95 * mem_total_kb)
        cached = np.minimum(mem_total_kb - used, noisy(np.where(busy, 12.0, 4.0) * KIB * KIB + io_bytes * dt / 1024 * 0.01, 0.1))
        buffers = noisy(np.full((H, T), 0.2 * KIB * KIB), 0.05)
        free = np.maximum(mem_total_kb - used - cached - buffers, 0)
        gauge = lambda x: np.rint(x).astype(np.int64)  # noqa: E731
        ids = raw_id[J]
        data = {
            "procstat": (ids, [np.full((H, T), C, np.int64)]
                         + [counter(k) for k in ("user", "nice", "sys", "idle", "iowait", "irq", "softirq",
                                                 "context_switches", "processes")]
                         + [gauge(np.where(busy, C * col["cpu"][J], rng.integers(0, 2, (H, T)))),
                            gauge(iowait_f * C)]),
            "meminfo": (ids, [np.full((H, T), mem_total_kb, np.int64), gauge(free), gauge(free + 0.9 * cached + buffers),
                              gauge(buffers), gauge(cached), gauge(0.9 * used + 0.3 * cached)]),
            "lustre_client": (ids, [counter(k) for k in ("read_bytes", "write_bytes", "open", "close", "getattr", "setattr")]),
            "aries_nic_mmr": (ids, [counter(k) for k in ("req_flits", "req_stalled", "rsp_flits")]),
            "aries_rtr_mmr": (ids[::hpr], [counter("rtr_flits", r_reset), counter("rtr_stalls", r_reset)]),
        }
        yield t0, times, data
