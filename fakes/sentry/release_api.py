"""The web API's release endpoints, over the backend's ``ReleaseBook``.

``ReleaseAPI`` is mixed into ``SentryBackend``: creating, listing, reading and updating
releases and their deploys, each serialized with the facts the stored data give
(``releases.release_facts``). The calls are what sentry-cli makes (getsentry/sentry-cli
``src/api/mod.rs``: ``new_release``, ``list_releases``, ``get_release``,
``update_release``, ``create_deploy``, ``list_deploys``).
"""

from __future__ import annotations

from typing import Any

from fakes.sentry import sessions
from fakes.sentry.issues import Issue
from fakes.sentry.releases import Release, ReleaseBook, release_facts, serialize_release


class ReleaseAPI:
    """Release and deploy endpoints; the backend provides the state and serializers."""

    _releases: ReleaseBook
    _issues: dict[tuple[str, str], Issue]
    _sessions: sessions.Buckets
    project_id: int

    def _project(self) -> dict[str, str]:
        raise NotImplementedError

    def _iso(self, t: float) -> str:
        raise NotImplementedError

    def release_exists(self, version: str) -> bool:
        return version in self._releases

    def create_release(self, payload: Any) -> dict[str, Any]:
        """Create (or update) a release ``{version, projects, ref?, url?, dateReleased?}``;
        raises ValidationError."""
        return self._serialize_release(self._releases.create(payload))

    def list_releases(self, query: str = "") -> list[dict[str, Any]]:
        """Releases whose version contains ``query``, newest first."""
        return [self._serialize_release(r) for r in self._releases.find(query)]

    def get_release(self, version: str) -> dict[str, Any]:
        """One release (``sentry-cli releases info``); raises NotFound."""
        return self._serialize_release(self._releases.get(version))

    def update_release(self, version: str, payload: Any) -> dict[str, Any]:
        """Update a release (``sentry-cli releases finalize`` sets ``dateReleased``);
        raises NotFound, ValidationError."""
        return self._serialize_release(self._releases.update(version, payload))

    def create_deploy(self, version: str, payload: Any) -> dict[str, Any]:
        """Record a deploy of a release ``{environment, name?, url?, dateStarted?,
        dateFinished?}``; raises NotFound (release), ValidationError."""
        return self._releases.create_deploy(version, payload)

    def list_deploys(self, version: str) -> list[dict[str, Any]]:
        """A release's deploys, newest first (``sentry-cli deploys list``); raises
        NotFound."""
        return self._releases.deploys(version)

    def _serialize_release(self, release: Release) -> dict[str, Any]:
        facts = release_facts(release.version, self._issues.values(), self._sessions)
        return serialize_release(release, facts, {**self._project(), "id": self.project_id},
                                 self._iso)
