"""The availability profile: free resources over future time, as a sorted step function.

A scheduler plans with it: running jobs release their resources at their predicted ends, each
reservation takes resources over its window. Only the moments where the free count changes are
stored, so finding the earliest window that fits a job costs a scan over those moments, never a
loop over seconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable

__all__ = ["Profile"]


class Profile:
    """Free resources from ``now`` on: ``free[k]`` holds on ``[times[k], times[k+1])``.

    Parameters
    ----------
    now : float
        The planning moment; nothing is placed before it.
    capacity : int
        Resources of the machine.
    releases : iterable of (time, size)
        Running jobs: each holds ``size`` until its (predicted) end ``time``. A time at or before
        ``now`` counts as ``now`` (callers extend an expired prediction before planning).

    Examples
    --------
    >>> p = Profile(0.0, 4, [(100.0, 3)])          # 1 free now, 4 from t=100
    >>> p.earliest(2, 50.0)
    100.0
    >>> p.earliest(1, 500.0)
    0.0
    >>> p.reserve(100.0, 50.0, 2)
    >>> p.earliest(3, 10.0)
    150.0
    """

    __slots__ = ("capacity", "free", "times")

    def __init__(self, now: float, capacity: int, releases: Iterable[tuple[float, int]] = ()) -> None:
        by_time: dict[float, int] = {}
        used = 0
        for end, size in releases:
            used += size
            end = max(float(end), now)
            by_time[end] = by_time.get(end, 0) + size
        self.capacity = capacity
        self.times = [float(now)]
        self.free = [capacity - used + by_time.pop(float(now), 0)]
        for end in sorted(by_time):
            self.times.append(end)
            self.free.append(self.free[-1] + by_time[end])

    def earliest(self, size: int, duration: float) -> float:
        """The earliest start at which ``size`` resources stay free for ``duration`` seconds."""
        times, free, n = self.times, self.free, len(self.times)
        k = 0
        while True:
            while free[k] < size:  # the last step is the whole machine minus reservations that end
                k += 1
            end = times[k] + duration
            m = k + 1
            while m < n and times[m] < end and free[m] >= size:
                m += 1
            if m == n or times[m] >= end:
                return times[k]
            k = m + 1

    def reserve(self, start: float, duration: float, size: int) -> None:
        """Take ``size`` resources over ``[start, start + duration)``."""
        if duration <= 0 or size <= 0:
            return
        first = self._split(start)
        last = self._split(start + duration)
        for k in range(first, last):
            self.free[k] -= size

    def _split(self, at: float) -> int:
        """Index of the step that starts at ``at``, inserting a breakpoint if needed."""
        k = bisect_left(self.times, at)
        if k < len(self.times) and self.times[k] == at:
            return k
        self.times.insert(k, at)
        self.free.insert(k, self.free[k - 1])
        return k

    def free_at(self, at: float) -> int:
        """Free resources at moment ``at``."""
        return self.free[max(bisect_right(self.times, at) - 1, 0)]
