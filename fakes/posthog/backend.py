"""The fake PostHog's state: feature flags, their evaluation, captured events.

A pure state machine on an injected clock, no HTTP here (``router.py`` is the HTTP
face; the method names are the same). What it keeps:

- **Feature flags** (``FeatureFlag``): sequential ids, a ``version`` bumped on every
  change, soft deletion (``deleted``; PostHog forbids hard deletes), and one project-wide
  ``definitions_version`` that moves whenever any flag changes: it is the ETag that
  server SDKs poll ``/flags/definitions`` with, so an unchanged set answers 304.
- **Evaluation** (``evaluate_flags``): what ``/flags`` answers, computed with
  ``evaluation.match_flag`` so that it agrees with posthog-python's local evaluation.
  Like the real service, inactive and deleted flags are *left out* of the answer
  (posthog-js then reads the flag as ``undefined``, not ``false``).
- **Events** (``capture``): payloads kept (the newest ``max_stored_events``) and counted
  per event name; ``record_events`` is the simulation's fast path, counts only.

The records live in ``models.py``. Errors raised are ``fakes.posthog.errors`` classes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from fakes.common.clock import Clock, from_iso
from fakes.posthog.errors import (
    AuthenticationFailed,
    HardDeleteForbidden,
    InvalidApiKey,
    NotAuthenticated,
    NotFound,
    ValidationError,
)
from fakes.posthog.evaluation import match_flag, reason_description
from fakes.posthog.filters import (
    PATCH_CHECKS,
    valid_bool,
    valid_key,
    valid_str,
    validate_filters,
)
from fakes.posthog.models import CapturedEvent, Counters, FeatureFlag, FlagResult


class PostHogBackend:
    """A PostHog project: flags, evaluation, ingestion, on the given clock."""

    def __init__(self, clock: Clock, project_api_key: str = "phc_drill",
                 personal_api_key: str = "phx_drill", project_id: int = 1,
                 max_stored_events: int = 100_000) -> None:
        self.clock = clock
        self.project_api_key = project_api_key
        self.personal_api_key = personal_api_key
        self.project_id = project_id
        self.max_stored_events = max_stored_events
        # Never reset: a client holding an old ETag must not get a false 304 after reset().
        self.definitions_version = 0
        self.reset()

    # --- control plane -------------------------------------------------------------

    def reset(self) -> None:
        """Forget every flag, event and counter (the definitions ETag still moves on)."""
        self._flags: dict[int, FeatureFlag] = {}
        self._next_id = 1
        self._events: deque[CapturedEvent] = deque(maxlen=self.max_stored_events)
        self._counters = Counters()
        self._last_event_at: dict[str, float] = {}
        self._bump_definitions()

    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot for ``/_fake/state`` and drill journals."""
        return {
            "now": self.clock.now(),
            "project_id": self.project_id,
            "definitions_version": self.definitions_version,
            "etag": self.definitions_etag,
            "flags": [f.to_json(self.clock) for f in self._flags.values()],
            "flag_requests": self._counters.flag_requests,
            "definitions_requests": self._counters.definitions_requests,
            "definitions_not_modified": self._counters.definitions_not_modified,
            "event_counts": self.event_counts(),
            "stored_events": len(self._events),
        }

    @property
    def flag_requests(self) -> int:
        """How many ``/flags`` (or ``/decide``) evaluations were asked for."""
        return self._counters.flag_requests

    @property
    def definitions_requests(self) -> int:
        """How many definition polls arrived, 304s included."""
        return self._counters.definitions_requests

    # --- keys ------------------------------------------------------------------------

    def check_project_key(self, api_key: str | None) -> None:
        """Raises InvalidApiKey unless ``api_key`` is this project's ``phc_`` key."""
        if api_key != self.project_api_key:
            raise InvalidApiKey()

    def check_personal_key(self, api_key: str | None) -> None:
        """Raises NotAuthenticated (none given) or AuthenticationFailed (wrong one)."""
        if not api_key:
            raise NotAuthenticated()
        if api_key != self.personal_api_key:
            raise AuthenticationFailed()

    def check_project(self, project_id: str | int) -> None:
        """Raises NotFound unless ``project_id`` is this project's id or ``@current``."""
        if str(project_id) not in ("@current", str(self.project_id)):
            raise NotFound()

    # --- flags ------------------------------------------------------------------------

    def create_feature_flag(self, key: str, name: str = "", active: bool = True,
                            filters: Mapping[str, Any] | None = None, *,
                            ensure_experience_continuity: bool = False) -> FeatureFlag:
        """A new flag; raises ValidationError for a bad or already used key or filters."""
        key = valid_key(key)
        self._check_key_free(key, None)
        now = self.clock.now()
        flag = FeatureFlag(
            id=self._next_id, key=key, name=valid_str(name, "name"),
            active=valid_bool(active, "active"), filters=validate_filters(filters or {}),
            created_at=now, updated_at=now, team_id=self.project_id,
            ensure_experience_continuity=valid_bool(ensure_experience_continuity,
                                                    "ensure_experience_continuity"))
        self._flags[flag.id] = flag
        self._next_id += 1
        self._bump_definitions()
        return flag

    def list_feature_flags(self, limit: int = 100, offset: int = 0
                           ) -> tuple[int, list[FeatureFlag]]:
        """``(count, page)`` of live flags, newest first, as the API lists them."""
        if limit < 0 or offset < 0:
            raise ValidationError("limit and offset must be >= 0")
        live = sorted((f for f in self._flags.values() if not f.deleted),
                      key=lambda f: (f.created_at, f.id), reverse=True)
        return len(live), live[offset:offset + limit]

    def get_feature_flag(self, id_or_key: int | str) -> FeatureFlag:
        """The flag by numeric id (deleted ones too, as the API does) or by live key;
        raises NotFound."""
        if isinstance(id_or_key, int) or str(id_or_key).isdigit():
            flag = self._flags.get(int(id_or_key))
        else:
            flag = self.flag_by_key(str(id_or_key))
        if flag is None:
            raise NotFound()
        return flag

    def flag_by_key(self, key: str) -> FeatureFlag | None:
        """The live (not deleted) flag with this key, or None."""
        return next((f for f in self._flags.values() if f.key == key and not f.deleted), None)

    def patch_feature_flag(self, id_or_key: int | str, changes: Mapping[str, Any]
                           ) -> FeatureFlag:
        """Apply ``changes`` (key, name, active, filters, deleted,
        ensure_experience_continuity; other fields are ignored, as DRF does); bumps the
        flag's version and the definitions ETag. Raises NotFound, ValidationError."""
        flag = self.get_feature_flag(id_or_key)
        if not isinstance(changes, Mapping):
            raise ValidationError("Expected a JSON object.")
        updates = self._validated_changes(flag, changes)
        for name, value in updates.items():
            setattr(flag, name, value)
        flag.version += 1
        flag.updated_at = self.clock.now()
        self._bump_definitions()
        return flag

    def delete_feature_flag(self, id_or_key: int | str) -> None:
        """Always raises: 404 for an unknown flag, else 405 (PostHog forbids hard
        deletes; PATCH ``{"deleted": true}`` instead)."""
        self.get_feature_flag(id_or_key)
        raise HardDeleteForbidden()

    def _validated_changes(self, flag: FeatureFlag, changes: Mapping[str, Any]
                           ) -> dict[str, Any]:
        updates = {name: check(changes[name]) for name, check in PATCH_CHECKS.items()
                   if name in changes}
        if not updates.get("deleted", flag.deleted):
            self._check_key_free(updates.get("key", flag.key), flag.id)
        return updates

    def _check_key_free(self, key: str, own_id: int | None) -> None:
        other = self.flag_by_key(key)
        if other is not None and other.id != own_id:
            raise ValidationError("There is already a feature flag with this key.",
                                  attr="key")

    def _bump_definitions(self) -> None:
        self.definitions_version += 1

    # --- local evaluation -------------------------------------------------------------

    @property
    def definitions_etag(self) -> str:
        """The ETag of the current definitions; it changes whenever any flag does."""
        return f'"posthog-defs-{self.definitions_version}"'

    def flag_definitions(self, if_none_match: str | None = None
                         ) -> tuple[str, dict[str, Any] | None]:
        """``(etag, body)`` for a definitions poll; body is None when ``if_none_match``
        already names the current definitions (the caller answers 304)."""
        self._counters.definitions_requests += 1
        etag = self.definitions_etag
        if if_none_match and _etag_matches(if_none_match, etag):
            self._counters.definitions_not_modified += 1
            return etag, None
        flags = [f.definition() for f in self._flags.values() if not f.deleted]
        return etag, {"flags": flags, "group_type_mapping": {}, "cohorts": {}}

    def remote_config(self, key: str) -> Any:
        """The ``"true"`` payload of a live flag (``/feature_flags/{key}/remote_config``)."""
        flag = self.flag_by_key(key)
        if flag is None:
            raise NotFound()
        return (flag.filters.get("payloads") or {}).get("true")

    # --- remote evaluation ------------------------------------------------------------

    def evaluate_flags(self, distinct_id: str,
                       person_properties: Mapping[str, Any] | None = None,
                       flag_keys: list[str] | None = None) -> dict[str, FlagResult]:
        """Each live, active flag's result for ``distinct_id`` (only ``flag_keys`` if
        given). Inactive and deleted flags are absent, as from PostHog's ``/flags``.
        Raises ValidationError for an empty ``distinct_id``."""
        if distinct_id is None or str(distinct_id) == "":
            raise ValidationError("distinct_id is required", attr="distinct_id")
        self._counters.flag_requests += 1
        wanted = None if flag_keys is None else set(flag_keys)
        results = {}
        for flag in self._flags.values():
            if flag.deleted or not flag.active or (wanted is not None and flag.key not in wanted):
                continue
            results[flag.key] = self._result(flag, str(distinct_id), person_properties)
        return results

    def _result(self, flag: FeatureFlag, distinct_id: str,
                person_properties: Mapping[str, Any] | None) -> FlagResult:
        match = match_flag(flag.definition(), distinct_id, person_properties)
        payloads = flag.filters.get("payloads") or {}
        payload = None
        if match.enabled:
            payload = payloads.get(match.variant if match.variant is not None else "true")
        return FlagResult(
            key=flag.key, enabled=match.enabled, variant=match.variant,
            reason_code=match.reason, condition_index=match.condition_index,
            description=reason_description(match.reason, match.condition_index),
            flag_id=flag.id, version=flag.version, payload=payload)

    # --- ingestion --------------------------------------------------------------------

    def capture(self, api_key: str | None, events: list[dict[str, Any]]) -> int:
        """Ingest a batch; each event's key is its own ``api_key``/``token`` (or
        ``properties.token``), else ``api_key``. All or nothing: raises InvalidApiKey
        or ValidationError before storing any. Returns how many were stored."""
        if not isinstance(events, list):
            raise ValidationError("batch must be a list of events", attr="batch")
        parsed = [self._parse_event(api_key, raw) for raw in events]
        for item in parsed:
            self._events.append(item)
            self._count(item.event, 1, item.received_at)
        return len(parsed)

    def _parse_event(self, api_key: str | None, raw: Any) -> CapturedEvent:
        if not isinstance(raw, dict):
            raise ValidationError("each event must be a JSON object", attr="batch")
        properties = raw.get("properties") or {}
        if not isinstance(properties, dict):
            raise ValidationError("properties must be an object", attr="properties")
        self.check_project_key(raw.get("api_key") or raw.get("token")
                               or properties.get("token") or api_key)
        name = raw.get("event")
        if not isinstance(name, str) or not name:
            raise ValidationError("event name is required", attr="event")
        distinct_id = raw.get("distinct_id", properties.get("distinct_id",
                                                           raw.get("$distinct_id")))
        if distinct_id is None or str(distinct_id) == "":
            raise ValidationError("distinct_id is required", attr="distinct_id")
        return CapturedEvent(event=name, distinct_id=str(distinct_id),
                             properties=dict(properties), timestamp=raw.get("timestamp"),
                             uuid=raw.get("uuid"), received_at=self.clock.now())

    def record_events(self, event: str, count: int, at: float | None = None) -> None:
        """Data-plane fast path: add ``count`` to ``event``'s counter, no payloads."""
        if count < 0:
            raise ValueError("count must be >= 0")
        self._count(event, count, self.clock.now() if at is None else at)

    def _count(self, event: str, count: int, at: float) -> None:
        self._counters.events[event] += count
        self._last_event_at[event] = max(at, self._last_event_at.get(event, at))

    def events(self, event: str | None = None) -> list[CapturedEvent]:
        """Stored events, oldest first, optionally of one name."""
        return [e for e in self._events if event is None or e.event == event]

    def event_counts(self) -> dict[str, int]:
        """Events seen per name: captured and recorded alike."""
        return dict(self._counters.events)

    def last_event_at(self, event: str) -> float | None:
        """Virtual time of the newest ``event`` seen, or None."""
        return self._last_event_at.get(event)

    def event_time(self, event: CapturedEvent) -> float:
        """Virtual seconds of an event's own ``timestamp`` (its arrival if it has none)."""
        return from_iso(self.clock, event.timestamp) if event.timestamp else event.received_at


def _etag_matches(header: str, etag: str) -> bool:
    """``If-None-Match`` semantics: ``*``, or any listed tag, weak or strong."""
    candidates = [t.strip() for t in header.split(",")]
    return "*" in candidates or any(t.removeprefix("W/") == etag for t in candidates)
