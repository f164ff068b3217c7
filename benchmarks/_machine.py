"""One line describing the machine a benchmark ran on, and the memory of a process tree."""

import os
import platform


def describe_machine() -> str:
    """CPU model, cores, memory and Python, e.g. for a benchmark table's caption."""
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gib = float("nan")
    return f"{model}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}"


def tree_rss(proc) -> int:
    """Resident bytes of ``proc`` (a ``psutil.Process``) and all its children (Dask workers)."""
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total
