"""FCFS with EASY backfilling on a set of hosts: waits and placement emerge, they are not drawn.

The loop is event-driven (submissions, ends, cancellations of waiting jobs). At each event the
queue head starts if enough hosts are free; otherwise it gets a reservation (the *shadow time*,
when enough running jobs will have reached their time limits) and later jobs may start now if
they fit in the free hosts and either end before the shadow time or use only the hosts the head
will not need then (EASY, Lifka 1995). Hosts are taken lowest-numbered first (Slurm's linear
order without a topology plugin), so jobs span more dragonfly groups as the machine fragments.
A job's runtime is fixed when it starts, from the planted effects (:mod:`.effects`), which use
moving averages of the groups' network load and the file system's load, updated at every event.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

from .config import Topology, World
from .effects import APPS, FS_BYTES_PER_S_PER_NODE, TAU_S, congestion_of, slowdown

__all__ = ["run_scheduler"]

STATE_CODES = ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "RUNNING", "PENDING")


def run_scheduler(world: World, topo: Topology, jobs: pd.DataFrame, noise: np.ndarray) -> tuple[pd.DataFrame, list]:
    """Schedule ``jobs`` (queued FCFS as they become eligible); return them with their fate, and their hosts.

    Added columns: ``start_s``, ``end_s`` (-1 when not started / still running at the end),
    ``state``, ``cancelled`` (cancelled by its user, running or waiting), ``congestion``,
    ``io_load``, ``groups_spanned``, ``slowdown``, ``runtime_s`` (what the run would take without
    failure, cancellation or limit), ``reservation_s`` (the first shadow time the job got as queue
    head, -1 if it never waited at the head). The list holds each job's host indices (empty if none).
    """
    n_jobs = len(jobs)
    submit = jobs.submit_s.to_numpy()
    eligible = jobs.eligible_s.to_numpy()
    arrival = np.argsort(eligible, kind="stable")  # a job enters the queue when it becomes eligible
    need = jobs.nodes.to_numpy()
    limit = jobs.limit_s.to_numpy()
    base = jobs.base_s.to_numpy()
    net = jobs.net.to_numpy()
    io = (jobs.read_bytes_s.to_numpy() + jobs.write_bytes_s.to_numpy())
    fail = jobs.fail_frac.to_numpy()
    cancel_run = jobs.cancel_run_frac.to_numpy()
    cancel_wait = jobs.cancel_wait_s.to_numpy()
    apps = [APPS[a] for a in jobs.app.to_numpy()]

    start = np.full(n_jobs, -1, np.int64)
    end = np.full(n_jobs, -1, np.int64)
    state = np.full(n_jobs, "PENDING", object)
    cancelled = np.zeros(n_jobs, bool)
    congestion = np.full(n_jobs, np.nan)
    io_load = np.full(n_jobs, np.nan)
    spans = np.zeros(n_jobs, np.int64)
    slow = np.full(n_jobs, np.nan)
    runtime = np.full(n_jobs, np.nan)
    reservation = np.full(n_jobs, -1, np.int64)
    hosts_of: list = [np.empty(0, np.int64)] * n_jobs

    free = np.ones(world.nodes, bool)
    n_free = world.nodes
    group = topo.group
    hpg = world.hosts_per_group
    group_net = np.zeros(world.groups)  # sum of network intensity of the jobs on each group's hosts
    io_total = 0.0  # bytes/s of all running jobs
    ema_c = np.zeros(world.groups)  # moving average of each group's congestion index
    ema_io = 0.0  # moving average of io_total
    t_prev = 0
    capacity = FS_BYTES_PER_S_PER_NODE * world.nodes
    horizon = world.duration_s

    ends: list = []  # (end time, job)
    cancels = [(int(eligible[j] + cancel_wait[j]), j) for j in np.flatnonzero(~np.isnan(cancel_wait))]
    heapq.heapify(cancels)
    running: dict[int, int] = {}  # job → start + limit, for reservations
    queue: list[int] = []
    next_sub = 0

    def begin(j: int, t: int) -> None:
        nonlocal n_free, io_total
        hosts = np.flatnonzero(free)[: need[j]]
        counts = np.bincount(group[hosts], minlength=world.groups)
        congestion[j] = float(counts @ ema_c) / need[j]
        io_load[j] = ema_io / capacity
        spans[j] = int(np.count_nonzero(counts))
        slow[j] = slowdown(apps[j], congestion=congestion[j], io_load=io_load[j], groups_spanned=spans[j])
        runtime[j] = base[j] * slow[j] * np.exp(noise[j])
        duration, fate = runtime[j], "COMPLETED"
        if not np.isnan(fail[j]):
            duration, fate = runtime[j] * fail[j], "FAILED"
        elif not np.isnan(cancel_run[j]):
            duration, fate = runtime[j] * cancel_run[j], "CANCELLED"
        if duration > limit[j]:
            duration, fate = limit[j], "TIMEOUT"
        duration = max(1, int(round(duration)))
        state[j], cancelled[j] = fate, fate == "CANCELLED"
        start[j], end[j] = t, t + duration
        hosts_of[j] = hosts
        free[hosts] = False
        n_free -= need[j]
        group_net[:] += counts * net[j]
        io_total += io[j] * need[j]
        running[j] = t + limit[j]
        heapq.heappush(ends, (t + duration, j))

    def finish(j: int) -> None:
        nonlocal n_free, io_total
        hosts = hosts_of[j]
        free[hosts] = True
        n_free += need[j]
        group_net[:] -= np.bincount(group[hosts], minlength=world.groups) * net[j]
        np.maximum(group_net, 0.0, out=group_net)  # float round-off only
        io_total = max(0.0, io_total - io[j] * need[j])
        del running[j]

    def schedule(t: int) -> None:
        while queue and need[queue[0]] <= n_free:
            begin(queue.pop(0), t)
        if not queue:
            return
        head = queue[0]
        avail, shadow = n_free, None
        for exp_end, j in sorted((e, j) for j, e in running.items()):
            avail += need[j]
            if avail >= need[head]:
                shadow = exp_end
                break
        extra = avail - need[head]
        if reservation[head] < 0:
            reservation[head] = shadow
        started = []
        for j in queue[1: 1 + world.backfill_depth]:
            if need[j] > n_free:
                continue
            if t + limit[j] <= shadow:
                begin(j, t)
                started.append(j)
            elif need[j] <= extra:
                extra -= need[j]
                begin(j, t)
                started.append(j)
        for j in started:
            queue.remove(j)

    while True:
        t_sub = eligible[arrival[next_sub]] if next_sub < n_jobs else horizon
        t_end = ends[0][0] if ends else horizon
        t_can = cancels[0][0] if cancels else horizon
        t = min(t_sub, t_end, t_can)
        if t >= horizon:
            break
        # The state was constant since the last event: the moving averages relax towards it exactly.
        keep = np.exp(-(t - t_prev) / TAU_S)
        ema_c = keep * ema_c + (1 - keep) * congestion_of(group_net / hpg)
        ema_io = keep * ema_io + (1 - keep) * io_total
        t_prev = t
        while ends and ends[0][0] == t:
            finish(heapq.heappop(ends)[1])
        while cancels and cancels[0][0] == t:
            j = heapq.heappop(cancels)[1]
            if start[j] < 0 and j in queue:  # still waiting: the user gives up
                queue.remove(j)
                state[j], cancelled[j], end[j] = "CANCELLED", True, t
        while next_sub < n_jobs and eligible[arrival[next_sub]] == t:
            queue.append(arrival[next_sub])
            next_sub += 1
        schedule(t)

    still = end >= horizon
    state[still & (start >= 0)] = "RUNNING"
    end[still] = -1
    out = jobs.assign(start_s=start, end_s=end, state=state, cancelled=cancelled, congestion=congestion,
                      io_load=io_load, groups_spanned=spans, slowdown=slow, runtime_s=runtime,
                      reservation_s=reservation)
    return out, hosts_of
