"""Who submits what and when: users with habits, daily and weekly cycles, control jobs.

Users keep habits: a few applications each, a usual node count, a usual runtime per application
(repeating with modest spread), and a way of requesting time limits (most overestimate, a few ask
for the partition maximum, a few underestimate and meet TIMEOUTs). Arrivals follow a daily cycle
(busy working hours) and a weekly one (quiet weekends). Control applications run at fixed sizes,
submitted cron-like every few hours, as in Costello & Bhatele.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .config import World
from .effects import APPS, CONTROL_APPS, USER_APPS

__all__ = ["make_jobs", "arrival_weight"]

FIRST_JOB_ID = 100001
REGULAR_MAX_S = 24 * 3600
DEBUG_MAX_S = 1800
SLOWDOWN_GUESS = 1.6
NIGHT_HOLD_P = 0.05
CONTROL_USER, CONTROL_UID, CONTROL_ACCOUNT = "perfmon", 20000, "perfctl"


def arrival_weight(t_s: np.ndarray) -> np.ndarray:
    """Relative submission rate at ``t_s`` seconds after Monday 00:00 (daily and weekly cycles).

    Examples
    --------
    >>> w = arrival_weight(np.array([3 * 3600, 14 * 3600, 5 * 86400 + 14 * 3600]))
    >>> bool(w[1] > w[0] and w[1] > w[2])  # weekday afternoon beats night and Saturday
    True
    """
    hour = (t_s % 86400) / 3600.0
    weekday = (t_s // 86400) % 7
    daily = 0.35 + np.exp(-0.5 * ((hour - 14.0) / 3.5) ** 2)
    weekly = np.where(weekday >= 5, 0.45, 1.0)
    return daily * weekly


def _users(world: World, rng: np.random.Generator) -> pd.DataFrame:
    n = int(np.clip(world.nodes // 3, 8, 300))
    max_nodes = max(1, int(world.nodes * world.max_user_nodes_fraction))
    sizes = 2 ** np.arange(int(np.log2(max_nodes)) + 1)
    size_p = 1.0 / (1.0 + np.arange(len(sizes))) ** 1.5  # most jobs are small, as on real machines
    style = rng.choice(["over", "max", "under"], size=n, p=[0.8, 0.1, 0.1])
    return pd.DataFrame({
        "user": [f"u{i:03d}" for i in range(n)],
        "uid": 10001 + np.arange(n),
        "account": [f"prj{i:02d}" for i in rng.integers(0, max(2, n // 4), size=n)],
        "activity": rng.lognormal(0.0, 1.0, size=n),
        "nodes": rng.choice(sizes, size=n, p=size_p / size_p.sum()),
        "limit_style": style,
        "limit_factor": np.where(style == "under", rng.uniform(0.9, 1.15, n), 1.5 + rng.lognormal(0.0, 0.6, n)),
        "array_p": np.where(rng.random(n) < 0.2, rng.uniform(0.3, 0.8, n), 0.0),
        "fail_p": rng.uniform(0.0, 0.08, n),
    })


def _habits(users: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """(user, app) pairs with the usual runtime of each."""
    rows = []
    for u in range(len(users)):
        k = rng.integers(1, 4)
        for app in rng.choice(USER_APPS, size=k, replace=False):
            usual = float(np.clip(rng.lognormal(np.log(2 * 3600), 1.0), 300, 20 * 3600))
            # Analytics on one or two nodes regardless of the user's usual size.
            nodes = int(min(users.nodes[u], 2)) if app == "python" else int(users.nodes[u])
            rows.append((u, str(app), usual, nodes, rng.random() + 0.05))
    return pd.DataFrame(rows, columns=["u", "app", "usual_s", "nodes", "weight"])


def _times(world: World, n: int, rng: np.random.Generator) -> np.ndarray:
    grid = np.arange(0, world.duration_s, 60)
    cdf = np.cumsum(arrival_weight(grid))
    cdf /= cdf[-1]
    t = np.interp(rng.random(n), np.concatenate([[0.0], cdf]), np.concatenate([grid, [world.duration_s]]))
    return np.sort(t.astype(np.int64))


def _round_limit(seconds: np.ndarray, top: float) -> np.ndarray:
    return np.clip(np.ceil(seconds / 900.0) * 900.0, 900.0, top)


def _user_jobs(world: World, rng: np.random.Generator) -> pd.DataFrame:
    users = _users(world, rng)
    habits = _habits(users, rng)
    p = habits.weight.to_numpy() * users.activity.to_numpy()[habits.u]
    p /= p.sum()
    # Draw a generous pool of jobs, then keep the first ones until the node-seconds they demand
    # (with the mean planted slowdown) plus the control jobs' reach the target utilisation. Cutting
    # the realised demand, rather than estimating a rate, keeps the load steady from seed to seed.
    probe = rng.choice(len(habits), size=4000, p=p)
    node_s = (habits.nodes.to_numpy()[probe] * habits.usual_s.to_numpy()[probe] * SLOWDOWN_GUESS).mean()
    control = sum(n * APPS[a].base_s * SLOWDOWN_GUESS for a, n in world.control_nodes) / (world.control_every_h * 3600)
    wanted = max(0.05, world.target_utilisation - control / world.nodes) * world.nodes * world.duration_s
    n = max(50, int(3 * wanted / node_s))
    h = rng.choice(len(habits), size=n, p=p)
    u = habits.u.to_numpy()[h]
    usual = habits.usual_s.to_numpy()[h]
    nodes = habits.nodes.to_numpy()[h] * rng.choice([0.5, 1, 2], size=n, p=[0.1, 0.8, 0.1])
    max_nodes = max(1, int(world.nodes * world.max_user_nodes_fraction))
    nodes = np.clip(np.round(nodes), 1, max_nodes).astype(np.int64)
    base = usual * rng.lognormal(0.0, 0.35, size=n)
    debug = (usual < 1200) & (nodes <= 4)
    top = np.where(debug, DEBUG_MAX_S, REGULAR_MAX_S)
    style = users.limit_style.to_numpy()[u]
    limit = np.where(style == "max", top, _round_limit(usual * users.limit_factor.to_numpy()[u], REGULAR_MAX_S))
    limit = np.minimum(limit, top)
    array_size = np.where(rng.random(n) < users.array_p.to_numpy()[u], rng.integers(2, 9, n), 1)
    nodes = np.where(array_size > 1, 1, nodes)  # an array's tasks are small copies: one node, the same limit
    demand = np.cumsum(nodes * array_size * np.minimum(base * SLOWDOWN_GUESS, limit))
    n = int(np.searchsorted(demand, wanted)) + 1
    jobs = pd.DataFrame({
        "submit_s": _times(world, n, rng),
        "u": u[:n],
        "app": habits.app.to_numpy()[h[:n]],
        "nodes": nodes[:n],
        "limit_s": limit[:n].astype(np.int64),
        "base_s": base[:n],
        "partition": np.where(debug[:n], "debug", "regular"),
        "qos": np.where(debug[:n], "debug", "normal"),
        "control": False,
        "fail_frac": np.where(rng.random(n) < users.fail_p.to_numpy()[u[:n]], rng.uniform(0.01, 0.6, n), np.nan),
        "cancel_run_frac": np.where(rng.random(n) < 0.02, rng.uniform(0.05, 0.9, n), np.nan),
        "cancel_wait_s": np.where(rng.random(n) < 0.03, rng.uniform(1800, 6 * 3600, n), np.nan),
        "array_size": array_size[:n],
    })
    # Some runs are held for the night (sbatch --begin=20:00): submitted in the working day, eligible at 20:00.
    hour = (jobs.submit_s % 86400) / 3600
    night = (rng.random(n) < NIGHT_HOLD_P) & (hour >= 9) & (hour < 20)
    jobs["eligible_s"] = np.where(night, jobs.submit_s - jobs.submit_s % 86400 + 20 * 3600, jobs.submit_s)
    jobs["user"] = users.user.to_numpy()[jobs.u]
    jobs["uid"] = users.uid.to_numpy()[jobs.u]
    jobs["account"] = users.account.to_numpy()[jobs.u]
    return jobs.drop(columns="u")


def _control_jobs(world: World, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    every = world.control_every_h * 3600
    for k, (app, nodes) in enumerate(world.control_nodes):
        starts = np.arange(k * every / len(world.control_nodes), world.duration_s - 1, every)
        jitter = rng.integers(0, 300, size=len(starts))
        for t in (starts + jitter).astype(np.int64):
            rows.append((t, app, nodes, 7200, float(APPS[app].base_s)))
    jobs = pd.DataFrame(rows, columns=["submit_s", "app", "nodes", "limit_s", "base_s"])
    jobs = jobs.assign(eligible_s=jobs.submit_s, partition="regular", qos="normal", control=True, fail_frac=np.nan, cancel_run_frac=np.nan,
                       cancel_wait_s=np.nan, array_size=1, user=CONTROL_USER, uid=CONTROL_UID, account=CONTROL_ACCOUNT)
    return jobs[jobs.submit_s < world.duration_s]


def make_jobs(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """Every submission of the simulated period, one row per job (array tasks expanded), by submit time.

    Columns: ``job_raw`` (Slurm JobIDRaw), ``array_job`` and ``array_task`` (-1 when not an array),
    ``submit_s`` (seconds after the epoch of the world), ``user``, ``uid``, ``account``,
    ``partition``, ``qos``, ``app``, ``control``, ``nodes``, ``limit_s``, ``base_s`` (runtime on an
    idle machine, before the planted effects and noise), ``fail_frac``, ``cancel_run_frac``,
    ``cancel_wait_s`` (fates decided in advance, NaN when not), and per-node resource rates.
    """
    jobs = pd.concat([_user_jobs(world, rng), _control_jobs(world, rng)], ignore_index=True)
    jobs = jobs.sort_values(["submit_s", "control"], kind="stable").reset_index(drop=True)
    size = jobs.array_size.to_numpy()
    rep = np.repeat(np.arange(len(jobs)), size)
    task = np.arange(len(rep)) - np.repeat(np.cumsum(size) - size, size)
    out = jobs.iloc[rep].reset_index(drop=True)
    out["job_raw"] = FIRST_JOB_ID + np.arange(len(out))
    first = out.job_raw.to_numpy() - task
    is_array = out.array_size.to_numpy() > 1
    out["array_job"] = np.where(is_array, first, -1)
    out["array_task"] = np.where(is_array, task, -1)
    # Tasks of an array share the submit time; each task's own base runtime varies.
    out.loc[is_array, "base_s"] = out.base_s[is_array] * rng.lognormal(0.0, 0.15, int(is_array.sum()))
    app = out.app.to_numpy()
    per_job = rng.lognormal(0.0, 0.5, len(out))
    per_job[out.control.to_numpy()] = 1.0  # control jobs do the same work every time
    out["net"] = [APPS[a].net for a in app]
    out["read_bytes_s"] = np.array([APPS[a].read_mb_s for a in app]) * 1e6 * per_job
    out["write_bytes_s"] = np.array([APPS[a].write_mb_s for a in app]) * 1e6 * per_job
    out["meta_s"] = np.array([APPS[a].meta_per_s for a in app]) * per_job
    out["cpu"] = [APPS[a].cpu for a in app]
    out["mem"] = [APPS[a].mem for a in app]
    return out.drop(columns="array_size")
