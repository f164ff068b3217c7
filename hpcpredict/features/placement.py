"""Placement features: how widely a job's nodes are spread over the network (known at start).

Costello & Bhatele found that jobs spanning more dragonfly groups see more inter-job network
interference; the topology table (``component`` → ``router``, ``group``, ``cabinet``) and the
job's ``nodelist`` give the spread.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .registry import register

__all__ = ["placement_features"]

_LEVELS = ("router", "group", "cabinet")
for _level in _LEVELS:
    register(f"placement_{_level}s", "placement", "start", f"number of distinct {_level}s the job's nodes span")
register("placement_unknown_hosts", "placement", "start", "job nodes missing from the topology")


def placement_features(jobs: pd.DataFrame, topology: pd.DataFrame | None) -> pd.DataFrame:
    """Count the routers, groups and cabinets each job's nodes span.

    Parameters
    ----------
    jobs : DataFrame
        Canonical jobs table with ``nodelist`` (lists of host names).
    topology : DataFrame, optional
        From :func:`hpcpredict.ingest.read_topology` (a ``host`` column is accepted too).

    Returns
    -------
    DataFrame
        ``placement_routers``, ``placement_groups``, ``placement_cabinets`` (those the topology
        has) and ``placement_unknown_hosts``, aligned with ``jobs.index``; NaN without a nodelist.

    Examples
    --------
    >>> placement_features(jobs, topo)["placement_groups"].max()  # doctest: +SKIP
    4.0
    """
    out = pd.DataFrame(index=jobs.index)
    if topology is None or not len(topology):
        return out
    topo = topology.rename(columns={"host": "component"}) if "component" not in topology.columns else topology
    levels = [c for c in _LEVELS if c in topo.columns]
    nodes = pd.Series(jobs["nodelist"].to_numpy(object), index=np.arange(len(jobs)))
    has = nodes.map(lambda v: isinstance(v, (list, tuple, np.ndarray)) and len(v) > 0).to_numpy(bool)
    flat = nodes[has].explode().dropna().astype(str)
    pairs = pd.DataFrame({"job": flat.index.to_numpy(), "component": flat.to_numpy()}).drop_duplicates()
    pairs = pairs.merge(topo[["component", *levels]].astype({"component": str}), on="component", how="left")
    known = pairs[levels[0]].notna() if levels else pd.Series(False, index=pairs.index)
    grouped = pairs.groupby("job")
    for level in levels:
        counts = grouped[level].nunique().reindex(np.arange(len(jobs)))
        out[f"placement_{level}s"] = np.where(has, counts.fillna(0).to_numpy(), np.nan)
    unknown = (~known).groupby(pairs["job"]).sum().reindex(np.arange(len(jobs))).fillna(0)
    out["placement_unknown_hosts"] = np.where(has, unknown.to_numpy(float), np.nan)
    return out
