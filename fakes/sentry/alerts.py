"""Metric alert rules: creation, the per-evaluation trigger logic, incidents, webhooks.

Mirrors Sentry's subscription processor (``sentry/incidents/subscription_processor.py``):

- Each evaluation is one subscription update, stamped with its task time ``end``
  (``subscriptions``: a multiple of the rule's ``resolution``, read over ``[end -
  timeWindow, end)``), and yields one value, or ``None`` (no data). A ``None`` is skipped
  entirely, as Sentry skips an update without session data: it neither counts as a breach
  nor advances anything; it is only logged as ``no_data``.
- A trigger fires after ``thresholdPeriod`` consecutive breaches (``>`` threshold when
  ``thresholdType`` is 0 "above", ``<`` when 1 "below") and resolves after as many
  consecutive values past the resolve threshold (``resolveThreshold`` for the lowest
  trigger, else the trigger's own threshold ± 1e-6, so a value back at the threshold
  resolves).
- The incident's status follows the highest active trigger: none → warning ↔ critical →
  closed. Every change of status queues one webhook (``critical``, ``warning``,
  ``resolved``). As in Sentry, ``date_detected`` is the update's timestamp ``end`` and
  ``date_started``/``date_closed`` are back-dated from it by the window and
  ``(thresholdPeriod - 1)`` resolutions (``calculate_event_date_from_update_date``).

Which rules Sentry accepts, and each rule's ``resolution`` (Sentry's
``get_alert_resolution``), is ``rules``; when Snuba runs each update, ``subscriptions``.
Error rules count error events; crash-rate rules report the crash-free percentage of
sessions (so they use ``thresholdType: 1``, below).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fakes.sentry.rules import Aggregate, validate_alert_rule
from fakes.sentry.search import Search


class IncidentStatus(enum.IntEnum):
    """Sentry's incident status codes."""

    OPEN = 1
    CLOSED = 2
    WARNING = 10
    CRITICAL = 20


LEVELS = {"warning": IncidentStatus.WARNING, "critical": IncidentStatus.CRITICAL}


@dataclass
class Trigger:
    """One threshold of a rule, with Sentry's consecutive-update counters."""

    id: int
    label: str
    alert_threshold: float
    actions: list[dict[str, Any]]
    alert_count: int = 0
    resolve_count: int = 0
    active: bool = False


class Evaluation(NamedTuple):
    """One evaluation of a rule: virtual time it ran, value (None: no data), status after
    it, and the end of the window it read (the update's timestamp, virtual seconds)."""

    t: float
    value: float | None
    status: str  # no_data | ok | pending | warning | critical | resolved
    end: float


@dataclass
class AlertRule:
    id: int
    name: str
    aggregate: str
    agg: Aggregate
    dataset: str
    query: str
    search: Search
    time_window: int  # minutes
    resolution: int  # minutes between evaluations
    threshold_type: int  # 0 above, 1 below
    resolve_threshold: float | None
    environment: str | None
    projects: list[str]
    threshold_period: int
    triggers: list[Trigger]
    date_created: float
    last_update: int | None = None  # Unix timestamp of the last update evaluated
    incident_id: int | None = None
    evaluations: list[Evaluation] = field(default_factory=list)

    def breaches(self, value: float, threshold: float) -> bool:
        return value > threshold if self.threshold_type == 0 else value < threshold

    def resolve_threshold_of(self, trigger: Trigger) -> float:
        lowest = len(self.triggers) == 1 or trigger.label == "warning"
        if self.resolve_threshold is not None and lowest:
            return self.resolve_threshold
        return trigger.alert_threshold + (1e-6 if self.threshold_type == 0 else -1e-6)

    def resolves(self, value: float, trigger: Trigger) -> bool:
        threshold = self.resolve_threshold_of(trigger)
        return value < threshold if self.threshold_type == 0 else value > threshold

    def level(self) -> str | None:
        """The highest active trigger's label, or None."""
        active = {t.label for t in self.triggers if t.active}
        return "critical" if "critical" in active else ("warning" if active else None)

    def step(self, value: float) -> str | None:
        """Feed one value to every trigger; return the rule's level afterwards."""
        for trigger in self.triggers:
            self._step_trigger(trigger, value)
        return self.level()

    def _step_trigger(self, trigger: Trigger, value: float) -> None:
        if self.breaches(value, trigger.alert_threshold) and not trigger.active:
            trigger.alert_count += 1
            if trigger.alert_count >= self.threshold_period:
                trigger.active, trigger.alert_count = True, 0
        else:
            trigger.alert_count = 0
        if trigger.active and self.resolves(value, trigger):
            trigger.resolve_count += 1
            if trigger.resolve_count >= self.threshold_period:
                trigger.active, trigger.resolve_count = False, 0
        else:
            trigger.resolve_count = 0

    def pending(self) -> bool:
        return any(t.alert_count for t in self.triggers)


