"""System-state features: what the whole machine was doing just before a job's submit or start.

System-wide totals per time bucket are computed once (one DuckDB ``GROUP BY`` over the samples),
then prefix sums over the buckets answer every job's look-back window with two lookups — the cost
does not grow with the number of jobs times the window length. A window ending at moment ``h``
covers the whole buckets inside ``[h - w, h)``, so nothing stamped at or after ``h`` is used.

Filesystem and network quantities are system totals (summed over hosts) averaged over the
buckets that have data; CPU busy fraction and memory in use are means per host and sample; the
stall-to-flit ratio is total stalls over total flits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..ingest.metrics import ROLES
from ._samples import QUANTITY, SampleSource, open_samples, to_seconds, window_bounds
from .registry import register

__all__ = ["WINDOWS", "system_features"]

#: Look-back windows: label → seconds.
WINDOWS = {"15m": 900, "1h": 3600, "6h": 21600}

_FAMILY = {"fs": "system_fs", "net": "system_net", "cpu": "system_cpu", "mem": "system_cpu"}
_PER_HOST = ("cpu_busy", "mem_used")


def _family(role: str) -> str:
    return _FAMILY[role.split("_", 1)[0]]


def _name(quantity: str, window: str, horizon: str) -> str:
    return f"sys_{quantity}_{window}_at_{horizon}"


for _h in ("submit", "start"):
    for _w in WINDOWS:
        for _role, (_unit, _text) in ROLES.items():
            _how = "mean per node" if _role in _PER_HOST else "system-wide total"
            register(_name(QUANTITY[_role], _w, _h), _family(_role), _h, f"{_text} ({_how}) in the {_w} before {_h}")
        register(_name("net_stall_flit_ratio", _w, _h), "system_net", _h, f"network stalls per flit, system-wide, in the {_w} before {_h}")


def system_features(jobs: pd.DataFrame, samples, *, horizon: str) -> pd.DataFrame:
    """System-wide aggregates of the sample rates in windows ending at each job's ``horizon`` time.

    Parameters
    ----------
    jobs : DataFrame
        Canonical jobs table.
    samples : path, DataFrame or SampleSource
        The samples folder (see :func:`hpcpredict.ingest.read_ldms`) or table.
    horizon : {"submit", "start"}
        The moment windows end at: ``submit_time`` or ``start_time``.

    Returns
    -------
    DataFrame
        One column per role present and window (``sys_fs_read_bytes_per_s_1h_at_submit``, ...),
        aligned with ``jobs.index``; NaN where the window holds no samples.

    Examples
    --------
    >>> system_features(jobs, "samples/", horizon="submit").filter(like="1h").columns[0]  # doctest: +SKIP
    'sys_fs_read_bytes_per_s_1h_at_submit'
    """
    source = samples if isinstance(samples, SampleSource) else open_samples(samples)
    out = pd.DataFrame(index=jobs.index)
    if source is None or not source.roles:
        return out
    totals = bucket_totals(source)
    if totals is None:
        return out
    k0, prefix = totals
    h = to_seconds(jobs[f"{horizon}_time"])
    n = len(next(iter(prefix.values()))) - 1
    valid = ~np.isnan(h)
    for label, width in WINDOWS.items():
        i_lo, i_hi = window_bounds(h, width, k0=k0, n=n, bucket_s=source.bucket_s)

        def window(key: str) -> np.ndarray:
            p = prefix[key]
            return p[i_hi] - p[i_lo]

        for role in source.roles:
            total = window(f"{role}:sum")
            denom = window(f"{role}:count") if role in _PER_HOST else window(f"{role}:buckets")
            with np.errstate(invalid="ignore", divide="ignore"):
                value = np.where(valid & (denom > 0), total / np.where(denom > 0, denom, 1), np.nan)
            out[_name(QUANTITY[role], label, horizon)] = value
        if {"net_flits", "net_stalls"} <= set(source.roles):
            flits, stalls = window("net_flits:sum"), window("net_stalls:sum")
            out[_name("net_stall_flit_ratio", label, horizon)] = np.where(valid & (flits > 0), stalls / np.where(flits > 0, flits, 1), np.nan)
    return out


def bucket_totals(source: SampleSource) -> tuple[int, dict[str, np.ndarray]] | None:
    """System-wide sum, value count and bucket presence per role per bucket, as prefix sums.

    Returns ``(first bucket, {"<role>:sum" | "<role>:count" | "<role>:buckets": prefix array})``
    where ``prefix[i]`` is the total over buckets ``first .. first + i - 1``.
    """
    roles = list(source.roles)
    select = ", ".join(f"sum(v{i}) AS s{i}, count(v{i}) AS c{i}" for i in range(len(roles)))
    inner = ", ".join(f"{source.role_sql(r)} AS v{i}" for i, r in enumerate(roles))
    sql = f"SELECT k, {select} FROM (SELECT {source.bucket_sql()} AS k, {inner} FROM {source.relation}) GROUP BY k"
    res = source.con.execute(sql).fetchnumpy()
    if not len(res["k"]):
        return None
    k = np.asarray(res["k"], dtype=np.int64)
    k0 = int(k.min())
    n = int(k.max()) - k0 + 1
    idx = k - k0
    prefix = {}
    for i, role in enumerate(roles):
        s = np.ma.filled(np.ma.asarray(res[f"s{i}"]).astype("float64"), 0.0)
        c = np.ma.filled(np.ma.asarray(res[f"c{i}"]).astype("float64"), 0.0)
        for key, values in (("sum", s), ("count", c), ("buckets", (c > 0).astype("float64"))):
            dense = np.zeros(n + 1)
            np.add.at(dense, idx + 1, values)
            prefix[f"{role}:{key}"] = np.cumsum(dense)
    return k0, prefix
