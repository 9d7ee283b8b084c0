"""The run's journal: every event of a drill with its virtual time, in order.

Processes append typed records (``kind`` plus fields); reporters and metrics read the
journal, never the processes. One run, one journal; written as ``journal.jsonl``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakes.common.clock import Clock


@dataclass(frozen=True)
class Record:
    """One journal line: when (virtual seconds), what kind, and its details."""

    t: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "kind": self.kind, **self.data}


class Journal:
    """Append-only list of records stamped with the run's clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.records: list[Record] = []

    def add(self, kind: str, **data: Any) -> Record:
        """Record ``kind`` now, with ``data``; returns the record."""
        record = Record(self.clock.now(), kind, data)
        self.records.append(record)
        return record

    def first(self, kind: str) -> Record | None:
        """The earliest record of ``kind``, or None."""
        return next(self.of(kind), None)

    def of(self, kind: str) -> Iterator[Record]:
        return (r for r in self.records if r.kind == kind)

    def write(self, path: Path) -> None:
        """Write one JSON object a line, keys sorted, so equal runs give equal bytes."""
        with path.open("w", encoding="utf-8") as out:
            for record in self.records:
                out.write(json.dumps(record.to_json(), sort_keys=True, default=str) + "\n")
