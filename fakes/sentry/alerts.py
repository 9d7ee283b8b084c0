"""Metric alert rules: validation, the per-evaluation trigger logic, incidents, webhooks.

Mirrors Sentry's subscription processor (``sentry/incidents/subscription_processor.py``):

- Each evaluation yields one value for the rule's window, or ``None`` (no data). A ``None``
  is skipped entirely, as Sentry skips an update without session data: it neither counts
  as a breach nor resets or advances anything; it is only logged as ``no_data``.
- A trigger fires after ``thresholdPeriod`` consecutive breaches (``>`` threshold when
  ``thresholdType`` is 0 "above", ``<`` when 1 "below") and resolves after as many
  consecutive values past the resolve threshold (``resolveThreshold`` for the lowest
  trigger, else the trigger's own threshold ± 1e-6, so a value back at the threshold
  resolves).
- The incident's status follows the highest active trigger: none → warning ↔ critical →
  closed. Every change of status queues one webhook (``critical``, ``warning``,
  ``resolved``). ``date_started`` and ``date_closed`` are back-dated by the window and
  ``(thresholdPeriod - 1)`` evaluation intervals, as Sentry does; ``date_detected`` is the
  evaluation that fired.

Aggregates. ``count()`` (dataset ``events``) counts error events. Session aggregates
(dataset ``metrics``/``sessions``) are percentages 0..100 of sessions in the window:
``percentage(sessions_errored, sessions)`` counts every unhealthy session (errored,
crashed or abnormal); ``percentage(sessions_crashed, sessions)`` crashed ones. With
Sentry's alias ``AS _crash_rate_alert_aggregate`` the value is reported as Sentry does
for crash rate alerts: the *free* percentage, ``100 - rate`` (so a crash-free alert uses
``thresholdType: 1``), and the window must be one Sentry allows for crash rate alerts
(30 min … 24 h). ``crash_free_rate(session)`` is the crash-free percentage too.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fakes.sentry.errors import ValidationError
from fakes.sentry.search import Search, parse_search

CRASH_RATE_ALIAS = "_crash_rate_alert_aggregate"
CRASH_RATE_WINDOWS = (30, 60, 120, 240, 720, 1440)  # minutes, Sentry's allowed set
MAX_WINDOW = 1440
MAX_THRESHOLD_PERIOD = 20
SESSION_KEYS = frozenset({"release", "environment"})
_AGGREGATE = re.compile(r"^\s*(\w+)\(\s*([^)]*?)\s*\)\s*(?:AS\s+(\w+))?\s*$", re.IGNORECASE)


class IncidentStatus(enum.IntEnum):
    """Sentry's incident status codes."""

    OPEN = 1
    CLOSED = 2
    WARNING = 10
    CRITICAL = 20


LEVELS = {"warning": IncidentStatus.WARNING, "critical": IncidentStatus.CRITICAL}


@dataclass(frozen=True)
class Aggregate:
    """What an aggregate measures: error events, or a share of sessions."""

    source: str  # "errors" | "sessions"
    numerator: str | None = None  # "errored" | "crashed" for sessions
    free: bool = False  # report 100 - percentage (Sentry's crash-free convention)
    crash_rate_alert: bool = False  # carries Sentry's alias: restricted windows

    @property
    def datasets(self) -> tuple[str, ...]:
        return ("events",) if self.source == "errors" else ("metrics", "sessions")


def parse_aggregate(text: Any) -> Aggregate:
    """The Aggregate named by ``text``; raises ValidationError for any other."""
    match = _AGGREGATE.match(text) if isinstance(text, str) else None
    if not match:
        raise ValidationError("aggregate", f"Invalid Metric: {text!r}")
    fn, args, alias = match.group(1).lower(), match.group(2), match.group(3)
    args = ",".join(a.strip() for a in args.split(","))
    if alias and alias != CRASH_RATE_ALIAS:
        raise ValidationError("aggregate", f"Invalid Metric: unsupported alias {alias!r}")
    if (fn, args, alias) == ("count", "", None):
        return Aggregate("errors")
    if fn == "percentage" and args in ("sessions_crashed,sessions", "sessions_errored,sessions"):
        numerator = args.split(",")[0].removeprefix("sessions_")
        return Aggregate("sessions", numerator, free=bool(alias), crash_rate_alert=bool(alias))
    if (fn, args, alias) == ("crash_free_rate", "session", None):
        return Aggregate("sessions", "crashed", free=True)
    raise ValidationError("aggregate", f"Invalid Metric: {text!r} is not supported by the fake")


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
    """One evaluation of a rule: virtual time, value (None: no data), status after it."""

    t: float
    value: float | None
    status: str  # no_data | ok | pending | warning | critical | resolved


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
    threshold_type: int  # 0 above, 1 below
    resolve_threshold: float | None
    environment: str | None
    projects: list[str]
    threshold_period: int
    triggers: list[Trigger]
    date_created: float
    last_evaluated: float | None = None
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


# --- validation --------------------------------------------------------------------------

