"""A sweep's runs as columns: what a sweep keeps of each run, a few dozen bytes of it.

A ``RunTable`` has, per grid point, one slot per seed (slot ``i`` is seed
``base_seed + i``) and per metric a float64 value (inf where the metric never happened)
and a one-byte code (its status, and whether the value was None or an int); beside them
whether the run met every target and whether it was a false positive. Rows go in chunk
by chunk as workers return them (``add``) and are not kept: a slot is a run's place in
(point, seed) order, so rows arriving in any order need no sort. The aggregates of
``sim.sweeps.sweep`` read the columns (``judged``, ``checked``, ``count``); ``rows``
rebuilds the rows, key for key, for ``runs.csv`` and an interrupted sweep's
``sweep.json``. The one per-run object kept is a false positive's cost, as its JSON text,
for the runs that had one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from sim.results.crosscheck import STARTS_AT
from sim.results.metrics import METRICS

Row = dict[str, Any]
STATUSES = ("pass", "fail", "not_measured")  # the code's low two bits index these
NONE = 4  # the value was None: the metric never happened (stored as inf)
INT = 8  # the value was an int (stored exactly as a float64)
_CODE = {s: i for i, s in enumerate(STATUSES)}
_COLUMN = {m: i for i, m in enumerate(METRICS)}


class RunTable:
    """The finished runs of a sweep of ``points`` grid points × ``runs`` seeds from
    ``base_seed``, one slot per run (allocated zeroed, so untouched slots cost no memory)."""

    def __init__(self, points: int, runs: int, base_seed: int) -> None:
        self.runs, self.base_seed = runs, base_seed
        self.done = np.zeros((points, runs), dtype=bool)
        self.values = np.zeros((points, len(METRICS), runs), dtype=np.float64)
        self.codes = np.zeros((points, len(METRICS), runs), dtype=np.uint8)
        self.passed = np.zeros((points, runs), dtype=bool)
        self.false_positive = np.zeros((points, runs), dtype=bool)
        self._costs: dict[tuple[int, int], str] = {}  # (point, slot): the cost's JSON text

    @classmethod
    def of_rows(cls, points: int, runs: int, base_seed: int, rows: Iterable[Row]
                ) -> RunTable:
        """A table holding ``rows`` (each with ``point`` and ``seed``)."""
        table = cls(points, runs, base_seed)
        for row in rows:
            table.add(row["point"], [row])
        return table

    def __len__(self) -> int:
        return int(self.done.sum())

    def __iter__(self) -> Iterator[Row]:
        return self.rows()

    def add(self, point: int, rows: Iterable[Row]) -> None:
        """Store ``rows`` (``run_chunk``'s: seed, metrics, status, passed, false_positive)
        of grid point ``point``. Raises ValueError for a seed outside the sweep or seen
        before, a status it does not know, or a value that is not a number or None."""
        for row in rows:
            slot = row["seed"] - self.base_seed
            if not 0 <= slot < self.runs or self.done[point, slot]:
                raise ValueError(f"point {point}, seed {row['seed']}: not a run of this "
                                 "sweep or already stored")
            for m, column in _COLUMN.items():
                value, code = _encoded(row["metrics"][m], row["status"][m])
                self.values[point, column, slot], self.codes[point, column, slot] = value, code
            self.passed[point, slot] = row["passed"]
            if row.get("false_positive"):
                self.false_positive[point, slot] = True
                self._costs[point, slot] = json.dumps(row["false_positive"])
            self.done[point, slot] = True

    def finished(self, point: int) -> int:
        """How many runs of ``point`` are stored."""
        return int(self.done[point].sum())

    def count(self, points: Sequence[int]) -> tuple[int, int, int]:
        """Over ``points``: the runs stored, those that met every target, the false
        positives."""
        idx = list(points)
        done = self.done[idx]
        return (int(done.sum()), int((self.passed[idx] & done).sum()),
                int((self.false_positive[idx] & done).sum()))

    def judged(self, metric: str, points: Sequence[int]) -> tuple[np.ndarray, int, int]:
        """Over ``points``, in (point, seed) order: ``metric``'s value in each run where it
        is judged (inf: it never happened), how many of those passed, how many never."""
        values, codes = self._column(metric, points, self._judged(metric, points))
        status = codes & 3
        return values, int((status == _CODE["pass"]).sum()), int(((codes & NONE) > 0).sum())

    def checked(self, metric: str, points: Sequence[int]) -> list[float]:
        """``sim.results.crosscheck.checked_values`` of the same runs' rows: the values its
        bound speaks of (judged, not false positives, the metric it is timed from
        happened), in (point, seed) order."""
        idx = list(points)
        keep = self._judged(metric, idx) & ~self.false_positive[idx]
        start = STARTS_AT.get(metric)
        if start is not None:
            keep &= (self.codes[idx, _COLUMN[start]] & NONE) == 0
        return [float(v) for v in self._column(metric, idx, keep)[0]]

    def rows(self, points: Sequence[int] | None = None) -> Iterator[Row]:
        """The stored runs' rows, rebuilt one at a time in (point, seed) order, key for key
        as ``run_chunk`` returned them with their ``point``."""
        for point in range(len(self.done)) if points is None else points:
            for slot in np.flatnonzero(self.done[point]).tolist():
                yield self._row(point, slot)

    def _row(self, point: int, slot: int) -> Row:
        codes = self.codes[point, :, slot].tolist()
        values = self.values[point, :, slot].tolist()
        cost = self._costs.get((point, slot))
        return {"point": point, "seed": self.base_seed + slot,
                "metrics": {m: _decoded(values[i], codes[i]) for m, i in _COLUMN.items()},
                "status": {m: STATUSES[codes[i] & 3] for m, i in _COLUMN.items()},
                "passed": bool(self.passed[point, slot]),
                "false_positive": None if cost is None else json.loads(cost)}

    def _judged(self, metric: str, points: Sequence[int]) -> np.ndarray:
        idx = list(points)
        status = self.codes[idx, _COLUMN[metric]] & 3
        return self.done[idx] & (status != _CODE["not_measured"])

    def _column(self, metric: str, points: Sequence[int], keep: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        idx = list(points)
        return (self.values[idx, _COLUMN[metric]][keep], self.codes[idx, _COLUMN[metric]][keep])


def _encoded(value: Any, status: str) -> tuple[float, int]:
    if status not in _CODE:
        raise ValueError(f"status {status!r}: not one of {', '.join(STATUSES)}")
    if value is None:
        return math.inf, _CODE[status] | NONE
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"metric value {value!r}: not a number or None")
    if isinstance(value, int):
        if float(value) != value:
            raise ValueError(f"metric value {value}: not exact as a float")
        return float(value), _CODE[status] | INT
    return value, _CODE[status]


def _decoded(value: float, code: int) -> float | int | None:
    if code & NONE:
        return None
    return int(value) if code & INT else value
