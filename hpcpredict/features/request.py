"""Request features: what the user asked for, known at submit time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .registry import register

__all__ = ["request_features"]

_NUMERIC = {
    "req_nodes": "nodes requested",
    "req_cpus": "CPUs requested",
    "req_mem_bytes": "memory requested (bytes)",
    "time_limit_s": "requested time limit",
    "req_cpu_hours": "CPU-hours requested (CPUs x time limit)",
}
# User and account identities are left out on purpose: as categories they overfit a temporal
# split (users come and go); the history family carries what a user's past says instead.
_CATEGORICAL = {
    "partition": "partition or queue",
    "qos": "quality of service",
    "app": "application",
}
for _name, _text in _NUMERIC.items():
    register(_name, "request", "submit", _text)
for _name, _text in _CATEGORICAL.items():
    register(_name, "request", "submit", _text, kind="categorical")


def request_features(jobs: pd.DataFrame) -> pd.DataFrame:
    """Numeric request sizes and the categorical partition, QOS and application of the job."""
    out = pd.DataFrame(index=jobs.index)
    for name in ("req_nodes", "req_cpus", "req_mem_bytes", "time_limit_s"):
        out[name] = pd.to_numeric(jobs[name], errors="coerce").astype("float64")
    cpus = out["req_cpus"].where(out["req_cpus"].notna(), out["req_nodes"])
    out["req_cpu_hours"] = cpus * out["time_limit_s"] / 3600.0
    for name in _CATEGORICAL:
        out[name] = jobs[name].astype("string").astype("category")
    return out.replace([np.inf, -np.inf], np.nan)
