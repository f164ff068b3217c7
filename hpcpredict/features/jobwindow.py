"""Job-window features: the counters of a job's own hosts during its own run (post-mortem only).

A job's window is the whole buckets whose samples cover only its run ``[start_time, end_time]``
(:func:`~hpcpredict.features._samples.run_buckets`: a sample covers the interval ending at its
stamp) on the hosts of its ``nodelist``. Means come from prefix sums per host: time is walked in chunks of buckets, each
chunk's samples scattered into a host x bucket grid (``numpy.bincount``, no sort), summed along
time and read at the window edges of every job-host pair — the cost grows with samples plus
job-host pairs, never with jobs x window length, and memory stays at one chunk. Maximum and 95th
percentile need the values themselves: a DuckDB join of the samples to the job-host pairs, on
host and a coarse time block (so each sample meets only the few pairs around it) with the exact
bucket range as a residual condition.

Jobs are taken in blocks of ``jobs_per_block`` (sorted by start time); each block reads only
the day files of the samples folder (``samples-YYYY-MM-DD.parquet``) that overlap its jobs'
runs, or only the rows of a samples DataFrame inside them, so memory grows with one block,
not with the whole jobs table. Max and p95 are per job, so blocks cannot change them; means
equal the unblocked ones up to floating-point rounding (the prefix sums start elsewhere).
With ``dask=`` the blocks are tasks on a Dask cluster: each worker opens its own DuckDB
connection over its block's day files, which it reads from the same path as the caller (a
shared file system on a cluster); the rows of a samples DataFrame travel with their block.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..ingest.metrics import ROLES
from ..progress import progress
from ._samples import QUANTITY, SampleSource, files_between, open_samples, run_buckets, source_over, to_seconds
from .registry import register

__all__ = ["JOBS_PER_BLOCK", "STATS", "job_pairs", "job_window_features"]

#: Statistics per role over the job's host-samples.
STATS = ("mean", "max", "p95")

#: Jobs computed together by default: the job-host pairs and the max/p95 join grow with a block.
JOBS_PER_BLOCK = 20_000

_FAMILY = {"fs": "job_fs", "net": "job_net", "cpu": "job_cpu", "mem": "job_cpu"}
_BLOCK = 64  # buckets per join block: pairs span few blocks, blocks hold few pairs per host
_CHUNK_CELLS = 4_000_000  # host x bucket cells per role held at once by the prefix-sum walk

for _role, (_unit, _text) in ROLES.items():
    for _stat in STATS:
        register(f"job_{QUANTITY[_role]}_{_stat}", _FAMILY[_role.split('_', 1)[0]], "end", f"{_stat} {_text} on the job's hosts during its run")
register("job_net_stall_flit_ratio", "job_net", "end", "network stalls per flit on the job's hosts during its run")


def job_pairs(jobs: pd.DataFrame, bucket_s: int) -> pd.DataFrame:
    """One row per (job row position, host) with the job's bucket range ``[lo, hi)``."""
    lo, hi = run_buckets(to_seconds(jobs["start_time"]), to_seconds(jobs["end_time"]), bucket_s)
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(lo) & ~np.isnan(hi) & (hi > lo)
    nodes = pd.Series(jobs["nodelist"].to_numpy(object), index=np.arange(len(jobs)))[ok]
    nodes = nodes[nodes.map(lambda v: isinstance(v, (list, tuple, np.ndarray)) and len(v) > 0)]
    flat = nodes.explode().dropna()
    pairs = pd.DataFrame({"job": flat.index.to_numpy(np.int64), "component": flat.astype(str).to_numpy(object)})
    pairs = pairs.drop_duplicates().reset_index(drop=True)
    pairs["lo"] = lo[pairs["job"]].astype(np.int64)
    pairs["hi"] = hi[pairs["job"]].astype(np.int64)
    return pairs


