"""Stratified sampling for SHAP on a CPU, grown until the top-k ranking is stable.

Exact TreeSHAP costs milliseconds per row per thread, so a global ranking of 100k jobs on a small
CPU explains a sample instead. The sample is stratified by time window and application (every month
and every application keeps its share), and it grows (doubling) until bootstrap resamples of the
explained rows agree on the top-k features, so the reported ranking is one a user can act on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shap

from ..model import RuntimeModel
from .values import concat_explanations, shap_values

__all__ = ["ranking_stability", "stable_shap_values", "stratified_order"]


def stratified_order(table: pd.DataFrame, *, by: tuple[str, ...] = ("submit_time", "app"), freq: str = "M", seed: int = 0) -> np.ndarray:
    """Row positions ordered so that every prefix is a proportional stratified sample.

    Each stratum (month of ``submit_time`` x application) is shuffled, and its i-th row of m gets
    the key ``(i + u) / m`` with ``u`` uniform in [0, 1); sorting by key interleaves the strata, so
    the first n positions hold about ``n * m / N`` rows of each stratum, for every n. Growing a
    sample is then taking a longer prefix: rows already explained stay in it.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"submit_time": pd.to_datetime(["2024-01-01"] * 6 + ["2024-02-01"] * 2, utc=True), "app": ["a"] * 8})
    >>> order = stratified_order(t)
    >>> int((order[:4] >= 6).sum())  # February holds a quarter of the rows, and of any prefix
    1
    """
    keys = []
    for col in by:
        if col not in table.columns:
            continue
        values = table[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.tz_convert(None) if getattr(values.dt, "tz", None) is not None else values
            values = values.dt.to_period(freq).astype(str)
        keys.append(values.astype(str).fillna("?").to_numpy())
    rng = np.random.default_rng(seed)
    n = len(table)
    if not keys:
        return rng.permutation(n)
    stratum = _codes(keys)
    shuffled = rng.permutation(n)
    position = pd.Series(np.arange(n)).groupby(stratum[shuffled]).cumcount().to_numpy()
    rank_in_stratum = np.empty(n)
    rank_in_stratum[shuffled] = position
    size = np.bincount(stratum)[stratum]
    key = (rank_in_stratum + rng.random(n)) / size
    return np.argsort(key, kind="stable")


def _codes(keys: list[np.ndarray]) -> np.ndarray:
    joined = keys[0].astype(object)
    for k in keys[1:]:
        joined = joined + "\x1f" + k.astype(object)
    return pd.factorize(joined)[0]


def ranking_stability(explanation: shap.Explanation, *, top: int = 10, n_boot: int = 50, seed: int = 0) -> dict:
    """How much bootstrap resamples of the explained rows agree on the top-``top`` features.

    Returns
    -------
    dict
        ``top_k``, ``n_boot``, ``rows``, ``top_k_agreement`` (mean share of the point estimate's
        top-k features that a resample also ranks in its top k; 1.0 = always the same set),
        ``rank_kendall`` (mean Kendall tau between a resample's ranks of those features and the
        point estimate's) and ``top1_agreement`` (share of resamples with the same leading feature).
    """
    from scipy.stats import kendalltau

    absolute = np.abs(np.asarray(explanation.values, dtype=float))
    n, p = absolute.shape
    k = min(top, p)
    point = absolute.mean(axis=0)
    best = np.argsort(-point, kind="stable")[:k]
    rng = np.random.default_rng(seed)
    overlap, taus, first = [], [], []
    for _ in range(n_boot):
        means = absolute[rng.integers(0, n, n)].mean(axis=0)
        order = np.argsort(-means, kind="stable")
        overlap.append(len(set(order[:k]) & set(best)) / k)
        first.append(order[0] == best[0])
        if k > 1:
            ranks = np.empty(p)
            ranks[order] = np.arange(p)
            tau = kendalltau(np.arange(k), ranks[best]).statistic
            taus.append(1.0 if np.isnan(tau) else tau)
    return {
        "top_k": int(k),
        "n_boot": int(n_boot),
        "rows": int(n),
        "top_k_agreement": float(np.mean(overlap)) if overlap else 1.0,
        "rank_kendall": float(np.mean(taus)) if taus else 1.0,
        "top1_agreement": float(np.mean(first)) if first else 1.0,
    }


def stable_shap_values(
    bundle: RuntimeModel,
    table: pd.DataFrame,
    *,
    top: int = 10,
    start: int = 2000,
    max_rows: int = 20000,
    target: float = 0.9,
    device: str = "cpu",
    seed: int = 0,
    client=None,
) -> tuple[shap.Explanation, dict]:
    """SHAP values of a stratified sample grown until the top-``top`` ranking is stable.

    The sample starts at ``start`` rows and doubles until the bootstrap top-k agreement (see
    :func:`ranking_stability`) reaches ``target`` or ``max_rows`` rows are explained; with no more
    rows than ``max_rows`` in ``table`` every row is explained at once.

    Returns
    -------
    (shap.Explanation, dict)
        The values, and the sampling record: ``method`` ("all" or "stratified"), ``rows_total``,
        ``rows_explained``, ``steps`` (rows and agreement after each step) and ``stability``.

    Examples
    --------
    >>> expl, record = stable_shap_values(bundle, table, top=10)  # doctest: +SKIP
    >>> record["stability"]["top_k_agreement"] >= 0.9 or record["rows_explained"] == 20000  # doctest: +SKIP
    True
    """
    total = len(table)
    if total <= max_rows:
        explanation = shap_values(bundle, table, device=device, client=client)
        stability = ranking_stability(explanation, top=top, seed=seed)
        return explanation, {"method": "all", "rows_total": total, "rows_explained": total, "steps": [], "stability": stability}
    order = stratified_order(table, seed=seed)
    parts, done, steps = [], 0, []
    size = min(start, max_rows)
    while True:
        parts.append(shap_values(bundle, table.iloc[order[done:size]], device=device, client=client))
        done = size
        explanation = concat_explanations(parts) if len(parts) > 1 else parts[0]
        stability = ranking_stability(explanation, top=top, seed=seed)
        steps.append({"rows": done, "top_k_agreement": stability["top_k_agreement"]})
        if stability["top_k_agreement"] >= target or done >= max_rows:
            break
        size = min(2 * size, max_rows)
    return explanation, {"method": "stratified", "rows_total": total, "rows_explained": done, "steps": steps, "stability": stability}
