"""The Contacts database of a drill: a real database, migrated, written to by users.

A SQLite file in a temporary folder by default, PostgreSQL when the scenario gives a DSN.
It is seeded with ``seed_rows`` real contacts, backed up as last night's backup, then
migrated to the Pulse schema (001–003). During the drill, users' acknowledged writes
(contacts created or edited) go both to the database and to the write ledger; when the
application is stopped, writes are refused and never acknowledged. After the run, data
loss is what the ledger finds missing or altered in the database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from fakes.common.clock import Clock, to_datetime
from rollout.app.db import open_database
from rollout.app.ledger import Ledger, LedgerReport
from rollout.app.migrate import backup, migrate_up
from rollout.app.migrations import Migration, load_migrations
from rollout.rollback.database import CostModel, Plan
from sim.scenario.deployment import COST_FIELDS, DatabaseSpec
from sim.tempdirs import make_temp_dir, remove_temp_dir

_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")
_RESET = ("DROP TABLE IF EXISTS pulse_sync_log", "DROP TABLE IF EXISTS contacts",
          "DROP TABLE IF EXISTS schema_migrations")


class AppDatabase:
    """The app's database, its ledger and whether the app accepts writes."""

    def __init__(self, spec: DatabaseSpec, clock: Clock, rng: np.random.Generator) -> None:
        self.spec = spec
        self.clock = clock
        self.rng = rng
        self.folder = make_temp_dir("drill-db-")  # removed on every exit (sim.tempdirs)
        self.db = open_database(spec.dsn or str(self.folder / "contacts.sqlite"))
        if self.db.dialect == "sqlite":  # a throwaway file: skip fsync, same contents
            self.db.execute("PRAGMA synchronous = OFF")
        self.ledger = Ledger()
        self.accepting = True
        self.rows: dict[str, dict[str, Any]] = {}
        self.ids: list[str] = []
        self.refused = 0
        self._reset()
        self._seed()
        self.nightly, _ = backup(self.db, self.folder / "backups", "nightly", now=self._now)
        migrate_up(self.db, now=self._now)

    def _now(self) -> datetime:
        return to_datetime(self.clock)

    def _reset(self) -> None:
        if self.spec.dsn:  # a given PostgreSQL database: start from the pre-Pulse schema
            for statement in _RESET:
                self.db.execute(statement)
        self.db.create_contacts_table()

    def _seed(self) -> None:
        with self.db.transaction():
            for _ in range(self.spec.seed_rows):
                self._insert(self._new_contact(-86400.0))

    def _new_contact(self, t: float) -> dict[str, Any]:
        n = len(self.ids)
        first, last = _FIRST[n % len(_FIRST)], _LAST[(n // len(_FIRST)) % len(_LAST)]
        stamp = to_datetime(self.clock, t).isoformat()
        return {"id": f"ct_{n:07d}", "first_name": first, "last_name": last,
                "email": f"{first}.{last}.{n}@example.com".lower(), "phone": f"+1555{n:07d}",
                "company": "Logos Vision", "title": "", "notes": "", "created_at": stamp,
                "updated_at": stamp, "version": 1}

    def _insert(self, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.db.execute(f"INSERT INTO contacts ({columns}) VALUES ({marks})", tuple(row.values()))
        self.rows[row["id"]] = row
        self.ids.append(row["id"])

    def write(self, t: float, count: int) -> int:
        """``count`` users' writes at ``t``: acknowledged (and ledgered) when accepted."""
        if count <= 0:
            return 0
        if not self.accepting:
            self.refused += count
            return 0
        creates = int(self.rng.binomial(count, self.spec.create_share))
        with self.db.transaction():
            for i in range(count):
                row = self._new_contact(t) if i < creates else self._edit(t)
                if i < creates:
                    self._insert(row)
                self.ledger.record(row["id"], "create" if i < creates else "update", row, t)
        return count

    def _edit(self, t: float) -> dict[str, Any]:
        contact_id = self.ids[int(self.rng.integers(len(self.ids)))]
        row = dict(self.rows[contact_id])
        row.update(notes=f"edited at {t:.0f}", version=int(row["version"]) + 1,
                   updated_at=to_datetime(self.clock, t).isoformat())
        self.db.execute("UPDATE contacts SET notes = ?, version = ?, updated_at = ? "
                        "WHERE id = ?", (row["notes"], row["version"], row["updated_at"],
                                         contact_id))
        self.rows[contact_id] = row
        return row

    def sizes(self) -> dict[str, int]:
        """The table sizes the scenario declares: they price the rollback's steps."""
        return {"contacts": self.spec.contacts_rows,
                "pulse_sync_log": self.spec.contacts_rows // 10}

    def plan(self) -> Plan:
        return Plan(backup=self.spec.backup, order=self.spec.order,
                    restore_from_backup=self.spec.restore_from_backup,
                    fallback_backup=self.nightly, backups_dir=self.folder / "backups")

    def cost(self) -> CostModel:
        return CostModel(**self.spec.cost)

    def cost_defaults(self) -> list[str]:
        """The cost inputs this rollback uses that the scenario did not state (each then
        takes ``CostModel``'s default, which no public source backs)."""
        used = {"stop_app_s", "migration_fixed_s", "ddl_statement_s", "verify_s",
                "integrity_rows_per_s"}
        if self.db.dialect == "sqlite":
            used.add("drop_column_rows_per_s")
        if self.spec.backup:
            used |= {"backup_fixed_s", "backup_rows_per_s"}
        if self.spec.restore_from_backup:
            used |= {"restore_fixed_s", "restore_rows_per_s"}
        return [name for name in COST_FIELDS if name in used and name not in self.spec.cost]

    def migrations(self) -> list[Migration]:
        """The migration files, with ``broken_down_migration``'s down SQL failing at its
        end (bad input: a rollback that fails halfway through a migration)."""
        found = load_migrations()
        broken = self.spec.broken_down_migration
        return [replace(m, down={d: sql.rstrip().rstrip(";") + ";\nDROP TABLE drill_no_such_table"
                                 for d, sql in m.down.items()}) if m.version == broken else m
                for m in found]

    def verify(self) -> LedgerReport:
        """What the ledger finds missing or altered in the database now."""
        return self.ledger.verify(self.db)

    def close(self) -> None:
        self.ledger.close()
        self.db.close()
        remove_temp_dir(self.folder)
