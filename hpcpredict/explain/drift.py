"""Rankings per time window, and how much they change from one window to the next."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shap

__all__ = ["drift_summary", "rank_by_window"]


def rank_by_window(explanation: shap.Explanation, times: pd.Series | np.ndarray, *, freq: str = "M", min_rows: int = 30) -> pd.DataFrame:
    """Mean |SHAP| of each feature in each time window (e.g. month of submission).

    Parameters
    ----------
    explanation : shap.Explanation
        Rows to rank.
    times : Series of datetimes
        The time of each explained row (``submit_time``), aligned with the rows.
    freq : str
        A pandas period frequency: ``"M"`` (month), ``"W"`` (week), ``"D"`` (day), ``"Q"``.
    min_rows : int
        Windows with fewer explained rows are left out.

    Returns
    -------
    DataFrame
        One row per window (index: the window's label, ``"2024-03"``), one column per feature,
        plus ``rows``: how many rows the window holds.

    Examples
    --------
    >>> import numpy as np, pandas as pd, shap
    >>> e = shap.Explanation(values=np.ones((60, 2)), base_values=np.zeros(60), data=np.zeros((60, 2)), feature_names=["a", "b"])
    >>> t = pd.Series(pd.date_range("2024-01-01", periods=60, freq="D", tz="UTC"))
    >>> list(rank_by_window(e, t, min_rows=10).index)
    ['2024-01', '2024-02']
    """
    when = pd.to_datetime(pd.Series(np.asarray(times)), utc=True).dt.tz_convert(None)
    window = when.dt.to_period(freq).astype(str).where(when.notna(), None)
    frame = pd.DataFrame(np.abs(np.asarray(explanation.values, dtype=float)), columns=list(explanation.feature_names))
    grouped = frame.groupby(window.to_numpy(), sort=True)
    table = grouped.mean()
    table["rows"] = grouped.size()
    return table.loc[table["rows"] >= min_rows]


def drift_summary(by_window: pd.DataFrame, *, top: int = 10) -> pd.DataFrame:
    """Rank correlation of feature importance between consecutive windows.

    A Spearman or Kendall correlation near 1 says the windows rank features alike; a drop flags a
    window where the dominant causes changed (after an upgrade, a new application mix, ...).

    Parameters
    ----------
    by_window : DataFrame
        From :func:`rank_by_window`.
    top : int
        Also compare the ``top`` features of each window (``top_k_overlap``).

    Returns
    -------
    DataFrame
        One row per window after the first: ``window``, ``previous``, ``rows``, ``spearman``,
        ``kendall``, ``top_k_overlap`` (share of the previous window's top features still in the
        top), ``top_feature``, ``previous_top_feature`` and ``top_changed``.
    """
    from scipy.stats import kendalltau, spearmanr

    means = by_window.drop(columns=["rows"])
    records = []
    windows = list(means.index)
    k = min(top, means.shape[1])
    for prev, cur in zip(windows[:-1], windows[1:]):
        a, b = means.loc[prev].to_numpy(float), means.loc[cur].to_numpy(float)
        rho = spearmanr(a, b).statistic if means.shape[1] > 1 else np.nan
        tau = kendalltau(a, b).statistic if means.shape[1] > 1 else np.nan
        top_a, top_b = set(means.columns[np.argsort(-a, kind="stable")[:k]]), set(means.columns[np.argsort(-b, kind="stable")[:k]])
        records.append(
            {
                "window": cur,
                "previous": prev,
                "rows": int(by_window.loc[cur, "rows"]),
                "spearman": float(rho),
                "kendall": float(tau),
                "top_k_overlap": len(top_a & top_b) / k if k else np.nan,
                "top_feature": str(means.columns[int(np.argmax(b))]),
                "previous_top_feature": str(means.columns[int(np.argmax(a))]),
            }
        )
    out = pd.DataFrame(records, columns=["window", "previous", "rows", "spearman", "kendall", "top_k_overlap", "top_feature", "previous_top_feature"])
    out["top_changed"] = out["top_feature"] != out["previous_top_feature"]
    return out
