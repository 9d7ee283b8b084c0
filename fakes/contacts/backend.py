"""The Contacts app as deployed: which page a user gets, decided by ``rollout.release.flags``.

The app has no state of its own worth faking: what it serves follows from the build the
production alias points at (its baked ``VITE_*`` env and whether it contains the
redesign) and, in the remote form, from the PostHog flag as the client fetched it. The
backend takes both as callables so it serves exactly what the platform fakes serve.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from fakes.common.clock import Clock, to_iso
from fakes.common.errors import FakeError
from fakes.common.serving import LiveBuild
from rollout.release.flags import FlagMode, should_show_new_contacts


class AppDown(FakeError):
    """Nothing serves the app right now (503)."""

    status = 503
    code = "app_down"


class ContactsBackend:
    """Decides the page per user with the real ``shouldShowNewContacts``."""

    def __init__(self, clock: Clock, mode: FlagMode, live_build: Callable[[], LiveBuild],
                 remote_flag: Callable[[str], bool | None],
                 internal_users: Collection[str]) -> None:
        self.clock = clock
        self.mode = mode
        self.live_build = live_build
        self.remote_flag = remote_flag
        self.internal_users = frozenset(internal_users)
        self.requests = 0

    def get_contacts_page(self, user_id: str) -> dict[str, Any]:
        """Which Contacts page ``user_id`` is served now, and by which build."""
        self.requests += 1
        build = self.live_build()
        if build.down:
            raise AppDown("the application is down")
        mode = build.flag_mode or self.mode
        remote = self.remote_flag(user_id) if mode is FlagMode.REMOTE else None
        new = build.has_redesign and should_show_new_contacts(
            mode, user_id, build.env, self.internal_users, remote)
        return {"page": "ContactsPageNew" if new else "ContactsPageOld",
                "variant": "new" if new else "old", "user_id": user_id,
                "version": build.version, "deployment_id": build.deployment_id,
                "served_at": to_iso(self.clock)}

    def get_health(self) -> dict[str, Any]:
        """The /health answer: status and the version being served."""
        build = self.live_build()
        if build.down:
            raise AppDown("the application is down")
        return {"status": "ok", "version": build.version, "deployment_id": build.deployment_id,
                "time": to_iso(self.clock)}

    def state(self) -> dict[str, Any]:
        return {"requests": self.requests, "mode": self.mode.value,
                "internal_users": len(self.internal_users)}
