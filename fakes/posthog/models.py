"""The fake PostHog's records: a feature flag as stored, one flag's answer for one user,
one captured event, and the request counters the control plane reports.

Plain dataclasses; ``backend.PostHogBackend`` holds them and ``router`` serializes them.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fakes.common.clock import Clock, to_iso
from fakes.posthog.filters import is_simple, simple_rollout


@dataclass
class FeatureFlag:
    """One flag as PostHog stores it; ``filters`` is the JSON the API speaks."""

    id: int
    key: str
    name: str
    active: bool
    filters: dict[str, Any]
    created_at: float
    updated_at: float
    deleted: bool = False
    ensure_experience_continuity: bool = False
    version: int = 1
    team_id: int = 1

    def definition(self) -> dict[str, Any]:
        """The dict ``/flags/definitions`` serves and ``match_flag`` reads (a copy)."""
        return {
            "id": self.id, "team_id": self.team_id, "key": self.key, "name": self.name,
            "active": self.active, "deleted": self.deleted,
            "ensure_experience_continuity": self.ensure_experience_continuity,
            "filters": copy.deepcopy(self.filters), "version": self.version,
            "has_encrypted_payloads": False, "evaluation_runtime": "all",
        }

    def to_dict(self) -> dict[str, Any]:
        """Same as ``definition()``: the flag as SDKs and ``evaluation`` read it."""
        return self.definition()

    def to_json(self, clock: Clock) -> dict[str, Any]:
        """The management API's representation, timestamps in ISO-8601."""
        return {**self.definition(), "created_at": to_iso(clock, self.created_at),
                "updated_at": to_iso(clock, self.updated_at), "created_by": None,
                "tags": [], "is_simple_flag": is_simple(self.filters),
                "rollout_percentage": simple_rollout(self.filters)}


@dataclass(frozen=True)
class FlagResult:
    """One flag's answer for one user, as ``/flags`` reports it."""

    key: str
    enabled: bool
    variant: str | None
    reason_code: str
    condition_index: int | None
    description: str
    flag_id: int
    version: int
    payload: Any = None

    @property
    def value(self) -> bool | str:
        """The variant if any, else ``enabled``: what ``/decide`` and the SDKs return."""
        return self.variant if self.variant is not None else self.enabled


@dataclass(frozen=True)
class CapturedEvent:
    """One event as ingested; ``received_at`` is virtual seconds."""

    event: str
    distinct_id: str
    properties: dict[str, Any]
    timestamp: str | None
    uuid: str | None
    received_at: float


@dataclass
class Counters:
    """What the project was asked: flag and definitions requests, events per name."""

    flag_requests: int = 0
    definitions_requests: int = 0
    definitions_not_modified: int = 0
    events: Counter[str] = field(default_factory=Counter)