def job_window_features(
    jobs: pd.DataFrame,
    samples,
    *,
    stats: tuple[str, ...] = STATS,
    dask=None,
    jobs_per_block: int = JOBS_PER_BLOCK,
) -> pd.DataFrame:
    """Mean, max and 95th percentile of each role over each job's hosts and run.

    Parameters
    ----------
    jobs : DataFrame
        Canonical jobs table (``start_time``, ``end_time``, ``nodelist``).
    samples : path, DataFrame or SampleSource
        The samples folder or table.
    stats : tuple of str
        Any of :data:`STATS`; leave out ``max`` and ``p95`` to skip the join.
    dask : str or distributed.Client, optional
        Compute the blocks on a Dask cluster: ``"local:N"``, a scheduler address
        (``"tcp://host:8786"``) or a client (see :func:`hpcpredict.scale.client_for`), one task
        per block, a few blocks in flight at a time. Workers read the samples folder at the
        caller's path, so it must be on a file system they share; a DataFrame's rows are sent.
    jobs_per_block : int
        Jobs per block (by start time); a block reads only the samples during its jobs' runs.

    Returns
    -------
    DataFrame
        ``job_<quantity>_<stat>`` per role present (and ``job_net_stall_flit_ratio``), aligned
        with ``jobs.index``; NaN for jobs without samples in their window.

    Examples
    --------
    >>> job_window_features(jobs, "samples/")["job_fs_read_bytes_per_s_mean"].notna().mean()  # doctest: +SKIP
    0.97
    >>> job_window_features(jobs, "/scratch/samples/", dask="tcp://head:8786")  # doctest: +SKIP
    """
    if isinstance(jobs_per_block, bool) or not isinstance(jobs_per_block, (int, np.integer)) or jobs_per_block < 1:
        raise ParameterError("jobs_per_block", "an integer >= 1", jobs_per_block)
    source = samples if isinstance(samples, SampleSource) else open_samples(samples)
    if source is None or not source.roles:
        return pd.DataFrame(index=jobs.index)
    if len(jobs) == 0 or (dask is None and len(jobs) <= jobs_per_block):
        return _block(jobs, source, stats)
    if dask is not None and source.files is None and source.frame is None:
        raise ParameterError("samples", "a samples folder, Parquet file or DataFrame (Dask workers open their own)", "a SampleSource built by hand")
    parts = _block_parts(jobs, source, int(jobs_per_block))
    roles, b = source.roles, source.bucket_s
    results: dict[int, pd.DataFrame] = {}
    with progress(total=len(parts), description="job-window features") as advance:
        if dask is None:
            for i, (block, files, frame) in enumerate(parts):
                if source.files is None and source.frame is None:  # a source built by hand: all of it, per block
                    results[i] = _block(block, source, stats)
                else:
                    results[i] = _block_task(block, roles, b, stats, files, frame)
                advance(1)
        else:
            from ..scale import client_for

            with client_for(dask) as client:
                _run_on(client, parts, results, (roles, b, stats), advance)
    return _assemble(results, len(parts), jobs.index, list(roles), stats)


def _block_parts(jobs: pd.DataFrame, source: SampleSource, size: int) -> list[tuple[pd.DataFrame, list[str] | None, pd.DataFrame | None]]:
    """Per block of jobs (by start time): its jobs (indexed by row position), day files and rows."""
    b = source.bucket_s
    start = to_seconds(jobs["start_time"])
    lo, hi = run_buckets(start, to_seconds(jobs["end_time"]), b)
    lo, hi = lo * b, hi * b
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(lo) & ~np.isnan(hi) & (hi > lo)
    light = jobs[["start_time", "end_time", "nodelist"]].reset_index(drop=True)  # index = row position
    order = np.argsort(start, kind="stable")  # NaN starts last: they form no pairs
    frame, stamps = source.frame, None
    if frame is not None:
        if not frame["timestamp"].is_monotonic_increasing:  # a folder's rows go by host, then time
            frame = frame.sort_values("timestamp", kind="stable", ignore_index=True)
        stamps = frame["timestamp"].to_numpy("datetime64[ns]").astype(np.int64)
    parts = []
    for i in range(0, len(jobs), size):
        pos = np.sort(order[i : i + size])
        inside = ok[pos]
        files = rows = None
        if inside.any():
            t0, t1 = lo[pos][inside].min(), hi[pos][inside].max()  # samples in [t0, t1) are all a block can use
        if source.files is not None:
            files = files_between(source.files, t0, t1) if inside.any() else []
        elif frame is not None:
            a, z = np.searchsorted(stamps, [int(t0) * 10**9, int(t1) * 10**9]) if inside.any() else (0, 0)
            rows = frame.iloc[a:z]
        parts.append((light.iloc[pos], files, rows))
    return parts


def _block_task(jobs: pd.DataFrame, roles: dict[str, list[str]], bucket_s: int, stats: tuple[str, ...], files, frame) -> pd.DataFrame:
    """One block on a DuckDB connection of its own (a Dask task, hence module-level)."""
    source = source_over(roles, files=files, frame=frame, bucket_s=bucket_s)
    try:
        return _block(jobs, source, stats)
    finally:
        source.con.close()


