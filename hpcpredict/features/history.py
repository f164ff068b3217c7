"""History features: how the same user's (and application's) earlier jobs ran.

Only jobs that ENDED strictly before a job's submit time count: a runtime is known once its job
ends, so these features exist at the ``submit`` horizon and never see the future. Each job is
matched to the last job of its user that had ended by then (``pandas.merge_asof``), whose running
statistics over the user's ended jobs are computed once; no per-job scan.

Besides runtimes, the features carry the heuristics schedulers use: the runtime/limit ratios of
the latest ended jobs (the ALEA family: the job's own limit times the recent maximum or mean
ratio), Tsafrir's last-2 over completed jobs only, and the time since the user's previous
submission (bursts of submissions are usually copies of one job).

A third key, the **repeat** of a request, is the user's earlier jobs that asked for the same time
limit and CPUs: a user who submits the same request again is most often running the same job
again, so its ratios are the user's ratios narrowed to that job. Its features
(:data:`REPEAT_FEATURES`) are inputs of the combination with the heuristics, not of the trees
(:mod:`hpcpredict.model.combine`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._per_key import KeyedEvents, key_codes
from .registry import register

__all__ = ["HISTORY_K", "RATIO_WINDOWS", "REPEAT", "REPEAT_COLUMNS", "REPEAT_FEATURES", "SINCE_LAST_SUBMIT", "alea_source", "history_features", "nanoseconds", "repeat_keys", "seconds_since_previous", "since_last_submit_features"]

#: How many of the latest ended jobs the median and ratio features look at.
HISTORY_K = 10

#: Windows (latest ended jobs) of the max/mean runtime/limit ratios and their ALEA predictions.
RATIO_WINDOWS = (2, 5)

_STATS = {
    "last_runtime_s": "runtime of the {who}'s last finished job",
    "last2_mean_s": "mean runtime of the {who}'s last two finished jobs",
    f"median_last{HISTORY_K}_s": f"median runtime of the {{who}}'s last {HISTORY_K} finished jobs",
    f"ratio_last{HISTORY_K}": f"mean runtime / time limit of the {{who}}'s last {HISTORY_K} finished jobs",
    "count_prior": "number of the {who}'s jobs finished before this submission",
}
for _k in RATIO_WINDOWS:
    for _agg in ("max", "mean"):
        _STATS[f"ratio_last{_k}_{_agg}"] = f"{_agg} runtime / time limit of the {{who}}'s last {_k} finished jobs"
        _STATS[f"alea_last{_k}_{_agg}_s"] = f"this job's time limit x the {_agg} runtime / limit ratio of the {{who}}'s last {_k} finished jobs"
_WHO = {"user": "user", "app": "application"}

for _key, _who in _WHO.items():
    for _stat, _text in _STATS.items():
        register(f"{_key}_{_stat}", "history", "submit", _text.format(who=_who))

#: The key of a request's repeats, and the job columns that make a request the same one.
REPEAT = "repeat"
REPEAT_COLUMNS = ("user", "time_limit_s", "req_cpus")
_REPEAT_STATS = ["count_prior"] + [f"ratio_last{k}_{agg}" for k in RATIO_WINDOWS for agg in ("max", "mean")]
_REPEAT_STATS += [f"alea_last{k}_{agg}_s" for k in RATIO_WINDOWS for agg in ("max", "mean")]
#: Features of the user's earlier jobs with the same request (limit and CPUs): read by the
#: combination (the history classes and its heuristics), hidden from the trees.
REPEAT_FEATURES = tuple(f"{REPEAT}_{stat}" for stat in _REPEAT_STATS)
for _stat in _REPEAT_STATS:
    register(f"{REPEAT}_{_stat}", "history", "submit", _STATS[_stat].format(who="user").replace(" jobs", " jobs with this job's time limit and CPUs"))
register("user_last2_completed_mean_s", "history", "submit", "mean runtime of the user's last two COMPLETED jobs")

#: Seconds since the user's previous submission (a submission, not an ended job: known at once).
SINCE_LAST_SUBMIT = "user_since_last_submit_s"
register(SINCE_LAST_SUBMIT, "history", "submit", "seconds since the user's previous submission", optional="user-activity")


def alea_source(name: str) -> str | None:
    """The ratio feature an ALEA feature multiplies by the job's limit, or None for other features.

    Examples
    --------
    >>> alea_source("user_alea_last5_mean_s")
    'user_ratio_last5_mean'
    """
    key, sep, rest = name.partition("_alea_")
    return f"{key}_ratio_{rest[:-2]}" if sep and rest.endswith("_s") and (key in _WHO or key == REPEAT) else None


def repeat_keys(user, limit, cpus) -> list:
    """The key of each job's request: its user, time limit and CPUs as one string (None without a user).

    The offline features and the service build it from the same values, so a request typed as
    ``3600`` matches a job whose accounting says ``3600.0``.

    Examples
    --------
    >>> repeat_keys(["a", None], [3600, 60.0], [4, np.nan])
    ['a|3600.0|4.0', None]
    """
    limit, cpus = np.asarray(limit, float), np.asarray(cpus, float)
    return [None if u is None or u != u else f"{u}|{float(l)!r}|{float(c)!r}" for u, l, c in zip(user, limit, cpus)]


def _repeat_column(jobs: pd.DataFrame) -> pd.Series:
    def numbers(name: str) -> np.ndarray:
        return pd.to_numeric(jobs[name], errors="coerce").to_numpy(float, na_value=np.nan) if name in jobs.columns else np.full(len(jobs), np.nan)

    users = jobs["user"].astype("string").to_numpy(object, na_value=None)
    return pd.Series(repeat_keys(users, numbers("time_limit_s"), numbers("req_cpus")), index=jobs.index, dtype="string")


def history_features(jobs: pd.DataFrame, *, k: int = HISTORY_K) -> pd.DataFrame:
    """Per-user and per-application history of finished jobs, as of each job's submit time.

    Parameters
    ----------
    jobs : DataFrame
        Canonical jobs table.
    k : int
        Window of the median and mean-ratio statistics (the last ``k`` finished jobs).

    Returns
    -------
    DataFrame
        Columns ``user_*`` and ``app_*`` (see :data:`REGISTRY`), aligned with ``jobs.index``;
        NaN where the user or application has no finished job yet (count 0). The ALEA columns
        (``*_alea_last{2,5}_{max,mean}_s``) are the job's own limit times the recent ratio. The
        ``repeat_*`` columns (:data:`REPEAT_FEATURES`) are the user's ratios over the jobs with the
        same request (time limit and CPUs).

    Examples
    --------
    >>> t0 = pd.Timestamp("2024-01-01", tz="UTC")
    >>> jobs = pd.DataFrame({"user": ["a", "a"], "app": ["x", "x"], "state": "COMPLETED",
    ...     "submit_time": [t0, t0 + pd.Timedelta(hours=2)], "end_time": [t0 + pd.Timedelta(hours=1), t0 + pd.Timedelta(hours=3)],
    ...     "runtime_s": [1800.0, 600.0], "time_limit_s": [3600.0, 7200.0]})
    >>> history_features(jobs).loc[1, ["user_ratio_last2_max", "user_alea_last2_max_s"]].tolist()
    [0.5, 3600.0]
    """
    limit = pd.to_numeric(jobs["time_limit_s"], errors="coerce").where(lambda s: s > 0)
    parts = [_history_by(jobs, key, k, limit) for key in _WHO]
    parts.append(_history_by(jobs.assign(**{REPEAT: _repeat_column(jobs)}), REPEAT, k, limit, runtimes=False)[list(REPEAT_FEATURES)])
    completed = jobs["state"].astype("string").eq("COMPLETED").fillna(False).to_numpy(bool) if "state" in jobs.columns else np.zeros(len(jobs), bool)
    last2 = _matched(jobs, "user", jobs.loc[completed], lambda ended, groups: {"user_last2_completed_mean_s": _last_window(ended["runtime_s"].to_numpy(float), _group_starts(ended["user"]), 2, "mean")})
    parts.append(last2)
    return pd.concat(parts, axis=1)


def since_last_submit_features(jobs: pd.DataFrame) -> pd.DataFrame:
    """``user_since_last_submit_s``: seconds since the same user's latest submission strictly
    before this one (NaN for the first; a feature of the optional ``user-activity`` group).

    Jobs submitted at the same moment all see the submission before it, so a burst of copies reads
    the same whatever order the accounting lists them in. Nanoseconds, like the service's lookup.

    Examples
    --------
    >>> t0 = pd.Timestamp("2024-01-01", tz="UTC")
    >>> jobs = pd.DataFrame({"user": ["a", "a", "b"], "submit_time": [t0, t0 + pd.Timedelta(hours=2), t0]})
    >>> since_last_submit_features(jobs)["user_since_last_submit_s"].tolist()
    [nan, 7200.0, nan]
    """
    codes = key_codes(jobs["user"])
    submit = nanoseconds(jobs["submit_time"])
    previous = KeyedEvents(codes, submit).latest_before(codes, submit)
    return pd.DataFrame({SINCE_LAST_SUBMIT: _gap_s(submit, previous)}, index=jobs.index)


def seconds_since_previous(submits_ns: np.ndarray, submit_ns: int) -> float:
    """Seconds from the latest of the sorted ``submits_ns`` strictly before ``submit_ns`` (NaN if none).

    The service's per-request form of ``user_since_last_submit_s``: one user's submissions, sorted.

    Examples
    --------
    >>> seconds_since_previous(np.array([0, 5_000_000_000, 9_000_000_000]), 9_000_000_000)
    4.0
    """
    i = int(np.searchsorted(submits_ns, submit_ns, side="left"))
    return float((np.int64(submit_ns) - submits_ns[i - 1]) / 1e9) if i else float("nan")


def _gap_s(submit_ns: np.ndarray, previous_ns: np.ndarray) -> np.ndarray:
    found = previous_ns != np.iinfo(np.int64).min
    out = np.full(len(submit_ns), np.nan)
    out[found] = (submit_ns[found] - previous_ns[found]) / 1e9
    return out


def nanoseconds(times: pd.Series) -> np.ndarray:
    """UTC times as int64 nanoseconds (NaT's own value where missing)."""
    return pd.to_datetime(times, utc=True).to_numpy("datetime64[ns]").astype("int64")


def _history_by(jobs: pd.DataFrame, key: str, k: int, limit: pd.Series, *, runtimes: bool = True) -> pd.DataFrame:
    """The history statistics of ``key`` (without ``runtimes``: the count and the ratio windows only)."""

    def stats(ended: pd.DataFrame, groups) -> dict:
        first = _group_starts(ended[key])
        ratio = (ended["runtime_s"] / ended["time_limit_s"].where(ended["time_limit_s"] > 0)).to_numpy(float)
        out = {}
        if runtimes:
            runtime = ended["runtime_s"].to_numpy(float)
            out[f"{key}_last_runtime_s"] = runtime
            out[f"{key}_last2_mean_s"] = _last_window(runtime, first, 2, "mean")
            out[f"{key}_median_last{HISTORY_K}_s"] = groups["runtime_s"].rolling(k, min_periods=1).median().droplevel(0).to_numpy(float)
            out[f"{key}_ratio_last{HISTORY_K}"] = _last_window(ratio, first, k, "mean")
        out[f"{key}_count_prior"] = np.arange(len(ended)) - first + 1.0
        for w in RATIO_WINDOWS:
            out[f"{key}_ratio_last{w}_max"] = _last_window(ratio, first, w, "max")
            out[f"{key}_ratio_last{w}_mean"] = _last_window(ratio, first, w, "mean")
        return out

    out = _matched(jobs, key, jobs, stats)
    count = f"{key}_count_prior"
    out[count] = out[count].where(out[count].notna(), np.where(jobs[key].notna() & jobs["submit_time"].notna(), 0.0, np.nan))
    for w in RATIO_WINDOWS:
        for agg in ("max", "mean"):
            # the job's own limit times its history's ratio: the ALEA predictor, a product trees cannot form
            out[f"{key}_alea_last{w}_{agg}_s"] = limit.to_numpy(float) * out[f"{key}_ratio_last{w}_{agg}"].to_numpy(float)
    return out


def _group_starts(keys: pd.Series) -> np.ndarray:
    """For rows sorted by key, the position of the first row of each row's key."""
    values = keys.astype(str).to_numpy()
    change = np.ones(len(values), bool)
    change[1:] = values[1:] != values[:-1]
    return np.maximum.accumulate(np.where(change, np.arange(len(values)), 0))


def _last_window(values: np.ndarray, first: np.ndarray, w: int, how: str) -> np.ndarray:
    """The max or mean of each row's last ``w`` values within its key (rows sorted by key, ``first``
    from :func:`_group_starts`), missing values skipped: pandas' ``rolling(w, min_periods=1)``
    without its per-group loop (a request key has tens of thousands of groups).

    Examples
    --------
    >>> _last_window(np.array([1.0, 3.0, np.nan, 2.0, 5.0]), np.array([0, 0, 0, 3, 3]), 2, "max").tolist()
    [1.0, 3.0, 3.0, 2.0, 5.0]
    >>> _last_window(np.array([1.0, 3.0, np.nan, 2.0, 5.0]), np.array([0, 0, 0, 3, 3]), 2, "mean").tolist()
    [1.0, 2.0, 3.0, 2.0, 3.5]
    """
    rows = np.arange(len(values))
    total, count, best = np.zeros(len(values)), np.zeros(len(values)), np.full(len(values), np.nan)
    for lag in range(w):
        at = rows - lag
        inside = at >= first
        v = np.where(inside, values[np.maximum(at, 0)], np.nan)
        seen = ~np.isnan(v)
        total += np.where(seen, v, 0.0)
        count += seen
        best = np.fmax(best, v)
    if how == "max":
        return best
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _matched(jobs: pd.DataFrame, key: str, source: pd.DataFrame, stats) -> pd.DataFrame:
    """Statistics of ``source``'s ended jobs per ``key``, matched to each job of ``jobs`` at its submit time."""
    ended = source.loc[
        source["end_time"].notna() & source["runtime_s"].notna() & (source["runtime_s"] >= 0) & source[key].notna(),
        [key, "end_time", "runtime_s", "time_limit_s"],
    ]
    ended = ended.sort_values([key, "end_time"], kind="stable")
    groups = ended.groupby(key, sort=False, observed=True)
    columns = stats(ended, groups)
    names = list(columns)
    table = pd.DataFrame({key: ended[key].astype(str), "end_time": ended["end_time"], **columns}).sort_values("end_time", kind="stable")
    queries = jobs.loc[jobs["submit_time"].notna() & jobs[key].notna(), [key, "submit_time"]]
    queries = queries.assign(**{key: queries[key].astype(str), "_row": queries.index}).sort_values("submit_time", kind="stable")
    matched = pd.merge_asof(
        queries,
        table,
        left_on="submit_time",
        right_on="end_time",
        by=key,
        allow_exact_matches=False,  # ended strictly before submission
        direction="backward",
    ).set_index("_row")
    out = pd.DataFrame(index=jobs.index, columns=names, dtype="float64")
    out.loc[matched.index, names] = matched[names].to_numpy(dtype="float64")
    return out
