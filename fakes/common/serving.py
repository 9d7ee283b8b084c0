"""What production serves now: the build behind the production alias, and how the
Contacts app reads it.

Every platform fake (Vercel, Netlify, Docker) ends in a ``LiveBuild``; the Contacts app
serves users from it through ``Serving`` (the drill world implements it).
"""

from __future__ import annotations

from collections.abc import Collection
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


class Serving(Protocol):
    """What production serves now, as the Contacts app reads it (the drill world)."""

    @property
    def flag_mode(self) -> FlagMode: ...
    @property
    def internal_ids(self) -> Collection[str]: ...
    def live_build(self) -> LiveBuild: ...
    def remote_flag(self, user_id: str) -> bool | None: ...
