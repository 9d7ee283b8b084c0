"""rollout.app.migrate on real databases: each rule holds on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rollout.app.db import CONTACT_COLUMNS, Database
from rollout.app.migrate import (
    MigrateError,
    MigrationFailed,
    applied_versions,
    leftovers,
    migrate_up,
    rollback,
)
from rollout.app.migrations import HERE, load_migrations

PULSE_COLUMNS = ["pulse_id", "pulse_synced_at", "pulse_sync_status", "pulse_last_error",
                 "pulse_owner_id", "pulse_custom_fields"]


def schema(db: Database) -> dict[str, list[str]]:
    return {table: db.columns(table) for table in db.tables()}


def seed(db: Database, n: int = 3) -> None:
    for i in range(n):
        db.execute("INSERT INTO contacts (id, first_name, email, created_at, updated_at) "
                   "VALUES (?, ?, ?, ?, ?)", (f"c{i}", f"Ada{i}", f"a{i}@x.io", "t0", "t0"))


def inject(tmp_path: Path, version: str, direction: str, bad: str) -> Path:
    """A copy of the migrations whose ``version`` ``direction`` SQL has ``bad`` as its
    second statement (after one that succeeds), in both dialects."""
    folder = tmp_path / "migrations"
    shutil.copytree(HERE, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for path in folder.glob(f"{version}_*.{direction}.*.sql"):
        first, rest = path.read_text().split(";", 1)
        path.write_text(f"{first};\n{bad};\n{rest}")
    return folder


def test_up_applies_001_to_003_and_adds_every_pulse_column(db: Database) -> None:
    applied = migrate_up(db)
    assert [m.version for m in applied] == ["001", "002", "003"]
    assert applied_versions(db) == ["001", "002", "003"]
    assert db.columns("contacts") == [*CONTACT_COLUMNS, *PULSE_COLUMNS]
    assert "pulse_sync_log" in db.tables()
    assert migrate_up(db) == [], "a second --up has nothing to apply"


def test_up_then_rollback_leaves_the_original_schema_and_rows(db: Database) -> None:
    seed(db)
    before = schema(db) | {"schema_migrations": ["version", "name", "applied_at"]}
    rows = db.query("SELECT * FROM contacts ORDER BY id")
    migrate_up(db)
    undone = rollback(db)
    assert [m.version for m in undone] == ["003", "002", "001"]
    assert schema(db) == before
    assert db.query("SELECT * FROM contacts ORDER BY id") == rows
    assert applied_versions(db) == []


def test_rollback_002_undoes_003_then_002_and_keeps_001(db: Database) -> None:
    migrate_up(db)
    heard: list[str] = []
    rollback(db, "002", report=lambda m: heard.append(m.version))
    assert heard == ["003", "002"]
    assert applied_versions(db) == ["001"]
    assert db.columns("contacts") == [*CONTACT_COLUMNS, "pulse_id", "pulse_synced_at"]
    assert "pulse_sync_log" not in db.tables()


def test_leftovers_name_pulse_columns_and_tables_until_all_are_rolled_back(
        db: Database) -> None:
    migrate_up(db)
    assert leftovers(db) == [f"contacts.{c}" for c in PULSE_COLUMNS] + ["pulse_sync_log"]
    rollback(db, "002")
    assert leftovers(db) == ["contacts.pulse_id", "contacts.pulse_synced_at"]
    rollback(db)
    assert leftovers(db) == []


def test_a_migration_failing_halfway_leaves_the_schema_as_before_it_and_names_it(
        db: Database, tmp_path: Path) -> None:
    migrations = load_migrations(inject(tmp_path, "002", "up",
                                        "ALTER TABLE no_such_table ADD COLUMN x TEXT"))
    migrate_up(db, migrations[:1])
    before = schema(db)
    with pytest.raises(MigrationFailed) as failure:
        migrate_up(db, migrations)
    assert failure.value.migration.version == "002"
    assert "no_such_table" in failure.value.statement
    assert "002_pulse_sync_status (up) failed at statement 2 of 4" in str(failure.value)
    assert schema(db) == before, "the first statement of 002 was undone with the rest"
    assert applied_versions(db) == ["001"]


def test_a_down_migration_failing_halfway_keeps_that_migration_whole(
        db: Database, tmp_path: Path) -> None:
    migrations = load_migrations(inject(tmp_path, "002", "down", "DROP TABLE no_such_table"))
    migrate_up(db, migrations)
    with pytest.raises(MigrationFailed, match="002_pulse_sync_status \\(down\\)"):
        rollback(db, None, migrations)
    assert applied_versions(db) == ["001", "002"], "003 was undone, 002 was not"
    assert "pulse_sync_status" in db.columns("contacts")
    assert "idx_contacts_pulse_sync_status" in _indexes(db), "the dropped index came back"


def test_rollback_refuses_unknown_versions_and_applied_versions_without_files(
        db: Database) -> None:
    migrate_up(db)
    with pytest.raises(MigrateError, match="no migration 7"):
        rollback(db, "7")
    db.execute("INSERT INTO schema_migrations VALUES ('004', 'future', 'now')")
    with pytest.raises(MigrateError, match="004"):
        rollback(db)
    assert applied_versions(db) == ["001", "002", "003", "004"], "nothing was undone"


def _indexes(db: Database) -> set[str]:
    if db.dialect == "sqlite":
        return {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return {r[0] for r in db.query("SELECT indexname FROM pg_indexes "
                                   "WHERE schemaname = current_schema()")}
