"""The metric map of PCP ingest: which PCP metrics are read and what samples column each becomes.

Performance Co-Pilot names metrics by a dotted namespace (``kernel.all.cpu.user``,
``disk.all.read_bytes``, ``network.interface.in.bytes``) and describes each one in the archive
itself: type, semantics (counter, instant, discrete) and units (``Kbyte``, ``millisec``). This
table says which of them hpcpredict reads and how each becomes a column of the samples table, in
the roles the features aggregate (:data:`~hpcpredict.ingest.metrics.ROLES`), so the feature
families and the words of per-job reasons are the same whether the node counters came from LDMS
or from PCP.

Instances (per CPU, per disk, per network interface) follow one rule per column:

- ``"all"`` — the metric has no instances (``kernel.all.*``, ``disk.all.*``, ``network.all.*``:
  PCP's own totals) or, for a per-instance fallback, its instances are summed;
- ``"!lo"`` — the instances are summed except ``lo``: loopback traffic stays inside the node;
- any other string — that one instance only (``"lo"`` keeps loopback traffic in its own column).

``sources`` lists PCP metrics in order of preference: the first one the archive holds is read. A
SUPReMM site logging only per-device metrics (``disk.dev.*``, ``network.interface.*``,
``kernel.percpu.*``) gets the same columns as one logging PCP's totals. ``disk.dev`` holds whole
disks only (partitions, device-mapper and md devices are ``disk.partitions``, ``disk.dm``,
``disk.md``), so its sum counts each byte once; ``network.all`` is PCP's total over physical
interfaces (``lo`` and virtual interfaces left out).
"""

from __future__ import annotations

from dataclasses import dataclass

from .metrics import MetricInfo

__all__ = ["PCP_DERIVED", "PCP_METRICS", "PcpColumn", "pcp_metric_names"]

#: PCP's units as pmUnitsStr prints them → (factor to the column's unit, column unit).
_SCALE = {
    "byte": (1.0, "bytes"),
    "Kbyte": (1024.0, "bytes"),
    "Mbyte": (1024.0**2, "bytes"),
    "Gbyte": (1024.0**3, "bytes"),
    "nanosec": (1e-9, "s"),
    "microsec": (1e-6, "s"),
    "millisec": (1e-3, "s"),
    "sec": (1.0, "s"),
    "count": (1.0, "count"),
    "": (1.0, ""),
}


@dataclass(frozen=True)
class PcpColumn:
    """One samples column read from PCP.

    Attributes
    ----------
    column : str
        The samples column (counters end in ``_per_s``: they hold per-second rates).
    sources : tuple of str
        PCP metric names, in order of preference.
    instances : str
        ``"all"``, ``"!lo"`` or one instance name (see the module's rule).
    family : str
        ``cpu``, ``memory``, ``disk`` or ``network``: what the column is about, in words.
    role : str or None
        A key of :data:`~hpcpredict.ingest.metrics.ROLES` when features aggregate the column.
    """

    column: str
    sources: tuple[str, ...]
    instances: str
    family: str
    role: str | None = None


def _cpu(state: str, pcp: str) -> PcpColumn:
    return PcpColumn(f"cpu_{state}_s_per_s", (f"kernel.all.cpu.{pcp}", f"kernel.percpu.cpu.{pcp}"), "all", "cpu")


#: The columns read, in the order they appear in the samples table.
PCP_METRICS: tuple[PcpColumn, ...] = (
    _cpu("user", "user"),
    _cpu("nice", "nice"),
    _cpu("sys", "sys"),
    _cpu("idle", "idle"),
    _cpu("iowait", "wait.total"),
    _cpu("irq", "intr"),
    _cpu("steal", "steal"),
    PcpColumn("load_1min", ("kernel.all.load",), "1 minute", "cpu"),
    PcpColumn("mem_total_bytes", ("mem.physmem",), "all", "memory"),
    PcpColumn("mem_util_used_bytes", ("mem.util.used",), "all", "memory"),
    PcpColumn("mem_available_bytes", ("mem.util.available",), "all", "memory"),
    PcpColumn("mem_free_bytes", ("mem.util.free",), "all", "memory"),
    PcpColumn("mem_cached_bytes", ("mem.util.cached",), "all", "memory"),
    PcpColumn("mem_buffers_bytes", ("mem.util.bufmem",), "all", "memory"),
    PcpColumn("disk_read_bytes_per_s", ("disk.all.read_bytes", "disk.dev.read_bytes"), "all", "disk", "fs_read_bytes"),
    PcpColumn("disk_write_bytes_per_s", ("disk.all.write_bytes", "disk.dev.write_bytes"), "all", "disk", "fs_write_bytes"),
    PcpColumn("disk_reads_per_s", ("disk.all.read", "disk.dev.read"), "all", "disk"),
    PcpColumn("disk_writes_per_s", ("disk.all.write", "disk.dev.write"), "all", "disk"),
    PcpColumn("net_in_bytes_per_s", ("network.all.in.bytes", "network.interface.in.bytes"), "!lo", "network", "net_bytes"),
    PcpColumn("net_out_bytes_per_s", ("network.all.out.bytes", "network.interface.out.bytes"), "!lo", "network", "net_bytes"),
    PcpColumn("loopback_in_bytes_per_s", ("network.interface.in.bytes",), "lo", "network"),
    PcpColumn("loopback_out_bytes_per_s", ("network.interface.out.bytes",), "lo", "network"),
)

