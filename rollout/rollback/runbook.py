"""What the runbook promises, as data: the targets, and the shape of a path's time estimate.

Reports put a path's estimate beside the modelled time so a reader sees where the runbook
is optimistic; they are never used to compute a timing. Each path's own estimate is part
of its entry in the harness's rollback-path registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

# "Rollback Metrics" table.
TARGETS = MappingProxyType({
    "time_to_detect_s": 300.0,
    "time_to_decision_s": 120.0,
    "time_to_rollback_s": 300.0,
    "affected_users_pct": 10.0,
    "data_loss": 0,
    "repeat_incidents": 0,
})


@dataclass(frozen=True)
class RunbookEstimate:
    """A path's "Time to Rollback" in the runbook: seconds, low–high, and where it says so.

    Raises ValueError for an empty quote or a range that is not ``0 <= low <= high``.
    """

    low_s: float
    high_s: float
    text: str

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a runbook estimate quotes where the runbook gives it")
        if not 0 <= self.low_s <= self.high_s:
            raise ValueError(f"a runbook estimate is 0 <= low <= high "
                             f"(got {self.low_s:g}-{self.high_s:g} s)")
