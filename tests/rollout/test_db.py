"""rollout.app.db: DSNs, the thin statement layer, and backup/restore round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rollout.app.db import Database, open_database
from rollout.app.migrate import applied_versions, migrate_up, rollback
from rollout.app.sql import BadInput, DatabaseError


def fill(db: Database) -> None:
    """Rows in every table, with quotes, tabs, newlines, unicode, NULLs and JSON."""
    migrate_up(db)
    db.execute("INSERT INTO contacts (id, first_name, notes, created_at, updated_at, "
               "pulse_id, pulse_custom_fields) VALUES (?, ?, ?, ?, ?, ?, ?)",
               ("c1", "Zoë", "line one\nit's\ttabbed \\ back", "t0", "t1", "p-1",
                '{"tier": "gold"}'))
    db.execute("INSERT INTO contacts (id, created_at, updated_at) VALUES ('c2', 't0', 't0')")
    for status in ("ok", "failed"):
        db.execute("INSERT INTO pulse_sync_log (contact_id, direction, status, created_at) "
                   "VALUES ('c1', 'push', ?, '2026-01-25T14:30:00+00:00')", (status,))


def snapshot(db: Database) -> dict[str, Any]:
    return {table: (db.columns(table), sorted(db.query(f"SELECT * FROM {table}"), key=repr))
            for table in db.tables()}


def test_a_sqlite_dsn_is_a_path_or_a_sqlite_url(tmp_path: Path) -> None:
    for dsn in (str(tmp_path / "a.db"), f"sqlite:///{tmp_path / 'b.db'}", "sqlite://:memory:"):
        with open_database(dsn) as db:
            assert db.dialect == "sqlite"
    assert (tmp_path / "a.db").exists() and (tmp_path / "b.db").exists()


@pytest.mark.parametrize(("dsn", "message"), [
    ("mysql://root@localhost/crm", "unsupported DSN scheme 'mysql'"),
    ("   ", "empty DSN"),
    ("sqlite://relative.db", "bad SQLite DSN"),
    ("{tmp}", "is a directory"),
    ("{tmp}/missing/contacts.db", "no directory"),
    ("{tmp}/garbage.db", "cannot open"),
])
def test_bad_dsns_raise_bad_input_with_one_clear_line(tmp_path: Path, dsn: str,
                                                     message: str) -> None:
    (tmp_path / "garbage.db").write_bytes(b"not a database at all, just text" * 100)
    with pytest.raises(BadInput, match=message) as error:
        open_database(dsn.format(tmp=tmp_path))
    assert error.value.exit_code == 2 and "\n" not in str(error.value)


def test_a_missing_sqlite_file_is_an_error_when_creation_is_off(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no SQLite database at"):
        open_database(str(tmp_path / "typo.db"), create=False)
    assert not (tmp_path / "typo.db").exists()


def test_an_unreachable_postgresql_server_is_a_database_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(DatabaseError, match="cannot connect to PostgreSQL"):
        open_database("postgresql://nobody@127.0.0.1:1/crm")


def test_question_mark_placeholders_and_percent_literals_work_in_both_dialects(
        db: Database) -> None:
    db.execute("INSERT INTO contacts (id, notes, created_at, updated_at) VALUES (?, ?, ?, ?)",
               ("c1", "100% sure", "t", "t"))
    assert db.query("SELECT id FROM contacts WHERE notes LIKE '100%' AND id = ?",
                    ("c1",)) == [("c1",)]
    assert db.count("contacts") == 1


def test_a_failed_transaction_undoes_its_ddl_and_rows(db: Database) -> None:
    with pytest.raises(DatabaseError), db.transaction():
        db.execute("ALTER TABLE contacts ADD COLUMN doomed TEXT")
        db.execute("INSERT INTO contacts (id, created_at, updated_at) VALUES ('x', 't', 't')")
        db.execute("SELECT * FROM no_such_table")
    assert "doomed" not in db.columns("contacts")
    assert db.count("contacts") == 0


def test_backup_then_restore_gives_back_every_row_and_the_schema(db: Database,
                                                                 tmp_path: Path) -> None:
    fill(db)
    before = snapshot(db)
    how = db.backup(tmp_path / "backup")
    rollback(db)
    db.execute("INSERT INTO contacts (id, created_at, updated_at) VALUES ('late', 't', 't')")
    db.restore(tmp_path / "backup")
    assert snapshot(db) == before
    assert applied_versions(db) == ["001", "002", "003"]
    assert how == ("sqlite-backup-api" if db.dialect == "sqlite" else "pg_dump")


def test_a_sqlite_backup_of_a_restored_database_is_byte_identical(tmp_path: Path) -> None:
    with open_database(str(tmp_path / "a.db")) as db:
        db.create_contacts_table()
        fill(db)
        db.backup(tmp_path / "first.sqlite")
    with open_database(str(tmp_path / "b.db")) as other:
        other.restore(tmp_path / "first.sqlite")
        other.backup(tmp_path / "second.sqlite")
    assert (tmp_path / "first.sqlite").read_bytes() == (tmp_path / "second.sqlite").read_bytes()


def test_the_copy_dump_restores_like_pg_dump_and_keeps_sequences(pg_server: Any,
                                                                  tmp_path: Path) -> None:
    dsn = pg_server.create_database("copy_dump")
    try:
        with open_database(dsn) as db:
            db.create_contacts_table()
            fill(db)
            before = snapshot(db)
            assert db.backup(tmp_path / "dump.sql", method="copy") == "copy"
            rollback(db)
            db.restore(tmp_path / "dump.sql")
            assert snapshot(db) == before
            db.execute("INSERT INTO pulse_sync_log (contact_id, direction, status) "
                       "VALUES ('c1', 'pull', 'ok')")
            assert db.query("SELECT max(id) FROM pulse_sync_log") == [(3,)]
            assert "idx_contacts_pulse_id" in str(db.query("SELECT indexname FROM pg_indexes"))
    finally:
        pg_server.drop_database("copy_dump")


def test_restore_refuses_a_missing_file_or_one_of_another_kind(db: Database,
                                                               tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no backup file at"):
        db.restore(tmp_path / "nope")
    (tmp_path / "junk").write_text("hello")
    with pytest.raises(BadInput, match="not a"):
        db.restore(tmp_path / "junk")