def _run_on(client, parts, results: dict[int, pd.DataFrame], args: tuple, advance) -> None:
    """Submit the blocks as tasks, at most a few per worker in flight, and collect them by number."""
    from distributed import as_completed

    from ..scale import n_workers

    todo = iter(enumerate(parts))
    running = as_completed()
    number: dict[str, int] = {}

    def submit() -> None:
        nxt = next(todo, None)
        if nxt is None:
            return
        i, (block, files, frame) = nxt
        block = client.scatter(block, hash=False)  # data goes to a worker once, not inside the task
        frame = None if frame is None else client.scatter(frame, hash=False)
        future = client.submit(_block_task, block, *args, files, frame, pure=False)
        number[future.key] = i
        running.add(future)

    for _ in range(2 * n_workers(client)):
        submit()
    for future in running:
        results[number.pop(future.key)] = future.result()  # a worker's error is raised here as itself
        advance(1)
        submit()


def _assemble(results: dict[int, pd.DataFrame], n_blocks: int, index: pd.Index, roles: list[str], stats: tuple[str, ...]) -> pd.DataFrame:
    """The blocks' rows back in the order of the jobs table, under its index, columns as :func:`_block` orders them."""
    frames = [results[i] for i in range(n_blocks)]
    have = set().union(*(f.columns for f in frames))  # a block without job-host pairs has no max/p95 columns
    order = [f"job_{QUANTITY[r]}_mean" for r in roles] + ["job_net_stall_flit_ratio"]
    order += [f"job_{QUANTITY[r]}_{s}" for r in roles for s in ("max", "p95") if s in stats]
    out = pd.concat(frames).reindex(index=np.arange(len(index)), columns=[c for c in order if c in have])
    out.index = index
    return out


def _block(jobs: pd.DataFrame, source: SampleSource, stats: tuple[str, ...]) -> pd.DataFrame:
    """The features of ``jobs`` from ``source``, in one pass (aligned with ``jobs.index``)."""
    out = pd.DataFrame(index=jobs.index)
    roles = list(source.roles)
    pairs = job_pairs(jobs, source.bucket_s)
    n = len(jobs)
    if "mean" in stats or "net_stalls" in roles:
        sums, counts = _pair_sums(source, pairs, roles)
        for i, role in enumerate(roles):
            s = np.bincount(pairs["job"], weights=sums[i], minlength=n)
            c = np.bincount(pairs["job"], weights=counts[i], minlength=n)
            if "mean" in stats:
                out[f"job_{QUANTITY[role]}_mean"] = np.where(c > 0, s / np.where(c > 0, c, 1), np.nan)
            if role == "net_flits":
                flits = s
            if role == "net_stalls":
                stalls = s
        if {"net_flits", "net_stalls"} <= set(roles):
            out["job_net_stall_flit_ratio"] = np.where(flits > 0, stalls / np.where(flits > 0, flits, 1), np.nan)
    wanted = [s for s in ("max", "p95") if s in stats]
    if wanted and len(pairs):
        extremes = _pair_extremes(source, pairs, roles, wanted)
        for col in extremes.columns:
            out[col] = extremes[col].reindex(np.arange(n)).to_numpy()
    return out


