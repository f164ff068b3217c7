"""A predictor for one request at a time: state prepared once, each request a few array operations.

The service cannot rebuild every feature from the whole jobs table per request (that is what the
offline pipeline does). :class:`OnlinePredictor` prepares, at load, what a job submitted *now*
would see: each user's and application's history (by running the offline history code on probe
jobs, so the values are the same), the system-wide features (queue and system state, one row
for everyone) and each user's own jobs running and queued at the snapshot (per user, by the offline
code on one probe job per user). The seconds since the user's previous submission is a lookup per
request in the user's sorted submit times. A job already waiting in the queue at the snapshot and
asked again was submitted when the jobs table says: its history, queue and system features are
those at that submit time, prepared at load by the same offline code
(:func:`~hpcpredict.queue.queued_features`), so the service and ``predict --queue`` agree on it
too. A request then only adds its own request and calendar features and runs
``Booster.inplace_predict`` with one thread, which keeps one-job latency near a millisecond.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from ..features.calendar import calendar_arrays
from ..features.history import REPEAT, REPEAT_COLUMNS, SINCE_LAST_SUBMIT, alea_source, history_features, nanoseconds, repeat_keys, seconds_since_previous
from ..features.queue import USER_QUEUE_FEATURES
from ..features.request import request_arrays
from ..model import EncodedRows, RuntimeModel
from ..queue.reasons import reasons_from_contributions
from ..queue.state import as_of, latest_time
from ..scale import check_device
from ..schema import conform_jobs

__all__ = ["OnlinePredictor"]

_PER_JOB_FAMILIES = {"request", "calendar", "history"}


class OnlinePredictor:
    """Predict pending jobs against a snapshot of the system taken at ``at``.

    Parameters
    ----------
    model : RuntimeModel
        The fitted model; its one encoding and prediction are used, on a one-thread copy.
    jobs : DataFrame, optional
        Jobs table giving history and system state; only what was known at ``at`` is used.
    samples : optional
        Node samples, for models with system-state features.
    at : time, optional
        The snapshot moment; default the latest time in ``jobs`` (or now, without jobs).
    device : {"cpu", "cuda"}
        Where XGBoost predicts (one-job latency is lowest on the CPU; a GPU pays for batches).
    """

    def __init__(self, model: RuntimeModel, jobs: pd.DataFrame | None = None, samples=None, at=None, *, device: str = "cpu") -> None:
        self.device = check_device(device)
        self.model = model.for_serving(device=self.device)
        self.names = model.feature_names
        jobs = conform_jobs(jobs) if jobs is not None else None
        if at is None:
            at = latest_time(jobs) if jobs is not None and len(jobs) else pd.Timestamp.now(tz="UTC")
        self.at = pd.Timestamp(at)
        self.known = as_of(jobs, self.at) if jobs is not None else conform_jobs(pd.DataFrame({"job_id": pd.Series(dtype=str)}))
        # jobs waiting at the snapshot (not started, not ended: as_of also calls a job cancelled
        # while pending PENDING); asked again, each is described at its own submit time
        pending = (self.known["start_time"].isna() & self.known["end_time"].isna() & ~self.known["job_id"].duplicated(keep="last")).to_numpy(bool)
        positions = np.flatnonzero(pending)
        waiting = self.known.iloc[positions]
        self._waiting = {job_id: i for i, job_id in enumerate(waiting["job_id"].astype(str))}
        self._waiting_submit = np.array([_ns(t, self.at) for t in waiting["submit_time"]], dtype="int64")
        self._history = self._prepare_history(positions)
        self._submits = self._prepare_submits() if SINCE_LAST_SUBMIT in self.names else {}
        self._system, self._per_user, self._waiting_system = self._prepare_system(samples, waiting)

    @property
    def families(self) -> dict[str, str]:
        """Feature → family of the model."""
        return self.model.families

    def _probe(self, key: str) -> tuple[pd.DataFrame, list]:
        """One job per known value of ``key`` submitted just after the snapshot, and the values."""
        if key == REPEAT:  # a request is the user's limit and CPUs: one probe per request made
            probe = self.known.loc[self.known["user"].notna(), list(REPEAT_COLUMNS)].drop_duplicates().reset_index(drop=True)
            probe["user"] = probe["user"].astype(str)
        else:
            probe = pd.DataFrame({key: self.known[key].dropna().astype(str).unique()})
        probe["job_id"] = [f"__probe_{i}" for i in range(len(probe))]
        probe["submit_time"] = self.at + pd.Timedelta(microseconds=1)  # after everything known
        probe = conform_jobs(probe)
        return probe, self._key_values(key, probe.to_dict(orient="records"))

    @staticmethod
    def _key_values(key: str, jobs: list[dict]) -> list:
        """Each job's value of ``key`` as the history tables index it (None: no value)."""
        if key == REPEAT:
            return repeat_keys([None if _missing(j.get("user")) else str(j["user"]) for j in jobs], [_float(j.get("time_limit_s")) for j in jobs], [_float(j.get("req_cpus")) for j in jobs])
        return [None if _missing(j.get(key)) else str(j[key]) for j in jobs]

    def _prepare_history(self, waiting: np.ndarray) -> dict[str, tuple[dict, np.recarray, np.recarray]]:
        """Per key: the probes' index and history table (a job submitted now), and the history of
        each waiting job at its own submit time (its row, at position ``waiting`` of the known table).

        One history pass over the known jobs and every key's probes: a probe has not ended, so it
        is in no key's history, and each key reads its own probes' rows."""
        wanted = {}
        for key in ("user", "app", REPEAT):
            # the gap to the previous submission depends on the request's own submit time: not a probe's
            cols = [n for n in self.names if n.startswith(f"{key}_") and self.families[n] == "history" and n != SINCE_LAST_SUBMIT]
            # an ALEA feature is the job's own limit times a ratio of the history: keep the ratio
            cols = list(dict.fromkeys(alea_source(n) or n for n in cols))
            if cols:
                wanted[key] = (cols, *self._probe(key))
        if not wanted:
            return {}
        feats = history_features(pd.concat([self.known, *(probe for _, probe, _ in wanted.values())], ignore_index=True))
        own = feats.iloc[waiting]
        history, start = {}, len(self.known)
        for key, (cols, probe, values) in wanted.items():
            probes = feats.iloc[start : start + len(probe)]
            start += len(probe)
            table, at_submit = (np.rec.fromarrays([f[c].to_numpy(float) for c in cols], names=cols) for f in (probes, own))
            history[key] = ({v: i for i, v in enumerate(values)}, table, at_submit)
        return history

    def _prepare_submits(self) -> dict[str, np.ndarray]:
        """Each known user's submit times, sorted int64 nanoseconds (as the offline feature reads them)."""
        known = self.known.loc[self.known["submit_time"].notna() & self.known["user"].notna()]
        ns = nanoseconds(known["submit_time"])
        return {str(user): np.sort(ns[rows]) for user, rows in known.groupby(known["user"].astype(str), sort=False).indices.items()}

    def _prepare_system(self, samples, waiting: pd.DataFrame) -> tuple[dict[str, float], dict[str, dict[str, float]], dict[str, np.ndarray]]:
        """Features shared by every job submitted now (queue, system state), each user's own jobs in
        flight for a job of theirs submitted now, and the values of each waiting job at its own
        submit time: all from the offline code, on probe jobs submitted at the snapshot."""
        built = [n for n in self.names if self.families[n] not in _PER_JOB_FAMILIES]
        if not built:
            return {}, {}, {}
        from ..queue.predict import queued_features

        per_user = [n for n in built if n in USER_QUEUE_FEATURES]
        users = list(self.known["user"].dropna().astype(str).unique()) if per_user else []
        probe = pd.DataFrame({"job_id": ["__probe", *(f"__probe_user_{i}" for i in range(len(users)))], "user": [None, *users], "submit_time": self.at})
        rows, _ = queued_features(self.model, pd.concat([conform_jobs(probe), waiting], ignore_index=True), self.known, samples, self.at)
        values = {name: pd.to_numeric(rows[name], errors="coerce").to_numpy(float) for name in built}
        waiting_values = {name: v[1 + len(users) :] for name, v in values.items()}
        shared = {name: float(v[0]) for name, v in values.items() if name not in per_user}
        return shared, {name: dict(zip(users, values[name][1 : 1 + len(users)].tolist())) for name in per_user}, waiting_values

    def matrix(self, jobs: list[dict]) -> EncodedRows:
        """The model's input for pending jobs given as dicts of canonical fields.

        The columns come from the same array functions as the offline features, without a
        DataFrame, and go through the model's one encoding (:meth:`RuntimeModel.encode`): the
        per-request cost stays in microseconds. A job without ``submit_time`` is taken as
        submitted at the snapshot; a job waiting in the queue at the snapshot was submitted when
        the jobs table says, and its history, queue and system features are those of then. The
        user's own features (seconds since the previous submission, jobs running and queued) are
        the user's, never one snapshot-wide value.
        """
        n = len(jobs)
        get = lambda key: np.array([_float(j.get(key)) for j in jobs], dtype=float)  # noqa: E731
        waiting = np.array([self._waiting.get(str(j["job_id"]), -1) for j in jobs], dtype=int)
        again = waiting >= 0
        submit = np.array([_ns(j.get("submit_time"), self.at) for j in jobs], dtype="int64")
        submit[again] = self._waiting_submit[waiting[again]]
        columns = {**request_arrays(get("req_nodes"), get("req_cpus"), get("req_mem_bytes"), get("time_limit_s")), **calendar_arrays(submit)}
        for key, (index, table, at_submit) in self._history.items():
            rows = np.array([index.get(v, -1) if v is not None else -2 for v in self._key_values(key, jobs)])
            known = rows >= 0  # without any history the table is empty: nothing to look up
            for c, name in enumerate(table.dtype.names):
                values = np.full(n, np.nan)
                values[known] = table[name][rows[known]]
                if name.endswith("_count_prior"):
                    values = np.where(rows == -1, 0.0, values)  # a user with no finished job yet
                values[again] = at_submit[name][waiting[again]]
                columns[name] = values
        if SINCE_LAST_SUBMIT in self.names:
            empty = np.empty(0, dtype="int64")  # a user with no known submission: no previous one
            columns[SINCE_LAST_SUBMIT] = np.array([seconds_since_previous(self._submits.get(str(j["user"]), empty), s) if j.get("user") is not None else np.nan for j, s in zip(jobs, submit)])
        for name, by_user in self._per_user.items():
            # a user the snapshot does not know has nothing in flight; a job without a user, no value
            columns[name] = np.array([by_user.get(str(j["user"]), 0.0) if j.get("user") is not None else np.nan for j in jobs])
            columns[name][again] = self._waiting_system[name][waiting[again]]
        limit = get("time_limit_s")
        for name in self.names:
            source = alea_source(name)
            if source is not None and source in columns:
                columns[name] = np.where(limit > 0, limit, np.nan) * columns[source]
        kinds = self.model.feature_kinds_
        for name in self.names:
            if name not in columns:
                if kinds[name] == "categorical":
                    columns[name] = [j.get(name) for j in jobs]
                else:
                    columns[name] = np.full(n, self._system.get(name, np.nan))
                    if name in self._waiting_system:
                        columns[name][again] = self._waiting_system[name][waiting[again]]
        return self.model.encode(columns)

    def predict(self, jobs: list[dict] | pd.DataFrame, *, reasons: int = 3) -> list[dict]:
        """Predictions for pending jobs: ``job_id``, ``predicted_runtime_s``,
        ``predicted_end_if_started_now`` and ``reasons`` (the largest contributions, in words)."""
        if isinstance(jobs, pd.DataFrame):
            jobs = [{k: (None if _missing(v) else v) for k, v in row.items()} for row in jobs.to_dict(orient="records")]
        rows = self.matrix(jobs)
        pred = self.model.predict(rows)
        bounds = self.model.predict_interval(rows) if self.model.has_intervals else None
        words = self._reasons(rows, reasons) if reasons else [[] for _ in jobs]
        now = datetime.now(timezone.utc).replace(microsecond=0)
        out = []
        for i, (job, p, w) in enumerate(zip(jobs, pred, words)):
            answer = {"job_id": str(job["job_id"]), "predicted_runtime_s": float(p)}
            if bounds is not None:
                answer.update(predicted_p10_s=float(bounds[i, 0]), predicted_p90_s=float(bounds[i, -1]))
            answer.update(predicted_end_if_started_now=now + timedelta(seconds=round(float(p))), reasons=w)
            out.append(answer)
        return out

    def _reasons(self, rows: EncodedRows, k: int) -> list[list[str]]:
        contribs = self.model.contributions(rows)[:, :-1]
        shown = rows.matrix.astype(object)
        for i, name in enumerate(self.names):
            labels = self.model.categories_.get(name)
            if labels is not None:  # codes back to the category a user typed
                shown[:, i] = [labels[int(c)] if c == c else np.nan for c in rows.matrix[:, i]]
        return reasons_from_contributions(self.model, contribs, shown, k=k)


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value))


def _float(value) -> float:
    return float("nan") if _missing(value) else float(value)


def _ns(value, default: pd.Timestamp) -> int:
    stamp = default if _missing(value) else pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.value
