"""How jobs are split into training and test sets: temporal, rolling-origin, leave-one-app-out, K-fold.

Every split yields :class:`Fold` objects. Temporal and rolling-origin splits train only on jobs
whose outcome was known at the split moment (ended before it, when end times are known); the
leave-one-application-out split never trains on the held-out application; random K-fold trains on
the future and is only a labelled comparison showing how much a random split flatters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import HpcPredictError, ParameterError

__all__ = ["SPLITS", "Fold", "kfold_folds", "loao_folds", "rolling_folds", "temporal_fold"]

#: Split name → what it measures.
SPLITS = {
    "temporal": "train on the earlier jobs, test on the later ones (the default; how a scheduler uses a model)",
    "rolling": "rolling-origin backtest: refit at the start of each period on everything known by then, test on that period",
    "loao": "leave one application out: train on all other applications, test on the held-out one",
    "kfold": "random K-fold, for comparison only: it trains on the future and flatters the model",
}


@dataclass
class Fold:
    """One training/test split of a table's index, with a label and the moment it is made (if temporal)."""

    label: str
    train: pd.Index
    test: pd.Index
    origin: pd.Timestamp | None = None


def temporal_fold(table: pd.DataFrame, boundary: pd.Timestamp, *, time: str) -> Fold:
    """Jobs from ``boundary`` on are the test set; those known by then are the training set."""
    test = table.index[table[time] >= boundary]
    train = _known_before(table.loc[table[time] < boundary], boundary).index
    return Fold(f"temporal from {boundary}", train, test, boundary)


def rolling_folds(table: pd.DataFrame, start: pd.Timestamp, *, time: str, freq: str = "MS") -> list[Fold]:
    """One fold per period (default calendar month) from ``start``: refit on what is known at its start.

    The periods cover the same jobs as the temporal split at ``start``.
    """
    end = table[time].max()
    edges = [pd.Timestamp(start)] + [e for e in pd.date_range(start, end, freq=freq, tz=table[time].dt.tz) if e > start]
    edges.append(end + pd.Timedelta(seconds=1))
    folds = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        test = table.index[(table[time] >= lo) & (table[time] < hi)]
        train = _known_before(table.loc[table[time] < lo], lo).index
        if len(test) and len(train):
            folds.append(Fold(f"{lo:%Y-%m-%d}", train, test, lo))
    if not folds:
        raise HpcPredictError("the rolling-origin split found no period with both training and test jobs")
    return folds


def loao_folds(table: pd.DataFrame, *, app: str | None, max_apps: int = 12, min_rows: int = 10) -> list[Fold]:
    """One fold per application (the ``max_apps`` most frequent with at least ``min_rows`` jobs)."""
    if app is None or app not in table.columns:
        raise ParameterError("app", "an application column present in the table (leave-one-application-out needs one)", app)
    apps = table[app].astype("string")
    counts = apps.value_counts()
    chosen = [a for a, n in counts.items() if n >= min_rows][:max_apps]
    if len(counts) < 2 or not chosen:
        raise HpcPredictError(f"leave-one-application-out needs at least 2 applications with {min_rows}+ jobs in column {app!r}")
    return [Fold(str(a), table.index[(apps != a).fillna(True).to_numpy()], table.index[(apps == a).fillna(False).to_numpy()]) for a in chosen]


def kfold_folds(table: pd.DataFrame, *, folds: int = 5, seed: int = 0) -> list[Fold]:
    """Random K-fold over all jobs (trains on the future: a comparison, not an estimate)."""
    from sklearn.model_selection import KFold

    if not 2 <= folds <= len(table):
        raise ParameterError("folds", f"an integer from 2 to the number of jobs ({len(table)})", folds)
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    return [Fold(f"fold {i + 1}/{folds}", table.index[tr], table.index[te]) for i, (tr, te) in enumerate(splitter.split(np.arange(len(table))))]


def _known_before(rows: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    from ..model.train import known_by

    return known_by(rows, moment)
