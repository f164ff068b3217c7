"""What each monitoring metric is: counter or gauge, its unit, and the role features give it.

LDMS samplers name their metrics after the kernel or device files they read (``MemFree``,
``user``, ``read_bytes#llite.scratch``, ``AR_NIC_NETMON_ORB_EVENT_CNTR_REQ_FLITS``). A table of
known names and patterns, tried in order, says what each one is; anything unknown is a gauge
without a unit, and every answer can be overridden by the caller.

The *role* ties a metric to a quantity the features aggregate (filesystem read bytes, network
stalls, ...); several metrics may share a role (two Lustre filesystems, many NIC counters) and are
then summed per host and sample.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

from ..errors import ParameterError

__all__ = ["ROLES", "MetricInfo", "describe_metric", "output_name"]

#: role → (unit of the samples column, description); the order is the order of features.
ROLES: dict[str, tuple[str, str]] = {
    "fs_read_bytes": ("bytes/s", "filesystem read bandwidth"),
    "fs_write_bytes": ("bytes/s", "filesystem write bandwidth"),
    "fs_metadata_ops": ("ops/s", "filesystem metadata operation rate"),
    "net_flits": ("flits/s", "network flit rate"),
    "net_stalls": ("stalls/s", "network stall rate"),
    "net_bytes": ("bytes/s", "network bandwidth"),
    "cpu_busy": ("fraction", "CPU busy fraction"),
    "mem_used": ("bytes", "memory in use"),
}

_LUSTRE_MD_OPS = (
    "open|close|getattr|setattr|statfs|create|link|unlink|symlink|mkdir|rmdir|mknod|rename|"
    "getxattr|setxattr|listxattr|removexattr|inode_permission|truncate"
)
_CPU_STATES = "user|nice|sys|system|idle|iowait|irq|softirq|steal|guest|guest_nice"

# (pattern on the base name, kind, unit, role); first match wins. The base name drops LDMS's
# ``#llite.<fs>`` / ``.sum`` decorations and a sampler prefix such as ``lustre_``.
_PATTERNS: list[tuple[re.Pattern[str], str, str, str | None]] = [
    (re.compile(p, re.IGNORECASE), kind, unit, role)
    for p, kind, unit, role in [
        (r"^cpu_?(busy|util)", "gauge", "fraction", "cpu_busy"),
        (r"^mem(ory)?_?used", "gauge", "bytes", "mem_used"),
        (r"(^|_)read_bytes|^bytes_read$", "counter", "bytes", "fs_read_bytes"),
        (r"(^|_)write_bytes|^bytes_written$", "counter", "bytes", "fs_write_bytes"),
        (r"(^|_)(metadata|md|mdc|mds)_?(ops|reqs|requests)(_total)?$", "counter", "ops", "fs_metadata_ops"),
        (rf"^(lustre_|llite_)?({_LUSTRE_MD_OPS})(_total)?$", "counter", "ops", "fs_metadata_ops"),
        (r"flit", "counter", "flits", "net_flits"),
        (r"stall", "counter", "stalls", "net_stalls"),
        (rf"^({_CPU_STATES})\d*$", "counter", "jiffies", None),
        (r"^(context_switches|processes|intr|softirq_count|ctxt)$", "counter", "events", None),
        (r"^(procs_running|procs_blocked|cpu_enabled)$", "gauge", "", None),
        (r"^load(avg)?_?\d+(min)?$", "gauge", "", None),
        (r"^(pgpgin|pgpgout|pswpin|pswpout|pgfault|pgmajfault|pgsteal\w*|pgscan\w*)$", "counter", "pages", None),
        (r"^nr_", "gauge", "pages", None),
        (
            r"^(Mem\w+|Swap\w+|Buffers|Cached|SwapCached|Active.*|Inactive.*|Unevictable|Mlocked|Dirty|"
            r"Writeback\w*|AnonPages|Mapped|Shmem\w*|Slab|SReclaimable|SUnreclaim|KernelStack|PageTables|"
            r"NFS_Unstable|Bounce|CommitLimit|Committed_AS|Vmalloc\w+|AnonHugePages|DirectMap\w+|Hugepagesize)$",
            "gauge",
            "kB",
            None,
        ),
        (r"^HugePages_", "gauge", "pages", None),
        (r"(rx|tx)_?(bytes|octets)", "counter", "bytes", None),
        (r"(rx|tx)_?(packets|pkts)", "counter", "packets", None),
        (r"_seconds_total$", "counter", "s", None),
        (r"_bytes_total$", "counter", "bytes", None),
        (r"_total$", "counter", "", None),
        (r"_bytes$", "gauge", "bytes", None),
    ]
]


@dataclass(frozen=True)
class MetricInfo:
    """One column of a samples table and where it came from.

    Attributes
    ----------
    column : str
        The samples column (``read_bytes_llite_scratch_per_s``).
    source : str
        The metric as the input named it (``read_bytes#llite.scratch``).
    sampler : str
        The LDMS sampler (file set) it came from, or ``""``.
    kind : str
        ``"counter"`` (cumulative; the column holds its per-second rate) or ``"gauge"``.
    unit : str
        Unit of the column's values (``bytes/s`` for a byte counter's rate, ``kB`` for a gauge).
    role : str or None
        A key of :data:`ROLES` when features aggregate it.
    """

    column: str
    source: str
    sampler: str
    kind: str
    unit: str
    role: str | None = None

    def to_dict(self) -> dict:
        """The info as plain JSON-able values."""
        return asdict(self)


def _base_name(name: str) -> str:
    base = name.split("#", 1)[0]
    base = re.sub(r"\.(sum|value)$", "", base)
    return base


def output_name(name: str, kind: str) -> str:
    """The samples column for metric ``name``: safe characters, ``_per_s`` on a counter's rate.

    Examples
    --------
    >>> output_name("read_bytes#llite.scratch", "counter")
    'read_bytes_llite_scratch_per_s'
    >>> output_name("MemFree", "gauge")
    'MemFree'
    """
    clean = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_") or "metric"
    return f"{clean}_per_s" if kind == "counter" else clean


def describe_metric(
    name: str,
    *,
    sampler: str = "",
    overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> MetricInfo:
    """Say what metric ``name`` is, from the built-in table, then ``overrides``.

    Parameters
    ----------
    name : str
        The metric as the input names it.
    sampler : str
        The sampler it came from (kept in the info).
    overrides : mapping, optional
        ``{name: {"kind": ..., "unit": ..., "role": ...}}``; any key given replaces the guess.

    Examples
    --------
    >>> describe_metric("write_bytes#llite.scratch").role
    'fs_write_bytes'
    >>> describe_metric("MemFree").unit, describe_metric("user3").kind
    ('kB', 'counter')
    >>> describe_metric("temp_c", overrides={"temp_c": {"unit": "C"}}).unit
    'C'
    """
    kind, unit, role = "gauge", "", None
    base = _base_name(name)
    for pattern, p_kind, p_unit, p_role in _PATTERNS:
        if pattern.search(base):
            kind, unit, role = p_kind, p_unit, p_role
            break
    info = MetricInfo(output_name(name, kind), name, sampler, kind, unit, role)
    extra = (overrides or {}).get(name)
    if extra:
        bad = set(extra) - {"kind", "unit", "role"}
        if bad:
            raise ParameterError("metrics", "a mapping of name → {kind, unit, role}", dict(extra))
        kind = extra.get("kind", info.kind)
        if kind not in ("counter", "gauge"):
            raise ParameterError(f"metrics[{name!r}]['kind']", "'counter' or 'gauge'", kind)
        role = extra.get("role", info.role)
        if role is not None and role not in ROLES:
            raise ParameterError(f"metrics[{name!r}]['role']", f"one of {sorted(ROLES)} or None", role)
        info = replace(info, kind=kind, unit=extra.get("unit", info.unit), role=role, column=output_name(name, kind))
    if info.kind == "counter" and "/s" not in info.unit:
        info = replace(info, unit=f"{info.unit or 'count'}/s")
    return info
