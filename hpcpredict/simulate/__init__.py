"""A longitudinal cluster simulator with planted, known causes of slowdown.

:func:`simulate` writes what a site would hand over — ``sacct.txt`` (``sacct --parsable2``),
``ldms/`` (LDMS store_csv files per sampler and day) or, with ``monitoring="pcp"``, ``pcp/``
(pmlogger archives per host and day), ``topology.csv``, ``queue.txt`` (the jobs pending at the
end) — plus ``truth.json`` and ``truth_jobs.csv``, the planted effects and noise.
See ``docs/simulator.md`` for every format.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from .._atomic import atomic_dir, write_json
from .._outputs import check_output
from ..errors import ParameterError
from .config import EPOCH, PRESETS, World, build_topology, resolve_world
from .counters import SAMPLERS, day_samples
from .effects import NOISE_SD
from .scheduler import run_scheduler
from .truth import truth_document, truth_jobs
from .workload import make_jobs
from .pcp import write_pcp_day
from .writers import SACCT_FIELDS, write_ldms_day, write_sacct, write_topology

__all__ = ["simulate", "PRESETS", "World", "SACCT_FIELDS", "SAMPLERS", "MONITORING"]

#: What the node monitoring is written as: LDMS store_csv files, or PCP archives.
MONITORING = ("ldms", "pcp")


def _plant_resets(world: World, rng: np.random.Generator) -> np.ndarray:
    """Reboots: every counter of a host restarts at zero. About one per 200 host-days, at least one."""
    T = world.days * (86400 // world.sample_s)  # whole days; samples after the end are never written
    resets = np.zeros((world.nodes, T), bool)
    n = max(1, round(world.nodes * world.days / 200))
    resets[rng.integers(0, world.nodes, n), rng.integers(1, world.duration_s // world.sample_s, n)] = True
    return resets


def simulate(output: str | os.PathLike[str], *, preset: str = "default", nodes: int | None = None,
             days: int | None = None, seed: int = 0, monitoring: str = "ldms") -> dict:
    """Simulate a cluster and write its monitoring dump under ``output`` (replaced atomically).

    Parameters
    ----------
    output : path-like
        Folder to write; an existing folder is replaced when the new one is complete.
    preset : {"tiny", "default", "large"}
        Size of the world: ``tiny`` for tests, ``default`` for the demo, ``large`` for benchmarks.
    nodes, days : int, optional
        Override the preset's host count (rounded up to whole dragonfly groups) and length.
    seed : int
        The same seed gives byte-identical files (LDMS; PCP archives record the writing process).
    monitoring : {"ldms", "pcp"}
        The node counters as LDMS store_csv files (``ldms/``), or as PCP archives, one per host
        and day (``pcp/<host>/<YYYYMMDD>``, written through PCP's ``pcp.pmi``: needs PCP and its
        Python bindings). Both hold the same counters for the same seed; the rest of the dump is
        the same.

    Returns
    -------
    dict
        ``preset``, ``nodes``, ``days``, ``seed``, ``monitoring``, ``jobs`` (submitted), ``states``
        (count per state), ``control_jobs``, ``pending``, ``ldms_rows`` (or ``pcp_archives`` and
        ``pcp_records``), ``resets``, ``files``.

    Examples
    --------
    >>> summary = simulate("sim-out", preset="tiny", seed=1)  # doctest: +SKIP
    >>> summary["files"]["sacct"]  # doctest: +SKIP
    'sim-out/sacct.txt'
    """
    if not isinstance(seed, int) or seed < 0:
        raise ParameterError("seed", "a non-negative integer", seed)
    if monitoring not in MONITORING:
        raise ParameterError("monitoring", f"one of {', '.join(MONITORING)}", monitoring)
    check_output(output, folder=True)
    world = resolve_world(preset, nodes=nodes, days=days)
    topo = build_topology(world)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    jobs = make_jobs(world, streams[0])
    noise = streams[1].normal(0.0, NOISE_SD, len(jobs))
    jobs, hosts_of = run_scheduler(world, topo, jobs, noise[: len(jobs)])
    jobs["noise"] = noise[: len(jobs)]
    lens = np.array([len(h) for h in hosts_of], np.int64)
    host_ptr = np.concatenate([[0], np.cumsum(lens)])
    host_idx = np.concatenate(hosts_of).astype(np.int64) if lens.sum() else np.empty(0, np.int64)
    resets = _plant_resets(world, streams[2])
    counter_seed = int(np.random.SeedSequence(seed).generate_state(1)[0])

    out = Path(output)
    names = {"sacct": "sacct.txt", "queue": "queue.txt", "topology": "topology.csv", monitoring: monitoring,
             "truth": "truth.json", "truth_jobs": "truth_jobs.csv"}
    rows = 0
    # the PCP writer (a child process) ends every archive on leaving, before the folder is swapped in
    with atomic_dir(out, kind="simulation") as tmp, contextlib.ExitStack() as stack:
        pcp = stack.enter_context(_pcp_writer()) if monitoring == "pcp" else None
        write_sacct(tmp / names["sacct"], jobs, hosts_of, topo, world)
        pending = (jobs.state == "PENDING").to_numpy()
        write_sacct(tmp / names["queue"], jobs[pending], [hosts_of[i] for i in np.flatnonzero(pending)], topo, world,
                    steps=False)
        write_topology(tmp / names["topology"], topo)
        for day_start, times, data in day_samples(world, topo, jobs, host_ptr, host_idx, resets, counter_seed):
            if pcp is None:
                rows += write_ldms_day(tmp / names["ldms"], topo, world, day_start, times, data, streams[3])
            else:
                rows += write_pcp_day(pcp, tmp / names["pcp"], topo, world, day_start, times, data)
        truth_jobs(jobs).to_csv(tmp / names["truth_jobs"], index=False, float_format="%.6g")
        write_json(truth_document(world, jobs, resets, seed=seed), tmp / names["truth"])
    return {
        "preset": preset,
        "nodes": world.nodes,
        "days": world.days,
        "seed": seed,
        "start": EPOCH.isoformat(),
        "jobs": int(len(jobs)),
        "states": {k: int(v) for k, v in jobs.state.value_counts().sort_index().items()},
        "control_jobs": int(jobs.control.sum()),
        "pending": int(pending.sum()),
        "monitoring": monitoring,
        **({"ldms_rows": int(rows)} if monitoring == "ldms" else {"pcp_archives": len(pcp.archives), "pcp_records": int(rows)}),
        "resets": int(resets.sum()),
        "files": {k: str(out / v) for k, v in names.items()},
    }

from .._verbs import make_callable  # noqa: E402  (last: the module must be complete)

def _pcp_writer():
    from ..ingest.pcp_archive import PcpArchiveWriter

    return PcpArchiveWriter()


make_callable(__name__)
