"""The write ledger: what users were told was saved, kept apart from the app database.

The app appends one entry per acknowledged write (a contact created, edited or deleted)
right after its database commit and before it answers the user: the contact's id, the
operation, the names of the fields it holds and a SHA-256 digest of their values — no
values, so the ledger holds no personal data. It lives in its own SQLite file (or in
memory), never in the database it audits, so a restore or a bad migration cannot rewrite
it. ``Ledger.verify(db)`` compares each contact's latest acknowledged state with the
database: the runbook's "data loss" is ``report.data_loss`` = missing + altered.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout.app.db import Database
from rollout.app.sql import identifier

OPS = ("create", "update", "delete")
_SCHEMA = """CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id TEXT NOT NULL,
    op TEXT NOT NULL,
    fields TEXT NOT NULL,
    digest TEXT NOT NULL,
    acked_at REAL NOT NULL
)"""


def digest(values: Mapping[str, Any]) -> str:
    """SHA-256 of the values as canonical JSON (sorted keys; non-JSON types as text)."""
    text = json.dumps(dict(values), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class LedgerEntry:
    """One acknowledged write, in acknowledgement order (``seq``)."""

    seq: int
    contact_id: str
    op: str
    fields: tuple[str, ...]
    digest: str
    acked_at: float


@dataclass(frozen=True)
class LedgerReport:
    """Contacts whose acknowledged state the database lost (``missing``: no row; ``altered``:
    a row that differs, lacks a field, or a deleted contact that came back)."""

    missing: list[str]
    altered: list[str]
    checked: int

    @property
    def data_loss(self) -> int:
        return len(self.missing) + len(self.altered)


class Ledger:
    """An append-only list of acknowledged writes in its own SQLite file or in memory."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = None if str(path) == ":memory:" else Path(path).resolve()
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute(_SCHEMA)

    def record(self, contact_id: str, op: str, values: Mapping[str, Any],
               acked_at: float) -> LedgerEntry:
        """Append an acknowledged write; ``values`` is the contact's full state after it.

        For a delete, ``values`` may be empty. Raises ValueError for an unknown ``op``.
        """
        if op not in OPS:
            raise ValueError(f"op must be one of {', '.join(OPS)}, not {op!r}")
        fields = tuple(sorted(values))
        cursor = self._conn.execute(
            "INSERT INTO ledger (contact_id, op, fields, digest, acked_at) VALUES (?, ?, ?, ?, ?)",
            (contact_id, op, json.dumps(fields), digest(values), float(acked_at)))
        return LedgerEntry(int(cursor.lastrowid or 0), contact_id, op, fields,
                           digest(values), float(acked_at))

    def entries(self) -> list[LedgerEntry]:
        """Every entry, oldest first."""
        rows = self._conn.execute("SELECT seq, contact_id, op, fields, digest, acked_at "
                                  "FROM ledger ORDER BY seq").fetchall()
        return [LedgerEntry(seq, cid, op, tuple(json.loads(fields)), dig, at)
                for seq, cid, op, fields, dig, at in rows]

    def latest(self) -> dict[str, LedgerEntry]:
        """Each contact's last acknowledged write."""
        return {entry.contact_id: entry for entry in self.entries()}

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM ledger").fetchone()[0])

    def verify(self, db: Database, table: str = "contacts") -> LedgerReport:
        """Compare each contact's latest acknowledged state with ``table`` in ``db``.

        Raises ValueError when ``db`` is the ledger's own file (it must live apart).
        """
        if self.path is not None and db.path is not None and db.path.resolve() == self.path:
            raise ValueError("the ledger must not live in the database it audits")
        latest = self.latest()
        rows = _rows_by_id(db, table, latest.values())
        missing, altered = [], []
        for contact_id, entry in latest.items():
            row = rows.get(contact_id)
            if entry.op == "delete":
                if row is not None:
                    altered.append(contact_id)
            elif row is None:
                missing.append(contact_id)
            elif not set(entry.fields) <= row.keys() or digest(
                    {name: row[name] for name in entry.fields}) != entry.digest:
                altered.append(contact_id)
        return LedgerReport(sorted(missing), sorted(altered), len(latest))

    def close(self) -> None:
        self._conn.close()


def _rows_by_id(db: Database, table: str, entries: Any) -> dict[str, dict[str, Any]]:
    """The rows of ``table`` with the fields the entries name (those that still exist)."""
    present = db.columns(table)
    if not present:
        return {}
    wanted = sorted({f for e in entries for f in e.fields} & set(present) | {"id"})
    rows = db.query(f"SELECT {', '.join(wanted)} FROM {identifier(table)}")
    return {str(r[wanted.index("id")]): dict(zip(wanted, r, strict=True)) for r in rows}
