"""The subset of Sentry's search syntax the fake understands.

``release:X`` (quotes and ``*`` globs allowed), ``environment:X``, ``event.type:X``,
``is:unresolved``, ``level:X``, ``error.unhandled:true|false`` (and ``error.handled``:
boolean keys of Sentry's search, github:getsentry/sentry ``src/sentry/api/event_search.py``
``boolean_keys``) and free text. Several tokens combine with AND, as in
Sentry. A key the fake does not know is kept in ``unknown``: the events dataset treats
it as a tag no stored event carries (so it matches nothing, like a typo'd tag in Sentry);
the sessions dataset rejects it, as Sentry rejects unsupported keys there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

_TOKEN = re.compile(r'(!?[\w.]+):("(?:[^"\\]|\\.)*"|\S+)|("(?:[^"\\]|\\.)*"|\S+)')
KNOWN_KEYS = frozenset({"release", "environment", "event.type", "is", "level",
                        "error.unhandled", "error.handled"})
ERROR_EVENT_TYPES = frozenset({"error", "default"})


@dataclass(frozen=True)
class Search:
    """A parsed query: per key, the values every item must match (AND)."""

    terms: tuple[tuple[str, str], ...] = ()
    text: tuple[str, ...] = ()

    def values(self, key: str) -> list[str]:
        return [v for k, v in self.terms if k == key]

    @property
    def unknown(self) -> list[str]:
        return [k for k, _ in self.terms if k not in KNOWN_KEYS]

    def match_release(self, release: str) -> bool:
        return all(_match(p, release) for p in self.values("release"))

    def match_environment(self, environment: str) -> bool:
        return all(_match(p, environment) for p in self.values("environment"))

    def match_key(self, release: str, environment: str) -> bool:
        """Whether data stored under (release, environment) passes the query."""
        return self.match_release(release) and self.match_environment(environment)

    def matches_error_events(self) -> bool:
        """False when a term excludes error events entirely (e.g. ``event.type:transaction``
        or a tag the fake does not record)."""
        if self.unknown:
            return False
        return all(v in ERROR_EVENT_TYPES for v in self.values("event.type"))

    def error_kinds(self) -> tuple[bool, bool]:
        """Which error events the ``error.unhandled`` / ``error.handled`` terms let through:
        ``(handled, unhandled)``; both when there is no such term, neither when the terms
        contradict (they AND)."""
        handled = unhandled = True
        for value in self.values("error.unhandled"):
            handled, unhandled = handled and not flag(value), unhandled and flag(value)
        for value in self.values("error.handled"):
            handled, unhandled = handled and flag(value), unhandled and not flag(value)
        return handled, unhandled


def flag(value: str) -> bool:
    """A boolean search value (Sentry's ``error.unhandled:true``, ``:1``, ``:false``…)."""
    return value.lower() in ("true", "1", "yes")


def _match(pattern: str, value: str) -> bool:
    return fnmatchcase(value, pattern) if "*" in pattern else value == pattern


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


def parse_search(query: str | None) -> Search:
    """Split a Sentry search string into key:value terms and free text."""
    terms: list[tuple[str, str]] = []
    text: list[str] = []
    for key, value, word in _TOKEN.findall(query or ""):
        if key:
            terms.append((key, _unquote(value)))
        else:
            text.append(_unquote(word))
    return Search(tuple(terms), tuple(text))
