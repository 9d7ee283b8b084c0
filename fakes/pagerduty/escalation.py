"""Escalation policies: who is paged first, and who next when nobody acknowledges.

A policy is an ordered list of levels, each with its targets and an
``escalation_delay`` (seconds): an incident still unacknowledged that long after its
level was paged escalates to the next level, as PagerDuty's escalation rules do
(``escalation_delay_in_minutes``). After the last level the policy repeats from the
first ``num_loops`` times, then stops. Levels are numbered from 1, as in PagerDuty.

``RUNBOOK_POLICY`` is the runbook's escalation path (Emergency Contacts): Incident Lead,
then DevOps Lead, then CTO, five minutes apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class EscalationLevel:
    """One escalation rule: whom to page, and how long they have to acknowledge."""

    targets: tuple[str, ...]
    escalation_delay: float

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError("an escalation level needs at least one target")
        if not self.escalation_delay > 0:
            raise ValueError("escalation_delay must be > 0 seconds")


@dataclass(frozen=True)
class EscalationPolicy:
    """Levels in order (1-based); ``num_loops`` extra passes after the last level."""

    name: str
    levels: tuple[EscalationLevel, ...]
    num_loops: int = 0

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("an escalation policy needs at least one level")
        if self.num_loops < 0:
            raise ValueError("num_loops must be >= 0")

    @classmethod
    def chain(cls, name: str, targets: Sequence[str], delay: float,
              num_loops: int = 0) -> EscalationPolicy:
        """One target per level, every level with the same delay."""
        return cls(name, tuple(EscalationLevel((t,), delay) for t in targets), num_loops)

    def level(self, number: int) -> EscalationLevel:
        """Level ``number`` (1-based); raises ValueError outside the policy."""
        if not 1 <= number <= len(self.levels):
            raise ValueError(f"level {number} is not in 1..{len(self.levels)}")
        return self.levels[number - 1]

    def after(self, number: int, loops: int) -> tuple[int, int] | None:
        """The (level, loops done) an escalation from ``number`` leads to; None at the end."""
        if number < len(self.levels):
            return number + 1, loops
        if loops < self.num_loops:
            return 1, loops + 1
        return None


RUNBOOK_POLICY = EscalationPolicy.chain(
    "Contacts rollout (runbook)", ("incident-lead", "devops-lead", "cto"), delay=300.0)
