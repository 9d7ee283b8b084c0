"""Where the Pulse sync stores contacts: the ``ContactStore`` protocol and an in-memory one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class ContactStore(Protocol):
    """Where synced contacts live: rows of mapping columns keyed by the mapping's key."""

    def upsert(self, contact: dict[str, Any]) -> None: ...

    def get(self, contact_id: str) -> dict[str, Any] | None: ...

    def all_ids(self) -> set[str]: ...


class InMemoryContactStore:
    """A ``ContactStore`` in a dict, with ``snapshot``/``restore`` for backups in tests."""

    def __init__(self, key: str = "id") -> None:
        self.key = key
        self.rows: dict[str, dict[str, Any]] = {}

    def upsert(self, contact: dict[str, Any]) -> None:
        self.rows[contact[self.key]] = dict(contact)

    def get(self, contact_id: str) -> dict[str, Any] | None:
        row = self.rows.get(contact_id)
        return None if row is None else dict(row)

    def all_ids(self) -> set[str]:
        return set(self.rows)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.rows.items()}

    def restore(self, snapshot: Mapping[str, Mapping[str, Any]]) -> None:
        self.rows = {k: dict(v) for k, v in snapshot.items()}
