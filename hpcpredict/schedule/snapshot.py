"""Start times in the prediction service: the snapshot's running and pending jobs, planned once.

The service holds a snapshot of the jobs table (:class:`~hpcpredict.serve.online.OnlinePredictor`).
At load, the jobs running at the snapshot get their predicted runtimes and the jobs pending then
their predictions; a request's jobs are planned after those (in request order) into the same
availability profile, so each answer carries an expected start at a per-request cost of one plan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .starts import plan_starts
from .workload import job_sizes

__all__ = ["SnapshotPlanner"]


class SnapshotPlanner:
    """Plans expected starts of new jobs behind a snapshot's running and pending jobs.

    Parameters
    ----------
    predictor : OnlinePredictor
        The service's predictor (its ``known`` jobs and snapshot moment ``at``).
    nodes : int
        Machine size, in nodes when the jobs table knows node counts, else processors.
    """

    def __init__(self, predictor, nodes: int) -> None:
        if nodes is None or nodes < 1:
            raise ParameterError("nodes", "the machine size (a positive number) for start times", nodes)
        known = predictor.known
        self.at = predictor.at
        self.capacity = int(nodes)
        running = known.loc[(known["state"] == "RUNNING") & known["start_time"].notna()].reset_index(drop=True)
        pending = known.loc[known["state"] == "PENDING"].sort_values("submit_time", kind="stable").reset_index(drop=True)
        both = pd.concat([running, pending], ignore_index=True)
        self.unit, sizes = job_sizes(both, missing=1) if len(both) else ("nodes", np.empty(0))
        predicted = np.array([p["predicted_runtime_s"] for p in predictor.predict(both, reasons=0)]) if len(both) else np.empty(0)
        n_run = len(running)
        limit = pd.to_numeric(running["time_limit_s"], errors="coerce").to_numpy(float)
        self._running = {
            "running_start_s": (running["start_time"] - self.at).dt.total_seconds().to_numpy(float),
            "running_size": sizes[:n_run],
            "running_predicted_s": predicted[:n_run],
            "running_limit_s": np.where(np.isfinite(limit), limit, np.inf),
        }
        self._pending_size, self._pending_predicted = sizes[n_run:], predicted[n_run:]

    def expected_starts(self, jobs: list[dict], predicted_s) -> list[pd.Timestamp]:
        """Expected start of each request job (planned in the order given, after the snapshot's queue)."""
        key = "req_nodes" if self.unit == "nodes" else "req_cpus"
        sizes = np.array([j.get(key) or 1 for j in jobs], dtype=float)
        starts = plan_starts(
            0.0,
            capacity=self.capacity,
            **self._running,
            pending_size=np.concatenate([self._pending_size, sizes]),
            pending_predicted_s=np.concatenate([self._pending_predicted, np.asarray(predicted_s, dtype=float)]),
        )[len(self._pending_size):]
        return [self.at + pd.Timedelta(seconds=float(s)) for s in starts]
