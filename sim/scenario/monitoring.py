"""How a fault is seen: the ``monitoring`` section and its Sentry alert rule.

The rule is validated as Sentry validates it (whole-minute windows; crash-rate alerts
only with their fixed windows and a 'below' threshold).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.units import Duration, _Frozen

Aggregate = Literal[
    "count()",
    "percentage(sessions_errored, sessions)",
    "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate",
]


CRASH_RATE_WINDOWS_MIN = (30, 60, 120, 240, 720, 1440)


class AlertRule(_Frozen):
    """A Sentry metric alert rule, as created through the alert-rules API."""

    name: str = "Contacts error rate > 5%"
    aggregate: Aggregate = "percentage(sessions_errored, sessions)"
    query: str = ""
    time_window: Duration = 300.0
    threshold: float = Field(default=5.0, ge=0)
    threshold_type: Literal["above", "below"] = "above"
    threshold_period: int = Field(default=1, ge=1, le=20)
    resolve_threshold: float | None = None

    @field_validator("time_window")
    @classmethod
    def _whole_minutes(cls, value: float) -> float:
        if value < 60 or value % 60 or value > 86400:
            raise ValueError("Sentry time windows are whole minutes, 1m to 1d")
        return value

    @model_validator(mode="after")
    def _crash_rate_rules(self) -> AlertRule:
        # Sentry's crash-rate alerts report the crash-free % and take fixed windows only.
        if self.aggregate.endswith("_crash_rate_alert_aggregate"):
            if self.time_window / 60 not in CRASH_RATE_WINDOWS_MIN:
                raise ValueError("time_window: crash-rate alerts take one of "
                                 + ", ".join(f"{w}m" for w in CRASH_RATE_WINDOWS_MIN))
            if self.threshold_type != "below":
                raise ValueError("threshold_type: crash-rate alerts watch the crash-free %, "
                                 "so the threshold is 'below'")
        return self


class Monitoring(_Frozen):
    """How errors reach Sentry and how its alert rules are evaluated."""

    environment: str = "production"
    sdk_flush_interval: Duration = 60.0
    ingest_latency: Duration = 2.0
    evaluation_interval: Duration = 60.0
    alert: AlertRule = AlertRule()

    @field_validator("evaluation_interval", "sdk_flush_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be > 0 seconds")
        return value