@dataclass
class Incident:
    """An alert rule's incident; times in virtual seconds."""

    id: int
    rule: AlertRule
    title: str
    status: IncidentStatus
    date_started: float
    date_detected: float
    date_closed: float | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    """A webhook the host should POST: ``body`` to ``url`` with ``headers``."""

    url: str
    headers: dict[str, str]
    body: bytes


def sign(body: bytes, secret: str) -> str:
    """Sentry-Hook-Signature: HMAC-SHA256 hex of the raw body keyed by the client secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str, secret: str) -> bool:
    """Whether ``signature`` is the Sentry-Hook-Signature of ``body`` under ``secret``."""
    return hmac.compare_digest(sign(body, secret), signature or "")


# --- creation ----------------------------------------------------------------------------

def parse_alert_rule(payload: Any, rule_id: int, now: float, project_slug: str) -> AlertRule:
    """Validate a create payload (``rules.validate_alert_rule``) into an AlertRule."""
    valid = validate_alert_rule(payload, project_slug)
    return AlertRule(
        id=rule_id, name=valid.name, aggregate=valid.aggregate, agg=valid.agg,
        dataset=valid.dataset, query=valid.query, search=valid.search,
        time_window=valid.time_window, resolution=valid.resolution,
        threshold_type=valid.threshold_type, resolve_threshold=valid.resolve_threshold,
        environment=valid.environment, projects=valid.projects,
        threshold_period=valid.threshold_period,
        triggers=[Trigger(i + 1, t.label, t.alert_threshold, t.actions)
                  for i, t in enumerate(valid.triggers)],
        date_created=now)


# --- serialization -----------------------------------------------------------------------

def serialize_rule(rule: AlertRule, iso: Callable[[float], str]) -> dict[str, Any]:
    """The alert rule as Sentry's API returns it (camelCase)."""
    created = iso(rule.date_created)
    return {
        "id": str(rule.id), "name": rule.name, "status": 0, "aggregate": rule.aggregate,
        "dataset": rule.dataset, "query": rule.query, "timeWindow": float(rule.time_window),
        "resolution": float(rule.resolution), "thresholdType": rule.threshold_type,
        "resolveThreshold": rule.resolve_threshold, "thresholdPeriod": rule.threshold_period,
        "environment": rule.environment, "projects": rule.projects, "owner": None,
        "comparisonDelta": None, "detectionType": "static", "eventTypes": ["error", "default"]
        if rule.agg.source == "errors" else [], "dateCreated": created, "dateModified": created,
        "triggers": [{
            "id": str(rule.id * 10 + t.id), "alertRuleId": str(rule.id), "label": t.label,
            "thresholdType": rule.threshold_type, "alertThreshold": t.alert_threshold,
            "resolveThreshold": rule.resolve_threshold, "dateCreated": created,
            "actions": t.actions} for t in rule.triggers],
    }


def webhook_rule(rule: AlertRule, iso: Callable[[float], str]) -> dict[str, Any]:
    """The alert rule as the metric_alert webhook embeds it (snake_case)."""
    created = iso(rule.date_created)
    return {
        "id": str(rule.id), "name": rule.name, "status": 0, "aggregate": rule.aggregate,
        "query": rule.query, "time_window": rule.time_window,
        "threshold_type": rule.threshold_type, "resolve_threshold": rule.resolve_threshold,
        "threshold_period": rule.threshold_period, "resolution": rule.resolution,
        "dataset": rule.dataset,
        "environment": rule.environment, "projects": rule.projects,
        "include_all_projects": False, "date_created": created, "date_modified": created,
        "created_by": None,
        "triggers": [{
            "id": str(rule.id * 10 + t.id), "alert_rule_id": str(rule.id), "label": t.label,
            "threshold_type": rule.threshold_type, "alert_threshold": t.alert_threshold,
            "resolve_threshold": rule.resolve_threshold, "date_created": created,
            "actions": t.actions} for t in rule.triggers],
    }


def _window_text(minutes: int) -> str:
    if minutes % 1440 == 0:
        return "day" if minutes == 1440 else f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return "hour" if minutes == 60 else f"{minutes // 60} hours"
    return "minute" if minutes == 1 else f"{minutes} minutes"


def describe(rule: AlertRule, value: float | None) -> str:
    """Sentry's description_text: the value, what it measures, the window, the filter."""
    agg = rule.agg
    if agg.source != "sessions":
        noun = "events" if agg.source == "errors" else "transactions"
        what = f"{0 if value is None else value:g} {noun}"
    else:
        kind = "sessions crash free rate" if agg.free else f"{agg.numerator} sessions"
        what = f"{value:g}% {kind}" if value is not None else f"no data for {kind}"
    text = f"{what} in the last {_window_text(rule.time_window)}"
    return text + (f"\nFilter: {rule.query}" if rule.query else "")
