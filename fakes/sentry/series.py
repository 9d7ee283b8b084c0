"""Counts keyed by whole second, summed over any ``[lo, hi)`` range in O(log n).

Snuba's subscription queries bound time by ``timestamp >= start AND timestamp < end``
(``measures``, ``subscriptions``), and both the errors ``timestamp`` column and the
release-health metric buckets are whole seconds, so a store keyed by the (Unix) second
answers every window exactly. Data arrive nearly in time order (the drill records each
tick as it happens), so an append is O(1); an earlier second (an SDK's late envelope, a
session moved to a worse status) shifts the prefix sums after it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence


class Series:
    """``width`` counters per second, with running totals for range sums."""

    def __init__(self, width: int = 1) -> None:
        self.width = width
        self._times: list[int] = []
        self._cum: list[list[int]] = [[] for _ in range(width)]

    def __len__(self) -> int:
        return len(self._times)

    def add(self, second: int, counts: Sequence[int]) -> None:
        """Add ``counts`` (one per column) at ``second``."""
        times = self._times
        if not times or second > times[-1]:
            times.append(second)
            for column, n in zip(self._cum, counts, strict=True):
                column.append((column[-1] if column else 0) + n)
            return
        i = bisect_left(times, second)
        if times[i] != second:
            times.insert(i, second)
            for column in self._cum:
                column.insert(i, column[i - 1] if i else 0)
        for column, n in zip(self._cum, counts, strict=True):
            if n:
                for j in range(i, len(column)):
                    column[j] += n

    def totals(self, lo: float, hi: float) -> list[int]:
        """Column sums over the seconds ``s`` with ``lo <= s < hi``."""
        i, j = bisect_left(self._times, lo), bisect_left(self._times, hi)
        if j <= i:
            return [0] * self.width
        return [c[j - 1] - (c[i - 1] if i else 0) for c in self._cum]

    def total(self, lo: float, hi: float) -> int:
        """The first column's sum over ``[lo, hi)``."""
        return self.totals(lo, hi)[0]
