"""What was planted: the runtime model, its per-application effect sizes, and the noise floor."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import EPOCH, World
from .effects import (APPS, CONTROL_APPS, FS_BYTES_PER_S_PER_NODE, NOISE_SD, STALL_BASE, STALL_SLOPE, U_REF,
                      apps_table, expected_relative_mae)

__all__ = ["truth_document", "truth_jobs"]

TRUTH_JOB_COLUMNS = ["job_id", "app", "user", "control", "state", "nodes", "submit_s", "eligible_s", "start_s", "end_s", "base_s",
                     "congestion", "io_load", "groups_spanned", "slowdown", "noise", "runtime_s"]


def truth_jobs(jobs: pd.DataFrame) -> pd.DataFrame:
    """One row per job: the planted state at its start, its slowdown and noise (times in s after the start)."""
    jid = np.where(jobs.array_job >= 0, jobs.array_job.astype(str) + "_" + jobs.array_task.astype(str),
                   jobs.job_raw.astype(str))
    return jobs.assign(job_id=jid, nodes=jobs.nodes)[TRUTH_JOB_COLUMNS]


def _log_sd(x: np.ndarray) -> float:
    return float(np.std(np.log(x))) if len(x) > 1 else 0.0


def _control_effects(world: World, jobs: pd.DataFrame) -> dict:
    done = jobs[jobs.control & (jobs.state == "COMPLETED")]
    out = {}
    for app in CONTROL_APPS:
        a, rows = APPS[app], done[done.app == app]
        clean = rows.base_s * rows.slowdown  # what an oracle that misses only the noise would predict
        out[app] = {
            "nodes": dict(world.control_nodes)[app],
            "base_runtime_s": a.base_s,
            "runs_completed": int(len(rows)),
            "sensitivity": {"network_congestion": a.s_net, "filesystem_contention": a.s_io,
                            "placement_spread": a.s_spread},
            # Spread of log runtime each cause produced in this run: their realised importance.
            "realised_log_sd": {
                "network_congestion": _log_sd(1 + a.s_net * rows.congestion.to_numpy()),
                "filesystem_contention": _log_sd(1 + a.s_io * rows.io_load.to_numpy()),
                "placement_spread": _log_sd(1 + a.s_spread * (rows.groups_spanned.to_numpy() - 1)),
                "noise": float(np.std(rows.noise)) if len(rows) > 1 else 0.0,
            },
            "runtime_s": {"mean": float(rows.runtime_s.mean()) if len(rows) else None,
                          "min": float(rows.runtime_s.min()) if len(rows) else None,
                          "max": float(rows.runtime_s.max()) if len(rows) else None},
            "oracle_mae_s": float(np.mean(np.abs(rows.runtime_s - clean))) if len(rows) else None,
            "oracle_relative_mae": float(np.mean(np.abs(rows.runtime_s / clean - 1))) if len(rows) else None,
        }
    return out


def truth_document(world: World, jobs: pd.DataFrame, resets: np.ndarray, *, seed: int) -> dict:
    """The content of ``truth.json`` (see ``docs/simulator.md``)."""
    done = jobs[jobs.control & (jobs.state == "COMPLETED")]
    clean = done.base_s * done.slowdown
    host, sample = np.nonzero(resets)
    when = EPOCH + pd.to_timedelta((sample + 1) * world.sample_s, unit="s")
    return {
        "format_version": 1,
        "seed": seed,
        "world": {"preset": world.name, "nodes": world.nodes, "days": world.days, "start": EPOCH.isoformat(),
                  "end": (EPOCH + pd.Timedelta(seconds=world.duration_s)).isoformat(),
                  "sample_interval_s": world.sample_s, "hosts_per_router": world.hosts_per_router,
                  "routers_per_group": world.routers_per_group, "groups": world.groups,
                  "cores_per_node": world.cores_per_node, "mem_per_node_gib": world.mem_per_node_gib,
                  "control_every_h": world.control_every_h},
        "runtime_model": ("runtime = base * (1 + s_net * congestion) * (1 + s_io * io_load) "
                          "* (1 + s_spread * (groups_spanned - 1)) * exp(noise), noise ~ N(0, noise.sd_log); "
                          "state taken at the job's start, from the other running jobs"),
        "effects": {
            "network_congestion": {
                "family": "network",
                "definition": f"mean over the job's hosts of (u_g / {U_REF})**2, u_g = mean network intensity of the "
                              "other jobs on the hosts of the host's dragonfly group g",
                "visible_in": "aries_rtr_mmr and aries_nic_mmr stall/flit ratios of the groups the job spans: "
                              f"stalls per flit = {STALL_BASE} + {STALL_SLOPE} * congestion",
                "stall_base": STALL_BASE, "stall_slope": STALL_SLOPE, "u_ref": U_REF},
            "filesystem_contention": {
                "family": "filesystem",
                "definition": "bytes/s read+written by the other running jobs / file-system capacity",
                "capacity_bytes_per_s": FS_BYTES_PER_S_PER_NODE * world.nodes,
                "visible_in": "lustre_client read_bytes + write_bytes summed over all hosts, per second"},
            "placement_spread": {
                "family": "placement",
                "definition": "number of dragonfly groups among the job's hosts (topology.csv)",
                "visible_in": "NodeList in sacct.txt joined with topology.csv"},
        },
        "families_without_planted_effect": ["memory", "cpu"],
        "apps": apps_table(),
        "control": _control_effects(world, jobs),
        "noise": {
            "sd_log": NOISE_SD,
            "expected_relative_mae": expected_relative_mae(NOISE_SD),
            "control_oracle_mae_s": float(np.mean(np.abs(done.runtime_s - clean))) if len(done) else None,
            "control_oracle_relative_mae": float(np.mean(np.abs(done.runtime_s / clean - 1))) if len(done) else None,
            "note": "an oracle knowing base, slowdown and all but the noise has this error on COMPLETED control jobs; "
                    "no model can do better on average",
        },
        "resets": [{"host": f"nid{h:05d}", "time": t.isoformat()} for h, t in zip(host, when, strict=True)],
        "counts": {"jobs": int(len(jobs)), "control_jobs": int(jobs.control.sum()),
                   "states": {k: int(v) for k, v in jobs.state.value_counts().sort_index().items()}},
    }
