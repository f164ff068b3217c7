"""Checks of a table against a fitted model's contract, and the names of the former ``Bundle`` API.

:func:`check_table` refuses a feature table whose features, kinds or horizon differ from the
model's, naming the difference; :func:`unseen_categories` counts the values a model never saw.
"""

from __future__ import annotations

import os
import warnings

import pandas as pd

from ..errors import BundleMismatchError
from ..metadata import feature_specs, table_metadata
from .estimator import RuntimeModel

__all__ = ["check_table", "load_bundle", "unseen_categories"]


def check_table(model: RuntimeModel, table: pd.DataFrame) -> None:
    """Refuse a feature table whose features or horizon differ from the model's.

    Raises
    ------
    BundleMismatchError
        Naming the missing features, the extra features, or the two horizons.
    """
    manifest = model.manifest_
    specs = feature_specs(table)
    horizon = table_metadata(table).get("horizon")
    if horizon is not None and horizon != manifest.horizon:
        raise BundleMismatchError(f"the model was trained for horizon {manifest.horizon!r}, the feature table is for {horizon!r}")
    expected = manifest.feature_names
    have = [f["name"] for f in specs] or [c for c in table.columns if c in expected]
    missing = [n for n in expected if n not in table.columns]
    extra = [n for n in have if n not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing features {missing}")
        if extra:
            parts.append(f"extra features {extra}")
        raise BundleMismatchError("the feature table does not match the model: " + "; ".join(parts))
    table_kinds = {f["name"]: f.get("kind") for f in specs}
    for f in manifest.features:
        col = table[f.name]
        declared = table_kinds.get(f.name)
        if declared is not None and declared != f.kind:
            raise BundleMismatchError(f"feature {f.name!r}: the model was trained on it as {f.kind}, the feature table declares it {declared}")
        if f.kind == "numeric" and not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)) and col.notna().any():
            raise BundleMismatchError(f"feature {f.name!r}: the model expects numbers (float32), the feature table has dtype {col.dtype}")


def unseen_categories(model: RuntimeModel, table: pd.DataFrame) -> dict[str, int]:
    """Categorical feature → number of rows whose category the model never saw (they count as missing)."""
    out = {}
    for name, cats in model.manifest_.categories.items():
        if name in table.columns:
            col = table[name]
            n = int((col.notna() & ~col.astype("string").isin(list(cats))).sum())
            if n:
                out[name] = n
    return out


def load_bundle(path: str | os.PathLike[str]) -> RuntimeModel:
    """Deprecated: use :meth:`RuntimeModel.load` (or :func:`hpcpredict.load_model`)."""
    warnings.warn("load_bundle is deprecated; use hpcpredict.load_model(path) or RuntimeModel.load(path)", DeprecationWarning, stacklevel=2)
    return RuntimeModel.load(path)
