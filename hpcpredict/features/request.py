"""Request features: what the user asked for, known at submit time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .registry import register

__all__ = ["request_arrays", "request_features"]

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


def request_arrays(req_nodes, req_cpus, req_mem_bytes, time_limit_s) -> dict[str, np.ndarray]:
    """The numeric request features from float arrays (NaN = unknown); shared with the online path."""
    nodes, cpus = np.asarray(req_nodes, float), np.asarray(req_cpus, float)
    limit = np.asarray(time_limit_s, float)
    with np.errstate(invalid="ignore", over="ignore"):
        cpu_hours = np.where(np.isnan(cpus), nodes, cpus) * limit / 3600.0
    out = {"req_nodes": nodes, "req_cpus": cpus, "req_mem_bytes": np.asarray(req_mem_bytes, float), "time_limit_s": limit, "req_cpu_hours": cpu_hours}
    return {k: np.where(np.isinf(v), np.nan, v) for k, v in out.items()}


def request_features(jobs: pd.DataFrame) -> pd.DataFrame:
    """Numeric request sizes and the categorical partition, QOS and application of the job."""
    numeric = {name: pd.to_numeric(jobs[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan) for name in ("req_nodes", "req_cpus", "req_mem_bytes", "time_limit_s")}
    out = pd.DataFrame(request_arrays(**numeric), index=jobs.index)
    for name in _CATEGORICAL:
        out[name] = jobs[name].astype("string").astype("category")
    return out
