"""Which Pulse field fills which Contacts column, and the validators of each value.

``EntityMapping`` says which Pulse field fills which Contacts column, and validates each
value for its column (an email looks like an email, names and free text are not emails,
no garbage sentinels, an id is present). A record whose shape is wrong (no id, a
non-string email) is *malformed*; one whose values fail a validator is a *mapping*
rejection. Neither is stored. ``DEFAULT_MAPPING`` is the app's mapping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import combinations
from types import MappingProxyType
from typing import Any

Swap = tuple[str, str]
TEXT, TIME, OBJECT = "text", "time", "object"
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_PHONE = re.compile(r"[+(\d][\d\s().\-]*(?:\s*(?:x|ext\.?)\s*\d+)?")
_NAME_PUNCTUATION = frozenset(" '’-.")
_SENTINELS = frozenset({"null", "undefined", "nan", "none", "n/a", "#ref!", "#n/a", "#value!",
                        "#name?", "#div/0!", "#null!", "#num!", "[object object]"})


def is_email(value: Any) -> bool:
    return isinstance(value, str) and _EMAIL.fullmatch(value) is not None


def is_text(value: Any) -> bool:
    """Free text (company, title): no email, no replacement character, no sentinel."""
    return (isinstance(value, str) and not is_email(value.strip()) and "\ufffd" not in value
            and value.strip().lower() not in _SENTINELS)


def is_name(value: Any) -> bool:
    """A person's name: letters, spaces and ' - . only, with at least one letter."""
    return (isinstance(value, str) and any(c.isalpha() for c in value)
            and all(c.isalpha() or c in _NAME_PUNCTUATION for c in value.strip()))


def is_phone(value: Any) -> bool:
    digits = re.sub(r"\D", "", value) if isinstance(value, str) else ""
    return (isinstance(value, str) and _PHONE.fullmatch(value.strip()) is not None
            and 7 <= len(digits) <= 20 and set(digits) != {"0"})


def is_identifier(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and not any(c.isspace() for c in value)


def _anything(_: Any) -> bool:
    return True


@dataclass(frozen=True)
class Column:
    """One Contacts column: the Pulse field it reads, its shape, its value check."""

    source: str
    check: Callable[[Any], bool] = _anything
    kind: str = TEXT
    required: bool = False


@dataclass(frozen=True)
class Mapped:
    """A record through the mapping: the row, shape problems, columns failing validation."""

    row: dict[str, Any]
    malformed: tuple[str, ...]
    invalid: tuple[str, ...]


@dataclass(frozen=True)
class EntityMapping:
    """Contacts column → Pulse field, with validators. ``key`` identifies a contact,
    ``stamp`` orders its versions (Pulse's ``updated_at``)."""

    columns: Mapping[str, Column]
    key: str = "id"
    stamp: str = "updated_at"

    def source_of(self, column: str) -> str:
        return self.columns[column].source

    @property
    def swappable(self) -> tuple[str, ...]:
        """The value columns a drifted mapping can swap (text, not the key)."""
        return tuple(sorted(n for n, c in self.columns.items() if c.kind == TEXT and n != self.key
                            and c.source != self.columns[self.key].source))

    def swapped(self, pairs: tuple[Swap, ...] | list[Swap]) -> EntityMapping:
        """This mapping with the sources of each pair of columns exchanged."""
        columns = dict(self.columns)
        for a, b in pairs:
            columns[a], columns[b] = (replace(columns[a], source=columns[b].source),
                                      replace(columns[b], source=columns[a].source))
        return replace(self, columns=MappingProxyType(columns))

    def map(self, record: Any) -> Mapped:
        """The Contacts row of a Pulse record, with what is wrong with it."""
        if not isinstance(record, dict):
            return Mapped({}, (f"record: expected an object, got {type(record).__name__}",), ())
        row: dict[str, Any] = {}
        malformed, invalid = [], []
        for name, column in self.columns.items():
            value = record.get(column.source)
            problem = _shape_problem(column, value)
            if problem:
                malformed.append(f"{name} (from {column.source}): {problem}")
                continue
            row[name] = value
            if value not in (None, "") and not column.check(value):
                invalid.append(name)
        return Mapped(row, tuple(malformed), tuple(invalid))

    def explaining_swaps(self, row: Mapping[str, Any],
                         invalid: tuple[str, ...]) -> tuple[Swap, ...]:
        """Pairs of failing columns that both validate once their values are exchanged."""
        pairs: list[Swap] = []
        covered: set[str] = set()
        for a, b in combinations(sorted(c for c in invalid if c in self.swappable), 2):
            if not covered & {a, b} and self._fits(a, row.get(b)) and self._fits(b, row.get(a)):
                pairs.append((a, b))
                covered |= {a, b}
        return tuple(pairs)

    def stored_swaps(self, row: Mapping[str, Any], stored: Mapping[str, Any]) -> tuple[Swap, ...]:
        """Pairs of columns whose incoming values are the stored values, exchanged."""
        held = [c for c in self.swappable if stored.get(c) not in (None, "")]
        return tuple((a, b) for a, b in combinations(held, 2)
                     if stored[a] != stored[b] and row.get(a) == stored[b]
                     and row.get(b) == stored[a])

    def _fits(self, column: str, value: Any) -> bool:
        return isinstance(value, str) and bool(value) and self.columns[column].check(value)


def _shape_problem(column: Column, value: Any) -> str | None:
    if value is None or value == "":
        return "missing" if column.required else None
    if column.kind == OBJECT:
        return None if isinstance(value, dict) else \
            f"expected an object, got {type(value).__name__}"
    if not isinstance(value, str):
        return f"expected a string, got {type(value).__name__}"
    if column.kind == TIME and parse_time(value) is None:
        return "not an ISO-8601 timestamp"
    return None


def parse_time(text: Any) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime (UTC when no zone), or None."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


DEFAULT_MAPPING = EntityMapping(MappingProxyType({
    "id": Column("id", is_identifier, required=True),
    "pulse_id": Column("id", is_identifier, required=True),
    "first_name": Column("first_name", is_name),
    "last_name": Column("last_name", is_name),
    "email": Column("email", is_email, required=True),
    "phone": Column("phone", is_phone),
    "company": Column("company", is_text),
    "title": Column("title", is_text),
    "pulse_owner_id": Column("owner_id", is_identifier),
    "pulse_custom_fields": Column("custom_fields", kind=OBJECT),
    "created_at": Column("created_at", kind=TIME),
    "updated_at": Column("updated_at", kind=TIME, required=True),
}))
"""The Contacts columns (``rollout.app.db`` plus the Pulse migrations) a Pulse contact fills."""
