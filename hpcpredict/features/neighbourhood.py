"""Network state where a job lands: stalls and flits in the dragonfly groups it spans, before it starts.

System-wide network totals blur what matters to one job: congestion is local to the groups whose
links its traffic crosses (Costello & Bhatele read the router counters on the job's own routers
for the same reason). Per group and time bucket, the samples' stall and flit totals are computed
once (one DuckDB ``GROUP BY`` over samples joined with the topology), turned into prefix sums per
group, and each job's look-back window is answered with two lookups per group it spans. The
groups come from the job's node list, so these features exist at the ``start`` horizon. Windows
cover the whole buckets inside ``[start - w, start)``: nothing stamped at or after the start is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._samples import SampleSource, open_samples, to_seconds, window_bounds
from .registry import register

__all__ = ["NEIGHBOURHOOD_WINDOWS", "neighbourhood_features"]

#: Look-back windows: label → seconds.
NEIGHBOURHOOD_WINDOWS = {"15m": 900, "1h": 3600}

for _w in NEIGHBOURHOOD_WINDOWS:
    register(f"group_net_stall_flit_ratio_{_w}_at_start", "placement_net", "start", f"network stalls per flit in the job's dragonfly groups in the {_w} before start")
    register(f"group_net_stalls_per_s_{_w}_at_start", "placement_net", "start", f"network stalls per second in the job's dragonfly groups in the {_w} before start")


def neighbourhood_features(jobs: pd.DataFrame, samples, topology: pd.DataFrame | None) -> pd.DataFrame:
    """Stall-to-flit ratio and stall rate in the groups of each job's nodes, before its start.

    Parameters
    ----------
    jobs : DataFrame
        Canonical jobs table with ``nodelist`` and ``start_time``.
    samples : path, DataFrame or SampleSource
        Samples with the ``net_stalls`` and ``net_flits`` roles.
    topology : DataFrame, optional
        ``component`` (or ``host``) → ``group``.

    Returns
    -------
    DataFrame
        ``group_net_stall_flit_ratio_<w>_at_start`` and ``group_net_stalls_per_s_<w>_at_start``,
        aligned with ``jobs.index``; empty without topology, samples or network roles, NaN for
        jobs without a node list or without samples in the window.
    """
    out = pd.DataFrame(index=jobs.index)
    source = samples if isinstance(samples, SampleSource) else open_samples(samples)
    if source is None or topology is None or "group" not in topology.columns or not {"net_stalls", "net_flits"} <= set(source.roles):
        return out
    topo = topology.rename(columns={"host": "component"}) if "component" not in topology.columns else topology
    groups = pd.Index(sorted(topo["group"].dropna().astype(str).unique()))
    prefixes = _group_prefix_sums(source, topo, groups)
    if prefixes is None:
        return out
    k0, stalls, flits = prefixes
    pairs = _job_groups(jobs, topo, groups)
    h = to_seconds(jobs["start_time"])[pairs["job"].to_numpy()]
    n = stalls.shape[1] - 1
    for label, width in NEIGHBOURHOOD_WINDOWS.items():
        i_lo, i_hi = window_bounds(h, width, k0=k0, n=n, bucket_s=source.bucket_s)
        g = pairs["group"].to_numpy()
        per_pair = pd.DataFrame(
            {
                "job": pairs["job"].to_numpy(),
                "stalls": stalls[g, i_hi] - stalls[g, i_lo],
                "flits": flits[g, i_hi] - flits[g, i_lo],
                "buckets": np.where(np.isnan(h), 0.0, (i_hi - i_lo).astype(float)),
            }
        )
        per_job = per_pair.groupby("job").sum().reindex(np.arange(len(jobs)))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(per_job["flits"] > 0, per_job["stalls"] / per_job["flits"], np.nan)
            # Samples hold per-second rates, one per host and bucket: their sum over a group's hosts
            # is the group's rate. "buckets" is summed over the job's groups, so this is the mean
            # rate per group, comparable between jobs spanning one group or several.
            rate = np.where(per_job["buckets"] > 0, per_job["stalls"] / per_job["buckets"], np.nan)
        out[f"group_net_stall_flit_ratio_{label}_at_start"] = ratio
        out[f"group_net_stalls_per_s_{label}_at_start"] = rate
    return out


def _group_prefix_sums(source: SampleSource, topo: pd.DataFrame, groups: pd.Index):
    """(first bucket, stalls[group, i], flits[group, i]) prefix sums over buckets, or None."""
    mapping = pd.DataFrame({"component": topo["component"].astype(str), "g": groups.get_indexer(topo["group"].astype(str))})
    source.con.register("hpcpredict_topology", mapping[mapping["g"] >= 0])
    sql = (
        f"SELECT t.g AS g, s.k AS k, sum(s.st) AS st, sum(s.fl) AS fl FROM "
        f"(SELECT CAST(component AS VARCHAR) AS component, {source.bucket_sql()} AS k, "
        f"{source.role_sql('net_stalls')} AS st, {source.role_sql('net_flits')} AS fl FROM {source.relation}) s "
        f"JOIN hpcpredict_topology t ON s.component = t.component GROUP BY t.g, s.k"
    )
    res = source.con.execute(sql).fetchnumpy()
    if not len(res["k"]):
        return None
    k = np.asarray(res["k"], dtype=np.int64)
    g = np.asarray(res["g"], dtype=np.int64)
    k0, n = int(k.min()), int(k.max()) - int(k.min()) + 1
    dense = {}
    for key in ("st", "fl"):
        values = np.ma.filled(np.ma.asarray(res[key]).astype("float64"), 0.0)
        grid = np.zeros((len(groups), n + 1))
        np.add.at(grid, (g, k - k0 + 1), values)
        dense[key] = np.cumsum(grid, axis=1)
    return k0, dense["st"], dense["fl"]


def _job_groups(jobs: pd.DataFrame, topo: pd.DataFrame, groups: pd.Index) -> pd.DataFrame:
    """One row per (job position, group index) the job's nodes lie in."""
    nodes = pd.Series(jobs["nodelist"].to_numpy(object), index=np.arange(len(jobs)))
    has = nodes.map(lambda v: isinstance(v, (list, tuple, np.ndarray)) and len(v) > 0).to_numpy(bool)
    flat = nodes[has].explode().dropna().astype(str)
    host_group = pd.Series(groups.get_indexer(topo["group"].astype(str)), index=topo["component"].astype(str))
    pairs = pd.DataFrame({"job": flat.index.to_numpy(), "group": host_group.reindex(flat.to_numpy()).to_numpy()})
    return pairs[pairs["group"].notna() & (pairs["group"] >= 0)].astype({"group": np.int64}).drop_duplicates()