#: Columns computed from the ones above, as the LDMS reader derives them from procstat and meminfo.
PCP_DERIVED: dict[str, tuple[str, str, str, str]] = {
    # column: (how, unit, family, role)
    "cpu_busy_frac": ("(user + nice + sys + irq + steal) / all CPU time", "fraction", "cpu", "cpu_busy"),
    "mem_used_bytes": ("mem.physmem - mem.util.available (MemTotal - MemAvailable)", "bytes", "memory", "mem_used"),
}
#: Where an archive lacks ``mem.util.available``: memory in use less the page cache and buffers.
_MEM_USED_FALLBACK = "mem.util.used - mem.util.cached - mem.util.bufmem"

_CPU_BUSY = ("user", "nice", "sys", "irq", "steal")
_CPU_IDLE = ("idle", "iowait")


def pcp_metric_names() -> list[str]:
    """Every PCP metric name the map may read, each once.

    Examples
    --------
    >>> "disk.all.read_bytes" in pcp_metric_names()
    True
    """
    names: dict[str, None] = {}
    for col in PCP_METRICS:
        names.update(dict.fromkeys(col.sources))
    return list(names)


def column_unit(col: PcpColumn, pcp_units: str, semantics: str) -> tuple[float, str, str]:
    """``(factor, unit, kind)`` of a column read from a PCP metric with these units and semantics.

    Counters become per-second rates of the unit PCP's units scale to (``Kbyte`` → ``bytes/s``).

    Examples
    --------
    >>> column_unit(PCP_METRICS[0], "millisec", "counter")
    (0.001, 's/s', 'counter')
    >>> column_unit(PCP_METRICS[8], "Kbyte", "discrete")
    (1024.0, 'bytes', 'gauge')
    """
    factor, unit = _SCALE.get(pcp_units, (1.0, pcp_units))
    if semantics == "counter":
        return factor, f"{unit or 'count'}/s", "counter"
    return factor, unit, "gauge"


def column_info(col: PcpColumn, source: str, unit: str, kind: str, *, has_instances: bool) -> MetricInfo:
    """The :class:`MetricInfo` of a column read from PCP metric ``source`` (instance rule in brackets)."""
    where = source if col.instances == "all" or not has_instances else f"{source}[{col.instances}]"
    return MetricInfo(col.column, where, "pcp", kind, unit, col.role)


def derive_pcp(frame, infos: list[MetricInfo]) -> list[MetricInfo]:
    """Add ``cpu_busy_frac`` and ``mem_used_bytes`` to ``frame`` (in place) where their inputs exist."""
    have = {i.column for i in infos}
    added = []
    busy = [f"cpu_{s}_s_per_s" for s in _CPU_BUSY if f"cpu_{s}_s_per_s" in have]
    idle = [f"cpu_{s}_s_per_s" for s in _CPU_IDLE if f"cpu_{s}_s_per_s" in have]
    if "cpu_user_s_per_s" in have and "cpu_idle_s_per_s" in have:
        b = frame[busy].sum(axis=1, min_count=1)
        total = b + frame[idle].sum(axis=1, min_count=1)
        frame["cpu_busy_frac"] = (b / total.where(total > 0)).clip(0, 1)
        added.append("cpu_busy_frac")
    how = {c: PCP_DERIVED[c][0] for c in PCP_DERIVED}
    if {"mem_total_bytes", "mem_available_bytes"} <= have:
        frame["mem_used_bytes"] = frame["mem_total_bytes"] - frame["mem_available_bytes"]
        added.append("mem_used_bytes")
    elif {"mem_util_used_bytes", "mem_cached_bytes"} <= have:
        buffers = frame["mem_buffers_bytes"] if "mem_buffers_bytes" in have else 0.0
        frame["mem_used_bytes"] = frame["mem_util_used_bytes"] - frame["mem_cached_bytes"] - buffers
        how["mem_used_bytes"] = _MEM_USED_FALLBACK
        added.append("mem_used_bytes")
    return infos + [MetricInfo(c, how[c], "pcp", "gauge", PCP_DERIVED[c][1], PCP_DERIVED[c][3]) for c in added]
