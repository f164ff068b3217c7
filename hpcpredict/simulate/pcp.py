"""The simulated node counters as PCP archives: ``pcp/<host>/<YYYYMMDD>``, one per host and day.

What a SUPReMM site's ``pmlogger`` keeps, written through PCP's own library
(:class:`~hpcpredict.ingest.pcp_archive.PcpArchiveWriter`), under the PCP metric names and units a
Linux node reports and that hpcpredict's PCP map reads (:data:`~hpcpredict.ingest.pcp_metrics.PCP_METRICS`).
The values are the very counters the LDMS files get (:func:`~.counters.day_samples`), so both dumps
of one seed tell the same story; ``docs/simulator.md`` lists each metric and its source. What only
LDMS has (Lustre metadata operations, NIC stalls, router tiles) has no metric in the PCP map and is
not written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..ingest.pcp_archive import PcpArchiveWriter, PcpMetric
from .config import EPOCH, Topology, World
from .counters import SAMPLERS, USER_HZ

__all__ = ["BYTES_PER_FLIT", "PCP_SIM_METRICS", "write_pcp_day"]

#: Bytes the simulated NIC moves per flit (the simulator's own figure).
BYTES_PER_FLIT = 16
NIC = "hsn0"
_MS_PER_JIFFY = 1000 // USER_HZ


def _counter(name: str, units: str, instances=None) -> PcpMetric:
    return PcpMetric(name, "u64", "counter", units, instances)


#: The metrics of every simulated archive, in the order of :func:`_columns`.
PCP_SIM_METRICS: tuple[PcpMetric, ...] = (
    *(_counter(f"kernel.all.cpu.{s}", "millisec") for s in ("user", "nice", "sys", "idle", "wait.total", "intr", "steal")),
    PcpMetric("mem.physmem", "u64", "discrete", "Kbyte"),
    *(PcpMetric(f"mem.util.{s}", "u64", "instant", "Kbyte") for s in ("used", "free", "available", "cached", "bufmem")),
    _counter("disk.all.read_bytes", "Kbyte"),
    _counter("disk.all.write_bytes", "Kbyte"),
    _counter("network.interface.in.bytes", "byte", (NIC,)),
    _counter("network.interface.out.bytes", "byte", (NIC,)),
)


def _columns(data: dict) -> list[np.ndarray]:
    """``[hosts, samples]`` arrays, one per metric of :data:`PCP_SIM_METRICS`, from one day's counters."""
    named = {}
    for sampler in SAMPLERS:
        if not sampler.per_router:
            named.update(zip((m[0] for m in sampler.metrics), data[sampler.name][1], strict=True))
    jiffies = {s: named[s] * _MS_PER_JIFFY for s in ("user", "nice", "sys", "idle", "iowait")}
    total = named["MemTotal"]
    once = np.full(total.shape, np.nan)
    once[:, 0] = total[:, 0]  # pmlogger logs a discrete metric once, when it starts
    return [
        jiffies["user"], jiffies["nice"], jiffies["sys"], jiffies["idle"], jiffies["iowait"],
        (named["irq"] + named["softirq"]) * _MS_PER_JIFFY, np.zeros_like(total),
        once, total - named["MemFree"], named["MemFree"], named["MemAvailable"], named["Cached"], named["Buffers"],
        named["read_bytes"] // 1024, named["write_bytes"] // 1024,
        named["AR_NIC_RSPMON_NPT_EVENT_CNTR_NL_FLITS"] * BYTES_PER_FLIT,
        named["AR_NIC_NETMON_ORB_EVENT_CNTR_REQ_FLITS"] * BYTES_PER_FLIT,
    ]


def write_pcp_day(writer: PcpArchiveWriter, folder: Path, topo: Topology, world: World, day_start_s: int,
                  times: np.ndarray, data: dict) -> int:
    """Write one day of every host as its own archive ``folder/<host>/<YYYYMMDD>``; return the records."""
    day = (EPOCH + np.timedelta64(int(day_start_s), "s")).strftime("%Y%m%d")
    columns = _columns(data)
    stamps = int(EPOCH.timestamp()) + np.asarray(times, np.int64)
    for h in range(world.nodes):
        host = str(topo.hosts[h])
        writer.start(folder / host / day, host=host, metrics=PCP_SIM_METRICS)
        writer.write(stamps, [c[h] for c in columns])
    return world.nodes * len(times)
