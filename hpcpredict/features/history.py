"""History features: how the same user's (and application's) earlier jobs ran.

Only jobs that ENDED strictly before a job's submit time count: a runtime is known once its job
ends, so these features exist at the ``submit`` horizon and never see the future. Each job is
matched to the last job of its user that had ended by then (``pandas.merge_asof``), whose running
statistics over the user's ended jobs are computed once; no per-job scan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .registry import register

__all__ = ["HISTORY_K", "history_features"]

#: How many of the latest ended jobs the median and ratio features look at.
HISTORY_K = 10

_STATS = {
    "last_runtime_s": "runtime of the {who}'s last finished job",
    "last2_mean_s": "mean runtime of the {who}'s last two finished jobs",
    f"median_last{HISTORY_K}_s": f"median runtime of the {{who}}'s last {HISTORY_K} finished jobs",
    f"ratio_last{HISTORY_K}": f"mean runtime / time limit of the {{who}}'s last {HISTORY_K} finished jobs",
    "count_prior": "number of the {who}'s jobs finished before this submission",
}
_WHO = {"user": "user", "app": "application"}

for _key, _who in _WHO.items():
    for _stat, _text in _STATS.items():
        register(f"{_key}_{_stat}", "history", "submit", _text.format(who=_who))


def history_features(jobs: pd.DataFrame, *, k: int = HISTORY_K) -> pd.DataFrame:
    """Per-user and per-application history of finished jobs, as of each job's submit time.

    Parameters
    ----------
    jobs : DataFrame
        Canonical jobs table.
    k : int
        Window of the median and ratio statistics (the last ``k`` finished jobs).

    Returns
    -------
    DataFrame
        Columns ``user_*`` and ``app_*`` (see :data:`REGISTRY`), aligned with ``jobs.index``;
        NaN where the user or application has no finished job yet (count 0).
    """
    parts = [_history_by(jobs, key, k) for key in _WHO]
    return pd.concat(parts, axis=1)


def _history_by(jobs: pd.DataFrame, key: str, k: int) -> pd.DataFrame:
    names = {stat: f"{key}_{stat}" for stat in _STATS}
    ended = jobs.loc[
        jobs["end_time"].notna() & jobs["runtime_s"].notna() & (jobs["runtime_s"] >= 0) & jobs[key].notna(),
        [key, "end_time", "runtime_s", "time_limit_s"],
    ]
    ended = ended.sort_values([key, "end_time"], kind="stable")
    groups = ended.groupby(key, sort=False, observed=True)
    runtime = groups["runtime_s"]
    ratio = (ended["runtime_s"] / ended["time_limit_s"].where(ended["time_limit_s"] > 0)).groupby(
        ended[key], sort=False, observed=True
    )
    stats = pd.DataFrame(
        {
            key: ended[key].astype(str),
            "end_time": ended["end_time"],
            names["last_runtime_s"]: ended["runtime_s"],
            names["last2_mean_s"]: runtime.rolling(2, min_periods=1).mean().droplevel(0),
            names[f"median_last{HISTORY_K}_s"]: runtime.rolling(k, min_periods=1).median().droplevel(0),
            names[f"ratio_last{HISTORY_K}"]: ratio.rolling(k, min_periods=1).mean().droplevel(0),
            names["count_prior"]: groups.cumcount().astype("float64") + 1.0,
        }
    ).sort_values("end_time", kind="stable")

    queries = jobs.loc[jobs["submit_time"].notna() & jobs[key].notna(), [key, "submit_time"]]
    queries = queries.assign(**{key: queries[key].astype(str), "_row": queries.index}).sort_values(
        "submit_time", kind="stable"
    )
    matched = pd.merge_asof(
        queries,
        stats,
        left_on="submit_time",
        right_on="end_time",
        by=key,
        allow_exact_matches=False,  # ended strictly before submission
        direction="backward",
    ).set_index("_row")
    out = pd.DataFrame(index=jobs.index, columns=list(names.values()), dtype="float64")
    out.loc[matched.index, list(names.values())] = matched[list(names.values())].to_numpy(dtype="float64")
    count = names["count_prior"]
    out[count] = out[count].where(out[count].notna(), np.where(jobs[key].notna() & jobs["submit_time"].notna(), 0.0, np.nan))
    return out
