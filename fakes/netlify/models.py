"""The records the fake Netlify keeps, and the rules on their fields.

Plain dataclasses (user, accounts, env vars and their values, builds, deploys, sites)
plus the small pure functions that mint ids, validate env vars and resolve a variable's
value for a deploy context; ``backend.py`` owns and mutates them. Times are virtual
seconds since the clock's epoch.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fakes.netlify.errors import Unprocessable
from fakes.netlify.lifecycle import DeployState, PublishStatus

#: Where a value applies. ``dev`` is ``netlify dev``; ``branch`` needs a context_parameter.
ENV_CONTEXTS = ("all", "dev", "dev-server", "branch-deploy", "deploy-preview", "production",
                "branch")
ENV_SCOPES = ("builds", "functions", "runtime", "post-processing")
# netlify-cli sends ``post_processing`` (netlify/cli src/utils/env/index.ts,
# ALL_ENVELOPE_SCOPES: every ``env:set`` without ``--scope``) and matches both spellings
# (src/commands/env/env-set.ts: /post[-_]processing/); the API's own schema spells it
# ``post-processing`` (@netlify/open-api swagger.json, envVar.scopes). Both are accepted,
# stored in the schema's spelling.
SCOPE_ALIASES = {"post_processing": "post-processing"}
DEPLOY_CONTEXTS = ("production", "deploy-preview", "branch-deploy")
DOMAIN = "netlify.app"


@dataclass
class User:
    id: str
    email: str
    full_name: str
    created: float


@dataclass
class Account:
    """A team; env vars live under it (``/accounts/{id or slug}/env``)."""

    id: str
    slug: str
    name: str
    created: float


@dataclass
class EnvValue:
    """One value of a variable, for one deploy context (``branch``: one branch)."""

    id: str
    value: str
    context: str
    context_parameter: str | None = None


@dataclass
class EnvVar:
    """A variable: shared by the account (``site_id`` None) or set on one site."""

    key: str
    scopes: list[str]
    values: list[EnvValue]
    is_secret: bool
    site_id: str | None
    created: float
    updated: float


@dataclass
class DeployEvent:
    """A state a deploy reached, and when (virtual seconds)."""

    at: float
    state: DeployState
    text: str


@dataclass
class PublishChange:
    """The site started serving ``deploy_id`` at ``at``: auto, restore or rollback."""

    at: float
    deploy_id: str
    reason: str


@dataclass
class PublishRequest:
    """A restore or rollback: it lands (publishes ``deploy_id``) at ``lands_at``."""

    seq: int
    kind: str
    deploy_id: str
    from_deploy_id: str | None
    requested_at: float
    lands_at: float
    status: PublishStatus = PublishStatus.PENDING


@dataclass
class Build:
    """The build behind a deploy (``POST /sites/{id}/builds`` answers with one)."""

    id: str
    deploy_id: str
    sha: str | None
    created: float


@dataclass
class Deploy:
    """One deploy; ``env`` is what its build baked in, ``meta`` the simulation's own notes
    (``{"version", "hasRedesign"}``), kept here and not sent over the API."""

    id: str
    site_id: str
    build_id: str
    name: str
    context: str
    branch: str
    commit_ref: str | None
    title: str | None
    meta: dict[str, Any]
    draft: bool
    created: float
    building_at: float
    ready_at: float
    fails: bool
    state: DeployState = DeployState.NEW
    env: dict[str, str] | None = None
    ended_at: float | None = None
    published_at: float | None = None
    error_message: str | None = None
    locked: bool = False
    updated: float = 0.0
    events: list[DeployEvent] = field(default_factory=list)

    @property
    def is_production(self) -> bool:
        return self.context == "production"

    @property
    def deploy_time(self) -> int | None:
        """Whole seconds the build ran, once it ended."""
        if self.ended_at is None:
            return None
        return round(self.ended_at - min(self.building_at, self.ended_at))


@dataclass
class Site:
    """A site: its deploys (creation order), what it serves, and who may change that."""

    id: str
    name: str
    account_id: str
    created: float
    updated: float
    repo_branch: str = "main"
    deploy_ids: list[str] = field(default_factory=list)
    published_deploy_id: str | None = None
    published_since: float = -math.inf
    locked_deploy_id: str | None = None
    pending: PublishRequest | None = None
    publish_history: list[PublishChange] = field(default_factory=list)
    publish_requests: list[PublishRequest] = field(default_factory=list)

    @property
    def auto_publishing(self) -> bool:
        """False while a deploy holds the lock ("Stop auto publishing")."""
        return self.locked_deploy_id is None

    @property
    def host(self) -> str:
        return f"{self.name}.{DOMAIN}"

    @property
    def admin_url(self) -> str:
        return f"https://app.netlify.com/sites/{self.name}"


def hex_id(text: str, length: int = 24) -> str:
    """``length`` hex digits derived from ``text`` (Netlify's deploy and build ids)."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def uuid_id(text: str) -> str:
    """A UUID-shaped id derived from ``text`` (Netlify's site and env value ids)."""
    return str(uuid.UUID(bytes=hashlib.sha256(text.encode()).digest()[:16], version=4))


def finite(t: float) -> float | None:
    return t if math.isfinite(t) else None


def check_context(context: Any) -> str:
    """A deploy context; raises Unprocessable for anything else."""
    if context not in DEPLOY_CONTEXTS:
        raise Unprocessable(f"context must be one of {', '.join(DEPLOY_CONTEXTS)}")
    return str(context)


def check_value(value: Any, context: Any, context_parameter: Any) -> tuple[str, str, str | None]:
    """(value, context, context_parameter) of one env value; raises Unprocessable."""
    if not isinstance(value, str):
        raise Unprocessable("value must be a string")
    if context not in ENV_CONTEXTS:
        raise Unprocessable(f"context must be one of {', '.join(ENV_CONTEXTS)}")
    if context_parameter in ("", None):
        context_parameter = None
    elif not isinstance(context_parameter, str):
        raise Unprocessable("context_parameter must be a string")
    if (context == "branch") != (context_parameter is not None):
        raise Unprocessable("context_parameter (a branch name) goes with context=branch only")
    return value, context, context_parameter


def check_scopes(scopes: Any) -> list[str]:
    """The scopes list, normalised (all four when None, ``post_processing`` spelled
    ``post-processing``); raises Unprocessable."""
    if scopes is None:
        return list(ENV_SCOPES)
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        scopes = [None]
    named = [SCOPE_ALIASES.get(s, s) for s in scopes]
    if not named or any(s not in ENV_SCOPES for s in named):
        raise Unprocessable(f"scopes must be a non-empty list of {', '.join(ENV_SCOPES)}")
    return sorted(set(named), key=ENV_SCOPES.index)


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise Unprocessable("key must be a non-empty string")
    return key


def check_unique_contexts(values: Iterable[EnvValue]) -> None:
    """Raises Unprocessable when two values claim the same context (and branch)."""
    seen: set[tuple[str, str | None]] = set()
    for v in values:
        if (v.context, v.context_parameter) in seen:
            raise Unprocessable(f"more than one value for context {v.context}")
        seen.add((v.context, v.context_parameter))


def resolve(var: EnvVar, context: str, branch: str | None = None) -> str | None:
    """The value ``var`` takes in a deploy of ``context`` on ``branch``: the most specific
    of a ``branch`` value for that branch, a value for the context, then ``all``."""
    wanted: list[tuple[str, str | None]] = [(context, None), ("all", None)]
    if context == "branch-deploy" and branch:
        wanted.insert(0, ("branch", branch))
    by_context = {(v.context, v.context_parameter): v.value for v in var.values}
    return next((by_context[w] for w in wanted if w in by_context), None)


def env_for(variables: Iterable[EnvVar], context: str, branch: str | None = None,
            scope: str | None = "builds") -> dict[str, str]:
    """Key → value of ``variables`` in ``context`` (only those in ``scope`` when given)."""
    out: dict[str, str] = {}
    for var in variables:
        value = resolve(var, context, branch)
        if value is not None and (scope is None or scope in var.scopes):
            out[var.key] = value
    return out
