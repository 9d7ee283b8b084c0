"""Issues: error events grouped by fingerprint (exception type, culprit).

An ``Issue`` keeps, per (release, environment), per-minute ``[events, users]`` counters and
first/last-seen times, never one record per event, so the data plane can add thousands
of events per tick. ``list_issues`` answers Sentry's issue-list query: an issue is listed
when it has events in the period that pass the filters; its ``count`` (a string, as in
Sentry) and ``userCount`` cover that period, ``firstSeen``/``lastSeen`` all time.

``userCount`` is the sum of the users each batch reports: the data plane cannot tell
distinct users apart across ticks, so it is an upper bound; events ingested from
envelopes count each distinct ``user`` once per issue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fakes.sentry.search import Search, flag

Key = tuple[str, str]  # (release, environment)
OPEN_STATUSES = frozenset({"unresolved", "unassigned", "for_review", "ongoing", "new"})
SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "date": lambda i: i["lastSeen"],
    "new": lambda i: i["firstSeen"],
    "freq": lambda i: int(i["count"]),
    "user": lambda i: i["userCount"],
}


@dataclass
class Issue:
    id: int
    short_id: str
    exc_type: str
    value: str
    culprit: str
    level: str
    status: str = "unresolved"
    unhandled: bool = False  # some event of it was unhandled (Sentry's ``isUnhandled``)
    minutes: dict[Key, dict[int, list[int]]] = field(default_factory=dict)
    first_seen: dict[Key, float] = field(default_factory=dict)
    last_seen: dict[Key, float] = field(default_factory=dict)
    users_seen: set[str] = field(default_factory=set)
    latest_event: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        return f"{self.exc_type}: {self.value}" if self.value else self.exc_type

    def record(self, key: Key, timestamp: float, count: int, users: int) -> None:
        """Add ``count`` events from ``users`` users at ``timestamp`` under ``key``."""
        per_minute = self.minutes.get(key)
        if per_minute is None:
            per_minute = self.minutes[key] = {}
            self.first_seen[key] = self.last_seen[key] = timestamp
        row = per_minute.get(int(timestamp // 60))
        if row is None:
            row = per_minute[int(timestamp // 60)] = [0, 0]
        row[0] += count
        row[1] += users
        if timestamp < self.first_seen[key]:
            self.first_seen[key] = timestamp
        if timestamp > self.last_seen[key]:
            self.last_seen[key] = timestamp

    def matches(self, search: Search) -> bool:
        """Issue-level filters: status, level, free text, unknown tags (match nothing)."""
        if search.unknown or any(v not in ("error", "default") for v in
                                 search.values("event.type")):
            return False
        if any(v not in OPEN_STATUSES for v in search.values("is")):
            return False
        if any(v != self.level for v in search.values("level")):
            return False
        if any(flag(v) != self.unhandled for v in search.values("error.unhandled")) or \
                any(flag(v) == self.unhandled for v in search.values("error.handled")):
            return False
        haystack = f"{self.title} {self.culprit}".lower()
        return all(word.lower() in haystack for word in search.text)

    def window(self, keys: Iterable[Key], lo: int, hi: int) -> tuple[int, int]:
        """Events and users in minutes ``lo..hi`` (inclusive) under ``keys``."""
        events = users = 0
        for key in keys:
            for minute, (count, n_users) in self.minutes[key].items():
                if lo <= minute <= hi:
                    events += count
                    users += n_users
        return events, users


def serialize_issue(issue: Issue, keys: list[Key], events: int, users: int,
                    project: dict[str, str], org: str,
                    iso: Callable[[float], str]) -> dict[str, Any]:
    """The issue as Sentry's issue list returns it."""
    return {
        "id": str(issue.id), "shortId": issue.short_id, "title": issue.title,
        "culprit": issue.culprit, "level": issue.level, "status": issue.status,
        "substatus": "ongoing", "type": "error", "issueType": "error",
        "issueCategory": "error", "count": str(events), "userCount": users,
        "firstSeen": iso(min(issue.first_seen[k] for k in keys)),
        "lastSeen": iso(max(issue.last_seen[k] for k in keys)),
        "permalink": f"https://{org}.sentry.io/issues/{issue.id}/",
        "project": project, "platform": "javascript", "logger": None,
        "metadata": {"type": issue.exc_type, "value": issue.value},
        "numComments": 0, "assignedTo": None, "isBookmarked": False, "isSubscribed": False,
        "hasSeen": False, "isPublic": False, "shareId": None, "annotations": [],
        "isUnhandled": issue.unhandled,
    }
