"""Per-key event lookups ("this user's events strictly before t"), vectorised over every job at once.

A trace of ~200,000 jobs has thousands of users; a Python loop per user costs seconds. Instead the
events are sorted once by (key, time): each time is replaced by its rank among all the times
involved, and ``key * (number of ranks + 1) + rank`` is one int64 that sorts as (key, time) does.
A query is then two ``searchsorted`` calls, like the system-wide sweep in :mod:`.queue`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["KeyedEvents", "key_codes"]


def key_codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a key column (the user), -1 where it is missing.

    Examples
    --------
    >>> key_codes(pd.Series(["a", None, "b", "a"])).tolist()
    [0, -1, 1, 0]
    """
    codes, _ = pd.factorize(values.astype("string"))
    return codes.astype(np.int64)


def _present(times: np.ndarray) -> np.ndarray:
    if times.dtype.kind == "f":
        return ~np.isnan(times)
    return times != np.iinfo(np.int64).min  # NaT as int64 nanoseconds


class KeyedEvents:
    """Event times grouped by key, answering per-key questions about the moments strictly before t.

    Parameters
    ----------
    codes : ndarray of int
        Key code per event (:func:`key_codes`; -1: no key, the event is ignored).
    times : ndarray
        Event times, float seconds (NaN: no event) or int64 nanoseconds (NaT's value: no event).

    Examples
    --------
    >>> events = KeyedEvents(np.array([0, 0, 1]), np.array([10.0, 20.0, 5.0]))
    >>> events.count_before(np.array([0, 0, 1, -1]), np.array([20.0, 30.0, 30.0, 30.0])).tolist()
    [1.0, 2.0, 1.0, nan]
    >>> events.latest_before(np.array([0, 0, 1]), np.array([10.0, 20.0, 30.0])).tolist()
    [nan, 10.0, 5.0]
    """

    def __init__(self, codes: np.ndarray, times: np.ndarray) -> None:
        keep = (codes >= 0) & _present(times)
        self._grid = np.unique(times[keep])
        self._span = np.int64(len(self._grid) + 1)
        keys = codes[keep] * self._span + np.searchsorted(self._grid, times[keep])
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._times = times[keep][order]

    def _positions(self, codes: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows asked about, and per row the first event of its key and the first one at or after its time."""
        asked = (codes >= 0) & _present(times)
        c, t = codes[asked], times[asked]
        first = np.searchsorted(self._keys, c * self._span, side="left")
        # the grid holds every event time: those before t are exactly the ranks below t's insertion point
        upto = np.searchsorted(self._keys, c * self._span + np.searchsorted(self._grid, t, side="left"), side="left")
        return asked, first, upto

    def count_before(self, codes: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Per row, the events of its key strictly before its time (NaN without key or time)."""
        asked, first, upto = self._positions(codes, times)
        out = np.full(len(codes), np.nan)
        out[asked] = upto - first
        return out

    def latest_before(self, codes: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Per row, the latest event time of its key strictly before its time, in the events' unit
        (NaN, or NaT's int64 value, where there is none)."""
        asked, first, upto = self._positions(codes, times)
        out = np.full(len(codes), np.nan if self._times.dtype.kind == "f" else np.iinfo(np.int64).min, dtype=self._times.dtype)
        found = upto > first
        out[np.flatnonzero(asked)[found]] = self._times[upto[found] - 1]
        return out
