"""What production serves now: the build behind the production alias, and how the
Contacts app reads it.

Every platform fake (Vercel, Netlify, Docker) ends in a ``LiveBuild``; the Contacts app
serves users from it through ``Serving`` (the drill world implements it).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from rollout.release.flags import FlagEnv, FlagMode


@dataclass(frozen=True)
class LiveBuild:
    """What the production alias serves now."""

    deployment_id: str
    version: str
    has_redesign: bool
    env: FlagEnv
    down: bool = False  # nothing serves the app: stopped, or between containers
    flag_mode: FlagMode | None = None  # the form of shouldShowNewContacts this build ships
    # every VITE_* variable the build baked, sorted (what import.meta.env holds besides
    # Vite's built-ins; only VITE_-prefixed variables reach client code)
    vite_env: tuple[tuple[str, str], ...] = ()


def vite_env(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The ``VITE_*`` variables of a build's env, sorted: what Vite exposes on
    ``import.meta.env`` (its ``envPrefix`` default, https://vite.dev/guide/env-and-mode)."""
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith("VITE_")))


class Serving(Protocol):
    """What production serves now, as the Contacts app reads it (the drill world)."""

    @property
    def flag_mode(self) -> FlagMode: ...
    @property
    def internal_ids(self) -> Collection[str]: ...
    def live_build(self) -> LiveBuild: ...
    def remote_flag(self, user_id: str) -> bool | None: ...