def _pair_sums(source: SampleSource, pairs: pd.DataFrame, roles: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per pair and role: the sum and count of the host's samples in the pair's buckets."""
    n_pairs = len(pairs)
    sums = np.zeros((len(roles), n_pairs))
    counts = np.zeros((len(roles), n_pairs))
    span = source.bucket_range()
    if span is None or not n_pairs:
        return sums, counts
    kmin, kmax = span
    hosts, codes = np.unique(pairs["component"].to_numpy(str), return_inverse=True)
    n_hosts = len(hosts)
    source.con.register("_hosts", pd.DataFrame({"component": hosts, "code": np.arange(n_hosts, dtype=np.int64)}))
    edge_k = np.clip(np.concatenate([pairs["lo"].to_numpy(), pairs["hi"].to_numpy()]), kmin, kmax + 1)
    edge_h = np.concatenate([codes, codes])
    order = np.argsort(edge_k, kind="stable")
    edge_k, edge_h = edge_k[order], edge_h[order]
    value = np.zeros((2, len(roles), len(edge_k)))  # [sum|count, role, edge]: prefix before the edge
    carry = np.zeros((2, len(roles), n_hosts))
    # chunks are whole days (or halves, quarters ... when many hosts), aligned to UTC midnight, so
    # each chunk's query reads one day file of the samples folder and no other
    length = max(1, 86400 // source.bucket_s)
    while length > 1 and n_hosts * length > _CHUNK_CELLS:
        length //= 2
    exprs = ", ".join(f"{source.role_sql(r)} AS v{i}" for i, r in enumerate(roles))
    b = source.bucket_s
    for c0 in range(kmin - kmin % length, kmax + 1, length):
        c1 = min(c0 + length, kmax + 1)
        res = source.con.execute(
            f"SELECT h.code, s.k - {c0} AS j, {', '.join(f's.v{i}' for i in range(len(roles)))} "
            f"FROM (SELECT component, {source.bucket_sql()} AS k, {exprs} FROM {source.relation} "
            f"WHERE timestamp >= to_timestamp({c0 * b}) AND timestamp < to_timestamp({c1 * b})) s "
            "JOIN _hosts h ON s.component = h.component"
        ).fetchnumpy()
        width = c1 - c0
        cell = np.asarray(res["code"], dtype=np.int64) * width + np.asarray(res["j"], dtype=np.int64)
        a, z = np.searchsorted(edge_k, [c0, c1])
        j, h = edge_k[a:z] - c0, edge_h[a:z]
        present = None  # samples per cell, shared by every role without missing values
        for i in range(len(roles)):
            v = np.ma.filled(np.ma.asarray(res[f"v{i}"]).astype("float64"), np.nan)
            have = ~np.isnan(v)
            complete = bool(have.all())
            for which in (0, 1):
                if which == 1 and complete and present is not None:
                    grid = present
                elif which == 0:
                    weights = v if complete else np.where(have, v, 0.0)
                    grid = np.bincount(cell, weights=weights, minlength=n_hosts * width).reshape(n_hosts, width)
                else:
                    weights = None if complete else have.astype("float64")
                    grid = np.bincount(cell, weights=weights, minlength=n_hosts * width).reshape(n_hosts, width).astype("float64")
                if not (which == 1 and grid is present):
                    np.cumsum(grid, axis=1, out=grid)
                    if which == 1 and complete:
                        present = grid
                before = np.where(j > 0, grid[h, np.maximum(j - 1, 0)], 0.0)
                value[which, i, a:z] = carry[which, i, h] + before
                carry[which, i] += grid[:, -1]
    tail = edge_k == kmax + 1
    value[:, :, tail] = carry[:, :, edge_h[tail]]
    unsorted = np.empty_like(value)
    unsorted[:, :, order] = value
    lo_v, hi_v = unsorted[:, :, :n_pairs], unsorted[:, :, n_pairs:]
    diff = hi_v - lo_v
    return diff[0], diff[1]


def _pair_extremes(source: SampleSource, pairs: pd.DataFrame, roles: list[str], wanted: list[str]) -> pd.DataFrame:
    """Max and 95th percentile per job and role, by a DuckDB join on (host, time block, bucket range)."""
    first = pairs["lo"].to_numpy() // _BLOCK
    last = (pairs["hi"].to_numpy() - 1) // _BLOCK
    reps = (last - first + 1).astype(np.int64)
    rep = np.repeat(np.arange(len(pairs)), reps)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(reps) - reps, reps)
    expanded = pd.DataFrame(
        {
            "job": pairs["job"].to_numpy()[rep],
            "component": pairs["component"].to_numpy()[rep],
            "lo": pairs["lo"].to_numpy()[rep],
            "hi": pairs["hi"].to_numpy()[rep],
            "blk": first[rep] + offset,
        }
    )
    source.con.register("_pairs", expanded)
    b = source.bucket_s
    t0, t1 = int(pairs["lo"].min()) * b, int(pairs["hi"].max()) * b
    exprs = ", ".join(f"{source.role_sql(r)} AS v{i}" for i, r in enumerate(roles))
    aggs, names = [], []
    for i, role in enumerate(roles):
        if "max" in wanted:
            aggs.append(f"max(s.v{i})")
            names.append(f"job_{QUANTITY[role]}_max")
        if "p95" in wanted:
            aggs.append(f"quantile_cont(s.v{i}, 0.95)")
            names.append(f"job_{QUANTITY[role]}_p95")
    sql = (
        f"SELECT p.job, {', '.join(f'{a} AS a{j}' for j, a in enumerate(aggs))} "
        f"FROM _pairs p JOIN (SELECT component, {source.bucket_sql()} AS k, {exprs} FROM {source.relation} "
        f"WHERE timestamp >= to_timestamp({t0}) AND timestamp < to_timestamp({t1})) s "
        f"ON s.component = p.component AND s.k // {_BLOCK} = p.blk AND s.k >= p.lo AND s.k < p.hi GROUP BY p.job"
    )
    res = source.con.execute(sql).fetchnumpy()
    frame = pd.DataFrame(
        {name: np.ma.filled(np.ma.asarray(res[f"a{j}"]).astype("float64"), np.nan) for j, name in enumerate(names)},
        index=np.asarray(res["job"], dtype=np.int64),
    )
    return frame
