"""How a fault is seen: the ``monitoring`` section and its Sentry alert rule.

The rule is the create payload a team would send to Sentry's alert-rules API
(``AlertRule.payload``), and it is validated by the Sentry fake's own rules
(``fakes.sentry.rules``, which cite Sentry's serializer): a scenario keeping a rule Sentry
refuses fails to load with Sentry's message, e.g. the errored-session rate, for which
Sentry has no alert. The kinds the drill models:

- ``count()`` on the ``events`` dataset: error events in the window; ``threshold`` is an
  absolute count the scenario states (a team sets a number, and the model cannot know
  the team's traffic); the analytic bound shows the error rate it amounts to at the
  scenario's traffic. The default, closest to the runbook's "error rate > 5 %".
- ``percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate`` on
  ``metrics``: the crash-free session percentage, ``threshold_type: below``, windows of
  30 min to 24 h only; it sees only faults that crash the session (``crash: true``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from fakes.sentry.errors import ValidationError
from fakes.sentry.rules import get_alert_resolution, validate_alert_rule
from fakes.sentry.subscriptions import delay_s
from sim.scenario.units import Duration, _Frozen

CRASH_RATE_SUFFIX = "_crash_rate_alert_aggregate"
_PAYLOAD_FIELDS = {"aggregate": "aggregate", "query": "query", "timeWindow": "time_window",
                   "thresholdType": "threshold_type", "dataset": "dataset",
                   "thresholdPeriod": "threshold_period", "triggers": "threshold",
                   "resolveThreshold": "resolve_threshold", "name": "name"}
_WHY = {"Only crash free percentage queries": "Sentry has crash-rate alerts only for "
        "percentage(sessions_crashed, sessions) or percentage(users_crashed, users); for an "
        "error rate use count() with query 'event.type:error' on the events dataset",
        "Invalid Time Window": "Sentry's crash-rate alerts take windows of 30m, 1h, 2h, 4h, "
                               "12h or 24h (CRASH_RATE_ALERTS_ALLOWED_TIME_WINDOWS)"}


def dataset_of(aggregate: str) -> str:
    """The dataset a rule with ``aggregate`` runs on: release health for ``percentage(…)``
    of sessions or users, error events otherwise."""
    return "metrics" if aggregate.replace(" ", "").startswith("percentage(") else "events"


class AlertRule(_Frozen):
    """A Sentry metric alert rule, as created through the alert-rules API."""

    name: str = "Contacts errors > 5% of page views"
    aggregate: str = "count()"
    query: str = "event.type:error"
    time_window: Duration = 300.0
    # count(): events in the window (default: 5 % of the ≈ 1,000 page views 20,000 users
    # make in 5 min at the daily peak); crash rate: the crash-free %
    threshold: float = Field(default=50.0, ge=0)
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
    def _sentry_accepts(self) -> AlertRule:
        try:
            validate_alert_rule(self.payload(None, "project"), "project")
        except ValidationError as exc:
            field = _PAYLOAD_FIELDS.get(exc.field, "aggregate" if "crash free" in exc.detail
                                        else "time_window" if "Time Window" in exc.detail
                                        else "aggregate")
            why = next((w for key, w in _WHY.items() if exc.detail.startswith(key)), "")
            raise ValueError(f"{field}: Sentry refuses this rule: {exc.detail}"
                             + (f" ({why})" if why else "")) from None
        if self.is_crash_rate and self.threshold_type != "below":
            raise ValueError("threshold_type: crash-rate alerts watch the crash-free %, "
                             "so the threshold is 'below'")
        return self

    @property
    def dataset(self) -> str:
        return dataset_of(self.aggregate)

    @property
    def is_crash_rate(self) -> bool:
        return self.dataset == "metrics"

    @property
    def resolution_s(self) -> float:
        """Seconds between two of Sentry's evaluations of this rule (its resolution)."""
        return 60.0 * get_alert_resolution(int(self.time_window // 60))

    @property
    def subscription_delay_s(self) -> float:
        """Seconds Snuba waits after an update's timestamp before running it
        (``fakes.sentry.subscriptions``: 30 s for errors, 60 s for release health)."""
        return float(delay_s(self.dataset))

    def payload(self, environment: str | None, project: str,
                actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The body of ``POST /api/0/organizations/{org}/alert-rules/`` for this rule."""
        return {
            "name": self.name, "aggregate": self.aggregate, "query": self.query,
            "dataset": self.dataset, "timeWindow": self.time_window / 60,
            "thresholdType": 0 if self.threshold_type == "above" else 1,
            "resolveThreshold": self.resolve_threshold, "environment": environment,
            "projects": [project], "thresholdPeriod": self.threshold_period,
            "triggers": [{"label": "critical", "alertThreshold": self.threshold,
                          "actions": actions or []}]}


class Monitoring(_Frozen):
    """How errors reach Sentry and how its alert rules are evaluated."""

    environment: str = "production"
    # browser: @sentry/browser (the Contacts app is a Vite SPA): one session per page load
    # sent at init and updated on an error, each error sent at once, an unhandled error
    # marks the session "unhandled" (errored, never crashed). server: sentry-python's
    # request-mode aggregates, flushed every sdk_flush_interval.
    sdk: Literal["browser", "server"] = "browser"
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

    @property
    def evaluation_period(self) -> float:
        """Seconds between evaluations of the rule: its resolution, on the first
        evaluation tick that reaches it."""
        ticks = max(1, -(-self.alert.resolution_s // self.evaluation_interval))
        return ticks * self.evaluation_interval
