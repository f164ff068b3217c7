"""Run the heavy steps on a Dask cluster: ``--dask local:N`` or ``--dask tcp://scheduler:8786``.

Training (``xgboost.dask``) and SHAP values (``xgboost.dask.predict`` with ``pred_contribs``)
accept a ``dask=`` keyword: ``None`` (this process only), an address string understood by
:func:`client_for`, or a ``distributed.Client`` the caller already holds. Results follow the
single-machine path; see ``docs/scale.md`` for the tolerances the tests hold them to.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from .errors import HpcPredictError, ParameterError

__all__ = ["check_device", "client_for", "cuda_available", "dask_frame", "n_workers"]


@contextlib.contextmanager
def client_for(address) -> Iterator[object]:
    """A ``distributed.Client`` for ``address``, closed (with any cluster it started) on exit.

    Parameters
    ----------
    address : str or distributed.Client
        ``"local:N"`` starts a ``LocalCluster`` of ``N`` single-threaded worker processes;
        ``"tcp://host:8786"`` (or any scheduler address, e.g. from dask-jobqueue's
        ``SLURMCluster.scheduler_address``) connects to a running scheduler; a ``Client`` is
        used as given and left open.

    Examples
    --------
    >>> with client_for("local:2") as client:  # doctest: +SKIP
    ...     len(client.scheduler_info()["workers"])
    2
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # the dask extra is optional
        raise HpcPredictError("--dask needs the dask extra: pip install 'hpcpredict[dask]'") from exc
    if isinstance(address, Client):
        yield address
        return
    text = str(address).strip()
    if text.startswith("local:") or text == "local":
        count = text.partition(":")[2] or str(os.cpu_count() or 1)
        if not count.isdigit() or int(count) < 1:
            raise ParameterError("dask", "'local:N' with N >= 1, or a scheduler address such as tcp://host:8786", address)
        # One thread per worker: XGBoost and pandas already use the process's cores, and
        # threads sharing a process would contend for the GIL and OpenMP pools.
        with LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, Client(cluster) as client:
            yield client
        return
    if "://" not in text:
        raise ParameterError("dask", "'local:N' or a scheduler address such as tcp://host:8786", address)
    try:
        client = Client(text, timeout="30s")
    except OSError as exc:
        raise HpcPredictError(f"cannot reach the Dask scheduler at {text}: {exc}") from exc
    with client:
        yield client


def n_workers(client) -> int:
    """Workers connected to ``client``'s scheduler (at least 1)."""
    return max(1, len(client.scheduler_info().get("workers", {})))


def dask_frame(frame, client, *, rows_per_partition: int = 50_000):
    """A pandas frame (or series) as a Dask collection, in equal partitions, as many per worker.

    The partition count is a multiple of the workers (at most ``rows_per_partition`` rows each),
    so every worker gets the same share: 119k rows in 3 partitions of ~40k on 2 workers left one
    worker idle for the last third of a SHAP run (``benchmarks/README.md``). Categorical columns
    keep their (known) categories, which ``xgboost.dask`` needs to encode them the same way on
    every worker.

    Examples
    --------
    >>> dask_frame(pd.DataFrame({"x": range(119_084)}), client).npartitions  # doctest: +SKIP
    4
    """
    import dask.dataframe as dd

    workers = n_workers(client)
    per_worker = max(1, -(-len(frame) // (rows_per_partition * workers)))
    parts = max(1, min(workers * per_worker, len(frame)))
    return dd.from_pandas(frame, npartitions=parts, sort=False)


def check_device(device: str) -> str:
    """``device`` itself when XGBoost accepts it (``cpu``, ``cuda``, ``cuda:<n>``); else a
    :class:`~hpcpredict.errors.ParameterError` naming it, before any work starts."""
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ParameterError("device", "'cpu', 'cuda' or 'cuda:<n>'", device)
    return device


def cuda_available() -> bool:
    """True when XGBoost can train on a CUDA device here (a one-round fit on two rows).

    XGBoost built with CUDA but run without a visible GPU falls back to the CPU with a warning
    rather than failing, so the warning (and the device the booster ended on) decide.
    """
    import json
    import warnings

    import numpy as np
    import xgboost as xgb

    if not xgb.build_info().get("USE_CUDA"):
        return False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = xgb.DMatrix(np.array([[0.0], [1.0]]), label=np.array([0.0, 1.0]))
            booster = xgb.train({"device": "cuda", "tree_method": "hist"}, data, num_boost_round=1)
    except xgb.core.XGBoostError:
        return False
    if any("GPU" in str(w.message) for w in caught):
        return False
    device = json.loads(booster.save_config())["learner"]["generic_param"].get("device", "")
    return device.startswith("cuda")