def _number(value: Any, field_name: str, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(field_name, "A valid number is required.")
    try:
        return float(value)
    except ValueError as exc:
        raise ValidationError(field_name, "A valid number is required.") from exc


def _integer(payload: dict[str, Any], key: str, default: int | None, lo: int, hi: int) -> int:
    value = payload.get(key, default)
    if value is None:
        raise ValidationError(key, "This field is required.")
    number = _number(value, key)
    if number is None or number != int(number) or not lo <= number <= hi:
        raise ValidationError(key, f"Ensure this value is an integer from {lo} to {hi}.")
    return int(number)


def _triggers(payload: dict[str, Any], threshold_type: int) -> list[Trigger]:
    raw = payload.get("triggers")
    if not isinstance(raw, list) or not raw:
        raise ValidationError("triggers", "Must include at least one trigger")
    if len(raw) > 2:
        raise ValidationError("triggers", "Must send 1 or 2 triggers - A critical trigger, "
                                          "and an optional warning trigger")
    triggers = []
    for i, (item, label) in enumerate(zip(raw, ("critical", "warning"), strict=False)):
        if not isinstance(item, dict) or item.get("label") != label:
            raise ValidationError("triggers", f'Trigger {i + 1} must be labeled "{label}"')
        threshold = _number(item.get("alertThreshold"), "alertThreshold")
        assert threshold is not None
        actions = item.get("actions") or []
        if not isinstance(actions, list):
            raise ValidationError("actions", "Expected a list of actions.")
        triggers.append(Trigger(i + 1, label, threshold, actions))
    if len(triggers) == 2:
        critical, warning = triggers
        worse = (critical.alert_threshold > warning.alert_threshold if threshold_type == 0
                 else critical.alert_threshold < warning.alert_threshold)
        if not worse:
            side = "above" if threshold_type == 0 else "below"
            raise ValidationError("nonFieldErrors",
                                  f"Critical trigger must have a threshold {side} warning trigger")
    return triggers


def _check_resolve(triggers: list[Trigger], resolve: float | None, threshold_type: int) -> None:
    if resolve is None:
        return
    for trigger in triggers:
        bad = (trigger.alert_threshold <= resolve if threshold_type == 0
               else trigger.alert_threshold >= resolve)
        if bad:
            side = "above" if threshold_type == 0 else "below"
            raise ValidationError("nonFieldErrors", f"{trigger.label} alert threshold must be "
                                                    f"{side} resolution threshold")


def _check_query(agg: Aggregate, query: str, search: Search) -> None:
    if "release:latest" in query:
        raise ValidationError("query", "Unsupported Query: We do not currently support the "
                                       "release:latest query")
    if search.text:  # Sentry would match event messages; the fake keeps no messages
        raise ValidationError("query", f"Free-text search ({search.text[0]!r}) is not "
                                       "supported by the fake; use key:value terms")
    unknown = [key for key, _ in search.terms if key not in SESSION_KEYS]
    if agg.source == "sessions" and unknown:
        raise ValidationError("query", f"Unsupported search key for sessions: {unknown[0]}")


def _window(payload: dict[str, Any], agg: Aggregate) -> int:
    window = _integer(payload, "timeWindow", None, 1, MAX_WINDOW)
    if agg.crash_rate_alert and window not in CRASH_RATE_WINDOWS:
        raise ValidationError("timeWindow", "Invalid Time Window: Allowed time windows for crash "
                                            "rate alerts are: 30min, 1h, 2h, 4h, 12h and 24h")
    return window


def _text(payload: dict[str, Any], key: str, default: str | None) -> str | None:
    value = payload.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ValidationError(key, "Not a valid string.")
    return value


def parse_alert_rule(payload: Any, rule_id: int, now: float, project_slug: str) -> AlertRule:
    """Validate a create payload into an AlertRule; raises ValidationError as Sentry does."""
    if not isinstance(payload, dict):
        raise ValidationError("nonFieldErrors", "Invalid data. Expected a dictionary.")
    name = _text(payload, "name", None)
    if not name or len(name) > 256:
        raise ValidationError("name", "This field is required (at most 256 characters).")
    agg = parse_aggregate(payload.get("aggregate"))
    dataset = _text(payload, "dataset", None) or agg.datasets[0]
    if dataset not in agg.datasets:
        raise ValidationError("dataset", f"{payload['aggregate']} needs dataset "
                                         f"{' or '.join(agg.datasets)}, not {dataset!r}")
    query = _text(payload, "query", "") or ""
    search = parse_search(query)
    _check_query(agg, query, search)
    threshold_type = _integer(payload, "thresholdType", 0, 0, 1)
    resolve = _number(payload.get("resolveThreshold"), "resolveThreshold", allow_none=True)
    triggers = _triggers(payload, threshold_type)
    _check_resolve(triggers, resolve, threshold_type)
    projects = payload.get("projects") or [project_slug]
    if not isinstance(projects, list) or any(p != project_slug for p in projects):
        raise ValidationError("projects", f"Invalid project: only {project_slug!r} exists")
    return AlertRule(
        id=rule_id, name=name, aggregate=str(payload["aggregate"]), agg=agg, dataset=dataset,
        query=query, search=search, time_window=_window(payload, agg),
        threshold_type=threshold_type, resolve_threshold=resolve,
        environment=_text(payload, "environment", None), projects=list(projects),
        threshold_period=_integer(payload, "thresholdPeriod", 1, 1, MAX_THRESHOLD_PERIOD),
        triggers=triggers, date_created=now)


# --- serialization -----------------------------------------------------------------------

def serialize_rule(rule: AlertRule, iso: Callable[[float], str]) -> dict[str, Any]:
    """The alert rule as Sentry's API returns it (camelCase)."""
    created = iso(rule.date_created)
    return {
        "id": str(rule.id), "name": rule.name, "status": 0, "aggregate": rule.aggregate,
        "dataset": rule.dataset, "query": rule.query, "timeWindow": float(rule.time_window),
        "resolution": 1.0, "thresholdType": rule.threshold_type,
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
        "threshold_period": rule.threshold_period, "resolution": 1, "dataset": rule.dataset,
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
    if agg.source == "errors":
        what = f"{0 if value is None else int(value)} events"
    else:
        kind = "sessions crash free rate" if agg.free else f"{agg.numerator} sessions"
        what = f"{value:g}% {kind}" if value is not None else f"no data for {kind}"
    text = f"{what} in the last {_window_text(rule.time_window)}"
    return text + (f"\nFilter: {rule.query}" if rule.query else "")
