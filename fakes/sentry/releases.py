"""Releases and their deploys, as sentry-cli creates them (``releases new``, ``deploys new``).

A release also springs into being the first time an event or session names it, as in
Sentry. Facts that come from the data (first and last event, new issues, whether there is
release-health data) are computed by the backend and passed in when serializing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fakes.common.clock import Clock, from_iso, to_iso
from fakes.sentry.errors import NotFound, ValidationError
from fakes.sentry.issues import Issue

RELEASE_STATUSES = ("open", "archived")  # sentry-cli's ReleaseStatus (src/api/mod.rs)


@dataclass
class Release:
    id: int
    version: str
    date_created: float
    date_released: float | None = None
    ref: str | None = None
    url: str | None = None
    status: str = "open"
    deploys: list[dict[str, Any]] = field(default_factory=list)


class ReleaseBook:
    """The project's releases, by version, in order of creation."""

    def __init__(self, clock: Clock, project_slug: str) -> None:
        self.clock = clock
        self.project_slug = project_slug
        self._releases: dict[str, Release] = {}
        self._deploys = 0

    def __contains__(self, version: str) -> bool:
        return version in self._releases

    def versions(self) -> list[str]:
        return list(self._releases)

    def saw(self, version: str) -> None:
        """Data named ``version``: create the release if it is new."""
        if version and version not in self._releases:
            self._add(version)

    def _add(self, version: str) -> Release:
        release = Release(len(self._releases) + 1, version, self.clock.now())
        self._releases[version] = release
        return release

    def _date(self, payload: dict[str, Any], name: str) -> float | None:
        value = payload.get(name)
        if value is None:
            return None
        try:
            return from_iso(self.clock, str(value))
        except ValueError:
            raise ValidationError(name, "Datetime has wrong format.") from None

    def create(self, payload: Any) -> Release:
        """Create or update a release from ``{version, projects, ref?, url?,
        dateReleased?}``; raises ValidationError."""
        if not isinstance(payload, dict) or not isinstance(payload.get("version"), str) \
                or not payload["version"].strip():
            raise ValidationError("version", "This field is required.")
        projects = payload.get("projects")
        if not isinstance(projects, list) or not projects:
            raise ValidationError("projects", "This field is required.")
        if any(p != self.project_slug for p in projects):
            raise ValidationError("projects", "Invalid project slugs")
        release = self._releases.get(payload["version"]) or self._add(payload["version"])
        release.ref = payload.get("ref") or release.ref
        release.url = payload.get("url") or release.url
        release.date_released = self._date(payload, "dateReleased") or release.date_released
        return release

    def find(self, query: str = "") -> list[Release]:
        """Releases whose version contains ``query``, newest first."""
        found = [r for r in self._releases.values() if query in r.version]
        return sorted(found, key=lambda r: (r.date_created, r.id), reverse=True)

    def get(self, version: str) -> Release:
        """The release named ``version``; raises NotFound."""
        release = self._releases.get(version)
        if release is None:
            raise NotFound()
        return release

    def update(self, version: str, payload: Any) -> Release:
        """Update a release from ``{ref?, url?, dateReleased?, status?}`` (what
        ``sentry-cli releases finalize`` PUTs: ``dateReleased``, with ``projects`` and
        ``url`` when given); raises NotFound, ValidationError. Sentry's
        ``OrganizationReleaseDetailsEndpoint.put`` (getsentry/sentry
        ``src/sentry/api/endpoints/organization_release_details.py``) takes these
        fields and ignores others."""
        release = self.get(version)
        if not isinstance(payload, dict):
            raise ValidationError("non_field_errors", "Invalid data. Expected a dictionary.")
        status = payload.get("status", release.status)
        if status not in RELEASE_STATUSES:
            raise ValidationError("status", f"Invalid status {status}")
        release.date_released = self._date(payload, "dateReleased") or release.date_released
        release.ref = payload.get("ref") or release.ref
        release.url = payload.get("url") or release.url
        release.status = status
        return release

    def deploys(self, version: str) -> list[dict[str, Any]]:
        """The release's deploys, newest first (Sentry's ``ReleaseDeploysEndpoint.get``
        orders by ``-date_finished``); raises NotFound."""
        return list(reversed(self.get(version).deploys))

    def create_deploy(self, version: str, payload: Any) -> dict[str, Any]:
        """Record a deploy ``{environment, name?, url?, dateStarted?, dateFinished?}``;
        raises NotFound (release), ValidationError."""
        release = self.get(version)
        if not isinstance(payload, dict) or not isinstance(payload.get("environment"), str) \
                or not payload["environment"]:
            raise ValidationError("environment", "This field is required.")
        started = self._date(payload, "dateStarted")
        finished = self._date(payload, "dateFinished")
        self._deploys += 1
        deploy = {"id": str(self._deploys), "environment": payload["environment"],
                  "name": payload.get("name"), "url": payload.get("url"),
                  "dateStarted": None if started is None else to_iso(self.clock, started),
                  "dateFinished": to_iso(self.clock, self.clock.now() if finished is None
                                         else finished)}
        release.deploys.append(deploy)
        return deploy


def serialize_release(release: Release, facts: dict[str, Any], project: dict[str, Any],
                      iso: Callable[[float], str]) -> dict[str, Any]:
    """The release as Sentry's API returns it; ``facts`` holds firstEvent, lastEvent
    (virtual seconds or None), newGroups and hasHealthData."""
    first, last = facts["firstEvent"], facts["lastEvent"]
    return {
        "id": release.id, "version": release.version,
        "shortVersion": release.version.split("@", 1)[-1], "status": release.status,
        "ref": release.ref, "url": release.url, "data": {}, "owner": None,
        "dateCreated": iso(release.date_created),
        "dateReleased": None if release.date_released is None else iso(release.date_released),
        "firstEvent": None if first is None else iso(first),
        "lastEvent": None if last is None else iso(last),
        "newGroups": facts["newGroups"], "commitCount": 0, "lastCommit": None, "authors": [],
        "deployCount": len(release.deploys),
        "lastDeploy": release.deploys[-1] if release.deploys else None,
        "projects": [{**project, "newGroups": facts["newGroups"], "platforms": ["javascript"],
                      "hasHealthData": facts["hasHealthData"]}],
    }


def release_facts(version: str, issues: Iterable[Issue],
                  session_keys: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """What the data say about a release: its first and last event, the issues first
    seen in it, and whether any session named it (``serialize_release``'s ``facts``)."""
    issues = list(issues)
    first = [t for i in issues for k, t in i.first_seen.items() if k[0] == version]
    last = [t for i in issues for k, t in i.last_seen.items() if k[0] == version]
    new_groups = sum(1 for i in issues
                     if min(i.first_seen, key=i.first_seen.__getitem__)[0] == version)
    return {"firstEvent": min(first, default=None), "lastEvent": max(last, default=None),
            "newGroups": new_groups,
            "hasHealthData": any(k[0] == version for k in session_keys)}
