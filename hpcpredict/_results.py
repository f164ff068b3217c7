"""What the result objects of ``explain`` and ``evaluate`` share: JSON, and the dict access of old.

Both verbs returned nested dicts before they returned frozen objects; code that still reads
``result["features"]`` keeps working, with a :class:`DeprecationWarning` naming the attribute.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Result", "jsonable", "plain", "records"]


class Result:
    """Base of the frozen result objects: :meth:`to_dict` (JSON-ready), :meth:`to_json`, old dict access."""

    def to_dict(self) -> dict:  # pragma: no cover - every result defines it
        raise NotImplementedError

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """The result as JSON text (NaN as ``null``); also written atomically to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False) + "\n"
        if path is not None:
            from ._atomic import atomic_path

            with atomic_path(path) as tmp:
                tmp.write_text(text)
        return text

    def __getitem__(self, key: str) -> Any:
        name = type(self).__name__
        warnings.warn(
            f"{name}[{key!r}] (dict access) is deprecated; use the attribute ({name}.{key}) or {name}.to_dict()[{key!r}]",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """Deprecated dict access: ``to_dict().get(key, default)``."""
        warnings.warn(f"{type(self).__name__}.get({key!r}) is deprecated; use the attribute or to_dict()", DeprecationWarning, stacklevel=2)
        return self.to_dict().get(key, default)

    def keys(self):
        """Deprecated dict access: the keys of :meth:`to_dict`."""
        warnings.warn(f"{type(self).__name__}.keys() is deprecated; use to_dict()", DeprecationWarning, stacklevel=2)
        return self.to_dict().keys()


def jsonable(value: Any) -> Any:
    """``json.dumps``'s ``default``: a result object as its ``to_dict()``, anything else as text."""
    return value.to_dict() if isinstance(value, Result) else str(value)


def plain(value: Any) -> Any:
    """``value`` with only JSON types inside: NaN → None, numpy scalars → Python, times → ISO text.

    Examples
    --------
    >>> plain({"a": np.float32(1.5), "b": [float("nan"), np.int64(2)], "c": pd.Timestamp("2024-01-01", tz="UTC")})
    {'a': 1.5, 'b': [None, 2], 'c': '2024-01-01 00:00:00+00:00'}
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return [plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (datetime, date, pd.Timestamp, pd.Period)):
        return str(value)
    return value


def records(frame: pd.DataFrame | None) -> list[dict]:
    """A table's rows as JSON-ready records (see :func:`plain`); ``[]`` for none."""
    if frame is None or not len(frame):
        return []
    return plain(frame.to_dict(orient="records"))
