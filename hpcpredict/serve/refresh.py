"""Keep the service's snapshot of history and system state current: ``serve --refresh N [--collect]``.

Every ``N`` seconds, in a worker thread, optionally run :func:`hpcpredict.collect.collect` on the
jobs table (new accounting from the live Slurm), re-read the table and build a new
:class:`~hpcpredict.serve.online.OnlinePredictor` for the model already being served (never re-read
from disk: only ``/admin/reload`` loads model files, after probing them); then swap it in with one
assignment (with the start planner of ``serve --nodes``, rebuilt on the new snapshot). A request
holds the predictor it started with, so none is dropped or answered from a half-built snapshot; a
failed refresh is logged and the old snapshot kept.

A refresh builds for the model served when it began. If ``/admin/reload`` swapped in another model
meanwhile, that snapshot is stale: it is dropped (and logged), never swapped in over the reloaded
model; the next period builds for the new one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from ..model import RuntimeModel
from .online import OnlinePredictor

__all__ = ["refresh_forever", "refreshed_predictor"]

_log = logging.getLogger("hpcpredict.serve")


def refreshed_predictor(model: RuntimeModel, jobs: str | Path, *, collect: bool, samples=None, device: str = "cpu") -> tuple[OnlinePredictor, pd.DataFrame]:
    """A predictor for ``model`` over the jobs table as it is now (after a ``collect`` run when asked)."""
    if collect:
        from ..collect import collect as run_collect

        result = run_collect(jobs)
        _log.info("collect: %d new, %d updated jobs, %d lines quarantined (%s)", result.added, result.updated,
                  result.quarantined, result.quarantine.name)
    jobs_df = pd.read_parquet(jobs)
    return OnlinePredictor(model, jobs_df, samples, device=device), jobs_df


async def refresh_forever(state: dict, lock: asyncio.Lock, *, jobs: str | Path, every_s: float, collect: bool,
                          samples=None, device: str = "cpu", plan: Callable[[OnlinePredictor], object] | None = None) -> None:
    """Refresh ``state["predictor"]`` (and ``state["planner"]``, through ``plan``) every ``every_s``
    seconds until cancelled; ``lock`` is the one ``/admin/reload`` swaps under."""
    while True:
        await asyncio.sleep(every_s)
        served = state["predictor"]
        try:
            predictor, jobs_df = await asyncio.to_thread(refreshed_predictor, served.model, jobs, collect=collect,
                                                         samples=samples, device=device)
            planner = await asyncio.to_thread(plan, predictor) if plan is not None else None
        except Exception as exc:  # noqa: BLE001 -- any failure: keep serving the snapshot we have
            _log.warning("refresh failed, keeping the snapshot of %s: %s", served.at, exc)
            continue
        async with lock:
            if state["predictor"] is not served:
                _log.warning("refresh dropped: the model was reloaded while its snapshot of %s was built; "
                             "the next refresh builds for the reloaded model", predictor.at)
                continue
            state.update(predictor=predictor, jobs_df=jobs_df, refreshed=datetime.now(timezone.utc))
            if plan is not None:
                state["planner"] = planner
