"""The records the fake Vercel keeps, and the rules on their fields.

Plain dataclasses (users, teams, env vars, deployments, projects) plus the small pure
functions that validate and match them; ``backend.py`` owns and mutates them. Times are
virtual seconds since the clock's epoch.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fakes.vercel.errors import BadRequest
from fakes.vercel.lifecycle import ReadyState

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass
class User:
    id: str
    username: str
    email: str
    name: str
    default_team_id: str
    created: float


@dataclass
class Team:
    id: str
    slug: str
    name: str
    created: float


@dataclass
class EnvVar:
    """One project environment variable; ``target`` lists the environments it feeds."""

    id: str
    key: str
    value: str
    type: str
    target: list[str]
    created: float
    updated: float


@dataclass
class DeploymentEvent:
    """A state a deployment reached, and when (virtual seconds)."""

    at: float
    state: ReadyState
    text: str


@dataclass
class AliasChange:
    """The production alias moved to ``deployment_id`` at ``at``: auto, rollback or promote."""

    at: float
    deployment_id: str
    reason: str


@dataclass
class Deployment:
    """One deployment; times are virtual seconds, ``env`` is what its build baked in."""

    id: str
    project_id: str
    name: str
    url: str
    target: str | None
    meta: dict[str, Any]  # as given; the API sends each value as a string
    created: float
    building_at: float
    ready_at: float
    fails: bool
    source_deployment_id: str | None = None
    state: ReadyState = ReadyState.QUEUED
    env: dict[str, str] | None = None
    ended_at: float | None = None
    alias_assigned_at: float | None = None
    events: list[DeploymentEvent] = field(default_factory=list)

    @property
    def is_production(self) -> bool:
        return self.target == "production"

    @property
    def is_rollback_candidate(self) -> bool:
        """A READY production deployment that has served production before."""
        return (self.is_production and self.state is ReadyState.READY
                and self.alias_assigned_at is not None)

    @property
    def error_message(self) -> str | None:
        if self.state is not ReadyState.ERROR:
            return None
        return 'Command "npm run build" exited with 1'


@dataclass
class Project:
    """A project: env vars, its deployments (creation order) and the production alias."""

    id: str
    name: str
    created: float
    updated: float
    env_vars: dict[str, EnvVar] = field(default_factory=dict)
    deployment_ids: list[str] = field(default_factory=list)
    production_deployment_id: str | None = None
    production_assigned_at: float = -math.inf
    auto_assign_production: bool = True
    last_alias_request: dict[str, Any] | None = None
    rollback_description: str | None = None
    alias_history: list[AliasChange] = field(default_factory=list)

    @property
    def production_domain(self) -> str:
        return f"{self.name}.vercel.app"


def digest(text: str, length: int) -> str:
    """``length`` base-62 characters derived from ``text`` (ids that look like Vercel's)."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    chars: list[str] = []
    while len(chars) < length:
        number, rem = divmod(number, 62)
        chars.append(_BASE62[rem])
    return "".join(chars)


def finite(t: float) -> float | None:
    return t if math.isfinite(t) else None


def check_target(target: str | None) -> str | None:
    if target in (None, "preview"):
        return None
    if target != "production":
        raise BadRequest(f"target must be production or preview, not {target!r}")
    return target


def merge_meta(source: Deployment | None, meta: dict[str, Any] | None) -> dict[str, Any]:
    """A redeploy keeps its source's meta, overlaid with its own."""
    return (dict(source.meta) if source else {}) | dict(meta or {})


def meta_strings(meta: dict[str, Any]) -> dict[str, str]:
    """Meta as Vercel sends it: every value a string, booleans and numbers as in JSON."""
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}


def parse_states(state: str | Iterable[str] | None) -> set[ReadyState] | None:
    if state is None:
        return None
    names = state.split(",") if isinstance(state, str) else list(state)
    try:
        return {ReadyState(s.strip().upper()) for s in names if s.strip()} or None
    except ValueError as exc:
        raise BadRequest(f"unknown state in {state!r}") from exc


def target_matches(dep: Deployment, target: str | None) -> bool:
    if target is None:
        return True
    return dep.target == ("production" if target == "production" else None)
