"""What an hpcpredict table says about itself, in one place.

On disk a table's metadata is its Parquet key-value metadata (key ``hpcpredict``: the feature specs
and horizon of a feature table, the moment of a queue's predictions), and a model's is its manifest.
In memory, between two stages called from Python, the same dict rides on the DataFrame; this module
is the only code that touches where (``DataFrame.attrs``), so the readers fill it from the Parquet
metadata, the writers write it back, and no stage copies it from one frame to another by hand.

Examples
--------
>>> import pandas as pd
>>> table = with_metadata(pd.DataFrame({"x": [1.0]}), table="features", horizon="submit",
...                       features=[{"name": "x", "family": "request", "horizon": "submit", "kind": "numeric"}])
>>> [f["name"] for f in feature_specs(table)], table_metadata(table)["horizon"]
(['x'], 'submit')
>>> table_metadata(without_metadata(table))
{}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["feature_specs", "table_metadata", "with_metadata", "without_metadata"]


def table_metadata(table: pd.DataFrame) -> dict[str, Any]:
    """A copy of the metadata ``table`` carries (``{}`` for a table hpcpredict did not make)."""
    return dict(table.attrs)


def with_metadata(frame: pd.DataFrame, metadata: dict[str, Any] | None = None, /, **fields: Any) -> pd.DataFrame:
    """``frame`` (the same object) carrying ``metadata`` and ``fields`` beside what it had."""
    frame.attrs.update({**(metadata or {}), **fields})
    return frame


def without_metadata(table: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy of ``table`` without metadata: what a writer hands to pyarrow, which would
    otherwise store it a second time (and fail on timestamps); writers put it in the file's own key."""
    plain = table.copy(deep=False)
    plain.attrs = {}
    return plain


def feature_specs(table: pd.DataFrame) -> list[dict]:
    """The feature specs a feature table declares (name, family, horizon, kind), ``[]`` for none.

    From :func:`hpcpredict.api.build_features` or a bring-your-own table in memory, or from the
    Parquet metadata of a file :func:`hpcpredict.features.read_features` read.
    """
    return list(table.attrs.get("features", []))
