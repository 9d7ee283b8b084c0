"""rollout.app.ledger: data loss is what users were told was saved and the database lacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rollout.app.db import Database, open_database
from rollout.app.ledger import Ledger, digest


def test_the_digest_ignores_key_order_and_tells_values_apart() -> None:
    assert digest({"a": 1, "b": None}) == digest({"b": None, "a": 1})
    assert digest({"a": 1}) != digest({"a": "1"})


def test_entries_keep_no_values_only_their_digest(tmp_path: Path) -> None:
    book = Ledger(tmp_path / "ledger.sqlite")
    book.record("c1", "create", {"id": "c1", "email": "ada@example.com"}, acked_at=3.0)
    assert b"ada@example.com" not in (tmp_path / "ledger.sqlite").read_bytes()
    assert [e.fields for e in book.entries()] == [("email", "id")]
    with pytest.raises(ValueError, match="op must be"):
        book.record("c1", "upsert", {}, acked_at=4.0)
    book.close()


def test_every_acknowledged_write_present_means_zero_data_loss(contacts_app: Any,
                                                               db: Database) -> None:
    contacts_app.create("c1", first_name="Ada")
    contacts_app.create("c2", first_name="Grace")
    contacts_app.edit("c1", email="ada@example.com")
    report = contacts_app.ledger.verify(db)
    assert (report.missing, report.altered, report.checked) == ([], [], 2)
    assert report.data_loss == 0


def test_a_lost_create_is_missing_and_a_lost_edit_is_altered(contacts_app: Any,
                                                             db: Database) -> None:
    contacts_app.create("c1", first_name="Ada")
    contacts_app.create("c2", first_name="Grace")
    contacts_app.edit("c1", email="ada@example.com")
    db.execute("DELETE FROM contacts WHERE id = 'c2'")
    db.execute("UPDATE contacts SET email = NULL, version = 1 WHERE id = 'c1'")
    report = contacts_app.ledger.verify(db)
    assert (report.missing, report.altered, report.data_loss) == (["c2"], ["c1"], 2)


def test_a_refused_write_is_not_in_the_ledger(contacts_app: Any, db: Database) -> None:
    contacts_app.stop()
    assert contacts_app.create("c1") is False
    assert len(contacts_app.ledger) == 0
    assert contacts_app.ledger.verify(db).checked == 0


def test_a_deleted_contact_that_comes_back_is_altered(ledger: Ledger, db: Database) -> None:
    db.execute("INSERT INTO contacts (id, created_at, updated_at) VALUES ('c1', 't', 't')")
    ledger.record("c1", "delete", {}, acked_at=1.0)
    assert ledger.verify(db).altered == ["c1"]


def test_a_field_whose_column_was_dropped_counts_as_altered(ledger: Ledger,
                                                            db: Database) -> None:
    db.execute("ALTER TABLE contacts ADD COLUMN pulse_owner_id TEXT")
    db.execute("INSERT INTO contacts (id, created_at, updated_at, pulse_owner_id) "
               "VALUES ('c1', 't', 't', 'u-7')")
    ledger.record("c1", "create", {"id": "c1", "created_at": "t", "updated_at": "t",
                                   "pulse_owner_id": "u-7"}, acked_at=1.0)
    assert ledger.verify(db).data_loss == 0
    db.execute("ALTER TABLE contacts DROP COLUMN pulse_owner_id")
    assert ledger.verify(db).altered == ["c1"]


def test_the_ledger_refuses_to_audit_its_own_file(tmp_path: Path) -> None:
    path = tmp_path / "same.sqlite"
    book = Ledger(path)
    with open_database(str(path)) as db, pytest.raises(ValueError, match="must not live"):
        book.verify(db)
    book.close()
