"""Assemble the feature table for one horizon, and the ``features`` verb that writes it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence

import pandas as pd

from .._atomic import read_parquet_metadata, write_parquet
from .._outputs import check_output
from ..errors import HpcPredictError, InputFileError
from ..ingest.samples import read_topology
from ..metadata import feature_specs, table_metadata, with_metadata
from ..scale import client_for
from ..schema import conform_jobs
from .calendar import calendar_features
from .history import SINCE_LAST_SUBMIT, history_features, since_last_submit_features
from .jobwindow import job_window_features
from .neighbourhood import neighbourhood_features
from .placement import placement_features
from .queue import USER_QUEUE_FEATURES, queue_features, user_queue_features
from .registry import REGISTRY, available, check_horizon, check_optional
from .request import request_features
from .system import system_features

__all__ = ["BUILDERS", "KEY_COLUMNS", "build_features", "feature_specs", "features", "read_features"]

#: Columns carried beside the features: identity, time, cohort and the target.
KEY_COLUMNS = ("job_id", "submit_time", "start_time", "end_time", "state", "user", "app", "partition", "runtime_s", "time_limit_s")

#: (horizon at which the builder's features exist, builder(jobs, samples, topology) -> DataFrame,
#: the features it builds when it builds only optional ones: skipped unless one of them is wanted).
BUILDERS: list[tuple[str, Callable[..., pd.DataFrame], tuple[str, ...] | None]] = [
    ("submit", lambda jobs, samples, topology: request_features(jobs), None),
    ("submit", lambda jobs, samples, topology: calendar_features(jobs), None),
    ("submit", lambda jobs, samples, topology: history_features(jobs), None),
    ("submit", lambda jobs, samples, topology: since_last_submit_features(jobs), (SINCE_LAST_SUBMIT,)),
    ("submit", lambda jobs, samples, topology: queue_features(jobs, horizon="submit"), None),
    ("submit", lambda jobs, samples, topology: user_queue_features(jobs), USER_QUEUE_FEATURES),
    ("submit", lambda jobs, samples, topology: system_features(jobs, samples, horizon="submit"), None),
    ("start", lambda jobs, samples, topology: queue_features(jobs, horizon="start"), None),
    ("start", lambda jobs, samples, topology: system_features(jobs, samples, horizon="start"), None),
    ("start", lambda jobs, samples, topology: placement_features(jobs, topology), None),
    ("start", lambda jobs, samples, topology: neighbourhood_features(jobs, samples, topology), None),
    ("end", lambda jobs, samples, topology, dask=None: job_window_features(jobs, samples, dask=dask), None),
]


def build_features(
    jobs: pd.DataFrame,
    samples=None,
    topology: pd.DataFrame | None = None,
    *,
    horizon: str = "submit",
    dask=None,
    names: Sequence[str] | None = None,
    optional: Sequence[str] = (),
) -> pd.DataFrame:
    """Build every feature available at ``horizon`` for each job.

    Parameters
    ----------
    jobs : DataFrame
        Canonical jobs table (one row per job).
    samples : optional
        Node monitoring samples, for system-state and job-window features.
    topology : DataFrame, optional
        ``component`` → ``router``, ``group``, ``cabinet``, for placement features.
    horizon : {"submit", "start", "end"}
        The earliest moment the features may come from; nothing later is used.
    dask : str or distributed.Client, optional
        Compute the job-window features (``end`` horizon) on a Dask cluster, one task per
        block of jobs: ``"local:N"``, ``"tcp://host:8786"`` or a client (see
        :func:`hpcpredict.scale.client_for`). The workers read ``samples`` from the same path,
        so a samples folder must be on a file system they share. Other features are built here.
    names : list of str, optional
        The features a fitted model takes (``model.feature_names``): the table then holds exactly
        these, missing values where the jobs give none (a user with no finished job, a trace
        without time limits), whatever the jobs table holds. The model defines its features.
    optional : list of str
        Groups of features built only when asked for (:data:`~hpcpredict.features.OPTIONAL`):
        ``"user-activity"`` adds the seconds since the user's previous submission and the user's
        own jobs running and queued just before submit. Not needed with ``names``.

    Returns
    -------
    DataFrame
        :data:`KEY_COLUMNS` then one column per feature, one row per job, in the order of
        ``jobs``. Features that are missing for every job (e.g. memory in a trace that has none)
        are left out. :func:`~hpcpredict.metadata.feature_specs` gives the specs of the features
        kept, and the horizon is in its :func:`~hpcpredict.metadata.table_metadata`.

    Examples
    --------
    >>> from hpcpredict.ingest import read_swf
    >>> jobs = read_swf("data/kth-sp2/KTH-SP2-1996-2.1-cln.swf.gz").jobs  # doctest: +SKIP
    >>> build_features(jobs, horizon="submit")["user_last2_mean_s"].notna().mean()  # doctest: +SKIP
    0.99
    """
    check_horizon(horizon)
    jobs = conform_jobs(jobs)
    allowed = {f.name for f in available(horizon, "all" if names is not None else optional)}
    wanted = allowed if names is None else set(names)
    limit = _order(horizon)
    # a builder of optional features only runs when one of them is wanted (the sweeps cost time)
    chosen = [builder for when, builder, only in BUILDERS if _order(when) <= limit and (only is None or wanted & set(only))]
    job_window = BUILDERS[-1][1]  # the only builder with a Dask path
    use_dask = dask is not None and samples is not None and job_window in chosen
    with (client_for(dask) if use_dask else contextlib.nullcontext()) as client:  # one cluster for the whole build
        parts = [builder(jobs, samples, topology, dask=client) if client is not None and builder is job_window else builder(jobs, samples, topology) for builder in chosen]
    built = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=jobs.index)
    if names is None:
        names = [c for c in built.columns if c in allowed and built[c].notna().any()]
    else:
        names = list(names)
        later = [n for n in names if n not in allowed]
        if later:
            raise HpcPredictError(f"features {later[:4]} do not exist at the {horizon!r} horizon (or are not hpcpredict features)")
        built = built.reindex(columns=names)  # never built here (no samples, an empty history): missing
    keys = jobs[list(KEY_COLUMNS)].copy()
    table = pd.concat([keys.drop(columns=[c for c in KEY_COLUMNS if c in names]), built[names]], axis=1)
    return with_metadata(table, table="features", horizon=horizon, features=[REGISTRY[n].to_dict() for n in names])


def features(
    jobs: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    horizon: str = "submit",
    samples: str | os.PathLike[str] | None = None,
    topology: str | os.PathLike[str] | None = None,
    dask=None,
    optional: Sequence[str] = (),
) -> dict:
    """Read a jobs table, build its features for ``horizon`` and write them to ``output``.

    ``dask`` (an address such as ``"local:2"`` / ``"tcp://host:8786"``, or a client) computes
    the job-window features on a Dask cluster; ``optional`` adds groups of features built only
    when asked for; see :func:`build_features`.
    Returns a summary: rows, horizon and feature names.
    """
    check_output(output, folder=False, inputs=[jobs, samples, topology])
    check_optional(optional)  # before the work
    jobs_df = _read_table(jobs)
    topo = read_topology(topology) if topology is not None else None
    table = build_features(jobs_df, samples, topo, horizon=horizon, dask=dask, optional=optional)
    write_parquet(table, output, metadata=table_metadata(table))
    return {"rows": len(table), "horizon": horizon, "features": [f["name"] for f in feature_specs(table)]}


def read_features(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a feature table written by :func:`features`; its specs and horizon come from its Parquet metadata."""
    table = _read_table(path)
    meta = read_parquet_metadata(path) or {}
    if meta.get("table") != "features":
        raise InputFileError(path, "not a feature table (no hpcpredict feature metadata); build it with `hpcpredict features`")
    with_metadata(table, meta)
    for f in meta["features"]:
        if f["kind"] == "categorical":
            table[f["name"]] = table[f["name"]].astype("string").astype("category")
    return table


def _read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputFileError(path, "no such file")
    try:
        if path.endswith(".csv") or path.endswith(".csv.gz"):
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputFileError(path, f"cannot read as a table ({exc})") from None


def _order(horizon: str) -> int:
    from .registry import HORIZONS

    return HORIZONS.index(horizon)
