"""Which metric alert rules Sentry accepts, and how often it evaluates each.

Sentry validates a create payload in its alert-rule serializer
(``src/sentry/incidents/serializers/alert_rule.py``, ``AlertRuleSerializer``) and the
snuba query validator (``src/sentry/snuba/snuba_query_validator.py``,
``SnubaQueryValidator``); this module refuses what they refuse, with their messages and
their body shape: a DRF error keyed by field (``{"timeWindow": ["..."]}``), or by
``nonFieldErrors`` for what ``validate()`` raises. Per dataset:

- ``events`` (the default when ``dataset`` is absent): error events. The fake measures
  ``count()`` and ``count_unique(user)`` (counted as events: the drill sends one event per
  affected page view).
- ``transactions``: ``failure_rate()`` and ``count()``. Accepted as Sentry accepts them;
  the fake stores no transactions, so such a rule always sees no data.
- ``metrics`` (release health): crash-rate alerts only, ``percentage(sessions_crashed,
  sessions)`` or ``percentage(users_crashed, users)`` (``CRASH_RATE_ALERT_AGGREGATE_RE``,
  ``src/sentry/snuba/entity_subscription.py``, ``determine_crash_rate_alert_entity``);
  there is no errored-session alert. The value is the crash-free percentage, and the
  window one of ``CRASH_RATE_ALERTS_ALLOWED_TIME_WINDOWS``
  (``SnubaQueryValidator._validate_time_window``).

Evaluation: Sentry runs a rule's Snuba subscription every ``resolution`` minutes, set at
creation from the window by ``get_alert_resolution``
(``src/sentry/incidents/logic.py``, ``DEFAULT_ALERT_RULE_WINDOW_TO_RESOLUTION``): every
minute below a 30-minute window, every 2 min at 30 min, 3 min at 1–2 h, 5 min at 4–12 h,
15 min at 1 d. So a crash-rate alert (30 min at least) is evaluated half as often as an
error-count alert over 5 minutes. When each evaluation runs and which time range it
reads: ``subscriptions``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from fakes.sentry.errors import ValidationError
from fakes.sentry.search import Search, parse_search

NON_FIELD = "nonFieldErrors"
CRASH_RATE_ALIAS = "_crash_rate_alert_aggregate"
# snuba_query_validator.py: "Allowed time windows (in minutes) for crash rate alerts"
CRASH_RATE_ALERTS_ALLOWED_TIME_WINDOWS = (30, 60, 120, 240, 720, 1440)
# alert_rule.py: time_window = IntegerField(min_value=1, max_value=1 day in minutes)
MAX_TIME_WINDOW = 1440
MAX_THRESHOLD_PERIOD = 20  # alert_rule.py: threshold_period IntegerField(1..20)
# entity_subscription.py: the only aggregates a crash-rate (metrics) alert may use
CRASH_RATE_ALERT_AGGREGATE_RE = re.compile(
    r"^percentage\([ ]*(sessions_crashed|users_crashed)[ ]*\,[ ]*(sessions|users)[ ]*\)")
# logic.py: SnubaQuery.resolution in minutes, by the smallest window it applies from
DEFAULT_ALERT_RULE_RESOLUTION = 1
DEFAULT_ALERT_RULE_WINDOW_TO_RESOLUTION = {30: 2, 60: 3, 90: 3, 120: 3, 240: 5, 720: 5,
                                           1440: 15}
_SORTED_WINDOWS = sorted(DEFAULT_ALERT_RULE_WINDOW_TO_RESOLUTION)
# sentry.snuba.dataset.Dataset values, as "Invalid dataset" lists them
DATASETS = ("events", "transactions", "discover", "search_issues", "outcomes",
            "outcomes_raw", "sessions", "metrics", "generic_metrics",
            "events_analytics_platform")
THRESHOLD_TYPES = (0, 1, 2)  # AlertRuleThresholdType: ABOVE, BELOW, ABOVE_AND_BELOW
SESSION_KEYS = frozenset({"release", "environment"})
_AGGREGATE = re.compile(r"^\s*(\w+)\(\s*([^)]*?)\s*\)\s*(?:AS\s+(\w+))?\s*$", re.IGNORECASE)
_MEASURED = {"events": {"count()": "errors", "count_unique(user)": "errors"},
             "transactions": {"failure_rate()": "transactions", "count()": "transactions"}}


def get_alert_resolution(time_window: int) -> int:
    """Minutes between two evaluations of a rule with this window (logic.py's function)."""
    index = bisect.bisect_right(_SORTED_WINDOWS, time_window)
    if index == 0:
        return DEFAULT_ALERT_RULE_RESOLUTION
    return DEFAULT_ALERT_RULE_WINDOW_TO_RESOLUTION[_SORTED_WINDOWS[index - 1]]


@dataclass(frozen=True)
class Aggregate:
    """What an aggregate measures: error events, transactions, or a share of sessions."""

    source: str  # "errors" | "transactions" | "sessions"
    numerator: str | None = None  # "crashed" for sessions
    free: bool = False  # report 100 - percentage (Sentry's crash-free convention)


@dataclass(frozen=True)
class Threshold:
    """One trigger as validated: its label, threshold and actions."""

    label: str
    alert_threshold: float
    actions: list[dict[str, Any]]


@dataclass(frozen=True)
class ValidRule:
    """A create payload Sentry would accept, in the fake's terms (window in minutes)."""

    name: str
    aggregate: str
    agg: Aggregate
    dataset: str
    query: str
    search: Search
    time_window: int
    threshold_type: int
    resolve_threshold: float | None
    environment: str | None
    projects: list[str]
    threshold_period: int
    triggers: list[Threshold]

    @property
    def resolution(self) -> int:
        """Minutes between evaluations (``get_alert_resolution``)."""
        return get_alert_resolution(self.time_window)


def parse_aggregate(text: Any, dataset: str) -> Aggregate:
    """The Aggregate ``text`` names in ``dataset``; raises Sentry's ValidationError."""
    match = _AGGREGATE.match(text) if isinstance(text, str) else None
    if not match:  # AlertRuleSerializer.validate_aggregate
        raise ValidationError("aggregate", "Invalid Metric: We do not currently support "
                                           "this field.")
    fn, args = match.group(1).lower(), ",".join(a.strip() for a in match.group(2).split(","))
    if dataset == "metrics":  # entity_subscription.determine_crash_rate_alert_entity
        if not CRASH_RATE_ALERT_AGGREGATE_RE.match(text.strip()):
            raise ValidationError(NON_FIELD, "Only crash free percentage queries are "
                                             "supported for crash rate alerts")
        return Aggregate("sessions", "crashed", free=True)
    source = _MEASURED.get(dataset, {}).get(f"{fn}({args})")
    if source is None or match.group(3):
        # SnubaQueryValidator._validate_snql_query: the query builder cannot resolve it
        raise ValidationError(NON_FIELD, f"Invalid Query or Metric: {text.strip()} is not "
                                         f"a function of the {dataset} dataset the fake "
                                         f"supports ({', '.join(_MEASURED[dataset])})")
    return Aggregate(source)


def _dataset(payload: dict[str, Any]) -> str:
    dataset = payload.get("dataset") or "events"  # AlertRuleSerializer.validate: default
    if dataset not in DATASETS:  # SnubaQueryValidator.validate_dataset
        raise ValidationError("dataset", f"Invalid dataset, valid values are {list(DATASETS)}")
    if dataset == "sessions":  # QUERY_TYPE_VALID_DATASETS[CRASH_RATE] == {Metrics}
        raise ValidationError(NON_FIELD, "Invalid dataset for this query type. Valid "
                                         "datasets are ['metrics']")
    if dataset not in _MEASURED and dataset != "metrics":
        raise ValidationError("dataset", f"The fake has no {dataset!r} data; use events, "
                                         "transactions or metrics")
    return str(dataset)


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
    """DRF's IntegerField(min_value=lo, max_value=hi), with its messages."""
    value = payload.get(key, default)
    if value is None:
        raise ValidationError(key, "This field is required.")
    number = _number(value, key)
    if number is None or number != int(number):
        raise ValidationError(key, "A valid integer is required.")
    if number < lo:
        raise ValidationError(key, f"Ensure this value is greater than or equal to {lo}.")
    if number > hi:
        raise ValidationError(key, f"Ensure this value is less than or equal to {hi}.")
    return int(number)


def _threshold_type(payload: dict[str, Any]) -> int:
    """AlertRuleSerializer.validate_threshold_type; logic.create_alert_rule refuses
    ABOVE_AND_BELOW for a static rule."""
    value = _integer(payload, "thresholdType", None, -(2**31), 2**31)
    if value not in THRESHOLD_TYPES:
        raise ValidationError("thresholdType", "Invalid threshold type, valid values are "
                                               f"{list(THRESHOLD_TYPES)}")
    if value == 2:
        raise ValidationError(NON_FIELD, "Above and below is not a valid threshold type "
                                         "for this alert type")
    return value


def _window(payload: dict[str, Any], dataset: str) -> int:
    window = _integer(payload, "timeWindow", None, 1, MAX_TIME_WINDOW)
    if dataset == "metrics" and window not in CRASH_RATE_ALERTS_ALLOWED_TIME_WINDOWS:
        raise ValidationError(NON_FIELD, "Invalid Time Window: Allowed time windows for "
                                         "crash rate alerts are: 30min, 1h, 2h, 4h, 12h "
                                         "and 24h")
    return window


def _query(payload: dict[str, Any], agg: Aggregate) -> tuple[str, Search]:
    query = _text(payload, "query", "") or ""
    for term in query.split():  # validate_query: UNSUPPORTED_QUERIES
        if term == "release:latest":
            raise ValidationError("query", "Unsupported Query: We do not currently support "
                                           "the release:latest query")
    search = parse_search(query)
    if search.text:  # Sentry would match event messages; the fake keeps no messages
        raise ValidationError("query", f"Free-text search ({search.text[0]!r}) is not "
                                       "supported by the fake; use key:value terms")
    unknown = [key for key, _ in search.terms if key not in SESSION_KEYS]
    if agg.source == "sessions" and unknown:
        raise ValidationError(NON_FIELD, f"Invalid Query or Metric: {unknown[0]} is not a "
                                         "valid search key for crash rate alerts")
    return query, search


def _triggers(payload: dict[str, Any], threshold_type: int) -> list[Threshold]:
    raw = payload.get("triggers")
    if not isinstance(raw, list) or not raw:
        raise ValidationError(NON_FIELD, "Must include at least one trigger")
    if len(raw) > 2:
        raise ValidationError(NON_FIELD, "Must send 1 or 2 triggers - A critical trigger, "
                                         "and an optional warning trigger")
    triggers = []
    for i, (item, label) in enumerate(zip(raw, ("critical", "warning"), strict=False)):
        if not isinstance(item, dict) or item.get("label") != label:
            raise ValidationError(NON_FIELD, f'Trigger {i + 1} must be labeled "{label}"')
        threshold = _number(item.get("alertThreshold"), "alertThreshold")
        assert threshold is not None
        actions = item.get("actions") or []
        if not isinstance(actions, list):
            raise ValidationError("actions", "Expected a list of actions.")
        triggers.append(Threshold(label, threshold, actions))
    if len(triggers) == 2:
        critical, warning = triggers
        worse = (critical.alert_threshold >= warning.alert_threshold if threshold_type == 0
                 else critical.alert_threshold <= warning.alert_threshold)
        if not worse:  # _validate_critical_warning_triggers
            side = "above" if threshold_type == 0 else "below"
            raise ValidationError(NON_FIELD, "Critical trigger must have an alert threshold "
                                             f"{side} warning trigger")
    return triggers


def _check_resolve(triggers: list[Threshold], resolve: float | None, threshold_type: int) -> None:
    if resolve is None:
        return
    for trigger in triggers:  # _validate_trigger_thresholds
        bad = (trigger.alert_threshold <= resolve if threshold_type == 0
               else trigger.alert_threshold >= resolve)
        if bad:
            side = "above" if threshold_type == 0 else "below"
            raise ValidationError(NON_FIELD, f"{trigger.label} alert threshold must be "
                                             f"{side} resolution threshold")


def _text(payload: dict[str, Any], key: str, default: str | None) -> str | None:
    value = payload.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ValidationError(key, "Not a valid string.")
    return value


def validate_alert_rule(payload: Any, project_slug: str) -> ValidRule:
    """Check a create payload as Sentry does; raises ValidationError (400, Sentry's body)."""
    if not isinstance(payload, dict):
        raise ValidationError(NON_FIELD, "Invalid data. Expected a dictionary, but got "
                                         f"{type(payload).__name__}.")
    name = _text(payload, "name", None)
    if not name:
        raise ValidationError("name", "This field is required.")
    if len(name) > 256:
        raise ValidationError("name", "Ensure this field has no more than 256 characters.")
    dataset = _dataset(payload)
    agg = parse_aggregate(payload.get("aggregate"), dataset)
    query, search = _query(payload, agg)
    threshold_type = _threshold_type(payload)
    window = _window(payload, dataset)
    resolve = _number(payload.get("resolveThreshold"), "resolveThreshold", allow_none=True)
    triggers = _triggers(payload, threshold_type)
    _check_resolve(triggers, resolve, threshold_type)
    projects = payload.get("projects") or [project_slug]
    if not isinstance(projects, list) or any(p != project_slug for p in projects):
        raise ValidationError("projects", f"Invalid project: only {project_slug!r} exists")
    return ValidRule(
        name=name, aggregate=str(payload["aggregate"]), agg=agg, dataset=dataset, query=query,
        search=search, time_window=window, threshold_type=threshold_type,
        resolve_threshold=resolve, environment=_text(payload, "environment", None),
        projects=list(projects),
        threshold_period=_integer(payload, "thresholdPeriod", 1, 1, MAX_THRESHOLD_PERIOD),
        triggers=triggers)
