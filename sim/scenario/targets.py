"""What a drill must achieve: the runbook's ``targets`` and the CI ``gate`` over a sweep."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from sim.scenario.limits import MAX_RUNS
from sim.scenario.units import _Frozen


class Targets(_Frozen):
    """The runbook's "Rollback Metrics" table; a scenario may tighten or loosen it."""

    time_to_detect_s: float = Field(default=300.0, gt=0)
    time_to_decision_s: float = Field(default=120.0, gt=0)
    time_to_rollback_s: float = Field(default=300.0, gt=0)
    affected_users_pct: float = Field(default=10.0, ge=0, le=100)
    data_loss: int = Field(default=0, ge=0)
    repeat_incidents: int = Field(default=0, ge=0)


GateMetric = Literal["time_to_detect_s", "time_to_decision_s", "time_to_rollback_s",
                     "affected_users_pct", "data_loss", "repeat_incidents"]


DEFAULT_MIN_PASS_RATE: dict[GateMetric, float | None] = {
    "time_to_detect_s": 0.9, "time_to_decision_s": 0.9, "time_to_rollback_s": 0.9}


class Gate(_Frozen):
    """What ``drill check`` requires of this scenario over a sweep of seeds.

    ``min_pass_rate`` maps a metric to the share of runs that must meet its target; the
    keys given are merged onto the defaults (each timing target 0.9), and ``null`` lifts a
    requirement. ``p95_tolerance`` is how much worse than the baseline a metric's p95 may
    be (0.10: 10 %). ``runs`` is the sweep size ``drill check`` and ``drill baseline`` use.
    """

    runs: int = Field(default=100, ge=1, le=MAX_RUNS)
    min_pass_rate: dict[GateMetric, Annotated[float, Field(ge=0, le=1)] | None] = Field(
        default_factory=lambda: dict(DEFAULT_MIN_PASS_RATE))
    p95_tolerance: float = Field(default=0.10, ge=0)

    @field_validator("min_pass_rate", mode="before")
    @classmethod
    def _merge_defaults(cls, value: object) -> object:
        return {**DEFAULT_MIN_PASS_RATE, **value} if isinstance(value, dict) else value

    def required(self) -> dict[str, float]:
        """The metrics with a pass-rate requirement, and the rate each must reach."""
        return {k: v for k, v in self.min_pass_rate.items() if v is not None}

    def __hash__(self) -> int:  # the dict field would make the frozen model unhashable
        return hash((self.runs, tuple(sorted(self.min_pass_rate.items())), self.p95_tolerance))
