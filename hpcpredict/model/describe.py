"""The manifest of a fitted :class:`~hpcpredict.model.RuntimeModel`, read from the estimator itself.

What the manifest says about the fit — parameters, trees kept, early stopping, validation rows — is
read from the fitted estimator and its booster, never from the arguments someone passed to
:func:`~hpcpredict.model.train` (those can be overridden by ``params`` and were once recorded as if
they had not been).
"""

from __future__ import annotations

import platform
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import xgboost as xgb

from .._version import __version__
from .estimator import INTERVAL_QUANTILES
from .manifest import FORMAT_VERSION, FeatureSpec, Manifest
from .objectives import get_objective

__all__ = ["describe_fit"]


def describe_fit(
    model,
    *,
    target: str = "y",
    specs: list[dict] | None = None,
    horizon: str = "table",
    time_column: str = "time",
    app_column: str | None = None,
    apps: list[str] | None = None,
    table_source: dict | None = None,
    training_window: dict | None = None,
    test_boundary=None,
    test_fraction: float | None = None,
    rows: dict | None = None,
    dask: str | None = None,
    data_hash: str | None = None,
) -> Manifest:
    """A :class:`Manifest` for ``model`` (fitted), with the context only the caller knows.

    ``specs`` gives each feature's family, horizon and description (feature table metadata);
    without it every feature is of family ``"table"``. ``rows`` adds counts the estimator cannot
    know (``test``, ``not_finished_at_boundary``) to its own ``train`` and ``validation``.
    """
    obj = get_objective(model.objective)
    by_name = {f["name"]: f for f in specs or []}
    features = tuple(
        FeatureSpec(
            name=name,
            family=by_name.get(name, {}).get("family", "table"),
            horizon=by_name.get(name, {}).get("horizon", horizon),
            kind=model.feature_kinds_[name],
            description=by_name.get(name, {}).get("description", ""),
            categories=tuple(model.categories_[name]) if model.feature_kinds_[name] == "categorical" else None,
        )
        for name in model._names
    )
    n_trees = int(model.booster_.num_boosted_rounds())
    n_valid = int(getattr(model, "n_valid_", 0) or 0)
    fitted_rows = {"train": int(model.n_train_), "validation": n_valid, **(rows or {})}
    return Manifest(
        format_version=FORMAT_VERSION,
        hpcpredict_version=__version__,
        versions={"xgboost": xgb.__version__, "pandas": pd.__version__, "numpy": np.__version__, "python": platform.python_version()},
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        target=target,
        objective=obj.name,
        xgb_objective=obj.xgb_objective,
        target_transform=obj.transform,
        horizon=horizon,
        time_column=time_column,
        app_column=app_column,
        apps=tuple(apps) if apps else None,
        table_source=table_source,
        features=features,
        training_window={k: str(v) for k, v in (training_window or {}).items()},
        test_boundary=None if test_boundary is None else str(pd.Timestamp(test_boundary)),
        test_fraction=test_fraction,
        rows=fitted_rows,
        hyperparameters=model.get_params(),
        xgb_params=dict(getattr(model, "xgb_params_", {}) or {}),
        n_trees=n_trees,
        early_stopping_rounds=model.early_stopping_rounds if n_valid else None,
        dask=dask,
        intervals=None if model.interval_booster_ is None else tuple(float(q) for q in INTERVAL_QUANTILES),
        interval_transform=model.interval_transform_,
        interval_calibration=model.interval_calibration_,
        limit_rule=getattr(model, "limit_rule_", None),
        combination=getattr(model, "combination_", None),
        data_hash=data_hash,
        model_sha256="",
        intervals_sha256=None,
        checksum="",
    )

