"""The one encoding of a model's input: a float32 matrix in the model's column order.

Numbers become float32 (text in a numeric column becomes missing); a categorical becomes the code
of its category in the training categories (a category never seen becomes missing, which the trees
route by their default direction). Every path — prediction of a table, of a queue, of one request in
the service, SHAP values — goes through :func:`encode_rows`, so a job gets the same numbers
wherever it is predicted. Small batches (the service's one job) look categories up in a dict
instead of building pandas objects, which keeps one request in microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["EncodedRows", "encode_frame", "encode_rows"]

# Below this many rows a dict lookup per value beats building a pandas Categorical.
_SMALL = 64


@dataclass(frozen=True)
class EncodedRows:
    """Rows encoded for one model: ``matrix`` (rows x features, float32) and each row's time limit.

    ``limit`` (seconds, NaN = none) caps runtime predictions; None when the rows carry no limit
    or the model does not predict runtime.
    """

    matrix: np.ndarray
    limit: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.matrix)


def encode_rows(
    columns: Mapping | pd.DataFrame,
    names: list[str],
    kinds: Mapping[str, str],
    codes: Mapping[str, Mapping[str, int]],
    *,
    limit_column: str | None = None,
) -> EncodedRows:
    """Encode ``columns`` (a DataFrame, or a mapping of column → sequence) for a model.

    Raises
    ------
    ValueError
        Naming the columns the model needs that ``columns`` lacks, or a categorical feature given
        as numbers (codes instead of the category labels the model was trained on).

    Examples
    --------
    >>> enc = encode_rows({"n": [1, 2], "queue": ["b", "zzz"]}, ["n", "queue"], {"n": "numeric", "queue": "categorical"}, {"queue": {"a": 0, "b": 1}})
    >>> enc.matrix.tolist()
    [[1.0, 1.0], [2.0, nan]]
    """
    missing = [n for n in names if n not in columns]
    if missing:
        raise ValueError(f"the rows lack the model's feature columns {missing}")
    n = len(columns[names[0]]) if names else len(columns)
    matrix = np.empty((n, len(names)), dtype=np.float32)
    for i, name in enumerate(names):
        values = columns[name]
        if kinds[name] == "categorical":
            matrix[:, i] = _codes(values, codes[name], name, n)
        else:
            matrix[:, i] = values if _is_float_array(values) else _numbers(values)
    limit = None
    if limit_column is not None and limit_column in columns:
        limit = np.asarray(pd.to_numeric(columns[limit_column], errors="coerce"), dtype=float).reshape(-1)
    return EncodedRows(matrix, limit)


def _numbers(values) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _is_float_array(values) -> bool:
    return isinstance(values, np.ndarray) and values.dtype.kind == "f"


def _codes(values, codes: Mapping[str, int], name: str, n: int) -> np.ndarray:
    if isinstance(values, pd.Series):
        dtype = values.dtype.categories.dtype if isinstance(values.dtype, pd.CategoricalDtype) else values.dtype
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype) and values.notna().any():
            _refuse_numbers(name, values.dropna().iloc[0])
        if n > _SMALL:
            found = pd.Index(list(codes), dtype=object).get_indexer(values.astype("string").astype(object))
            return np.where(found >= 0, found, np.nan)
        values = values.astype(object).tolist()
    out = np.empty(n, dtype=np.float32)
    for j, value in enumerate(values):
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            out[j] = np.nan
            continue
        if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
            _refuse_numbers(name, value)
        out[j] = codes.get(str(value), np.nan)
    return out


def _refuse_numbers(name: str, value) -> None:
    raise ValueError(f"feature {name!r} is categorical: give its category labels (text), not numbers (got {value!r}; category codes?)")


def encode_frame(X: pd.DataFrame, names: list[str], kinds: dict[str, str], categories: dict[str, list[str]]) -> pd.DataFrame:
    """The model's input columns in its order: numbers as float32, categoricals coded as in training.

    A category the model never saw becomes a missing value, which the trees route by their
    default direction; a string in a numeric column becomes missing too.
    """
    out = {}
    for name in names:
        col = X[name]
        if kinds[name] == "categorical":
            text = col.astype("string")
            known = text.isin(categories[name]).fillna(False).to_numpy(bool)
            out[name] = pd.Categorical(text.astype(object).where(known, None), categories=categories[name])
        else:
            out[name] = pd.to_numeric(col, errors="coerce").astype("float32")
    return pd.DataFrame(out, index=X.index)
