"""Fixtures for the database tests: one fresh database per test, in each dialect.

``dsn`` is parametrized over SQLite (a file in the test's tmp dir) and PostgreSQL (a
fresh database on a server this session starts with initdb/pg_ctl, see
``tests/rollout/conftest_pg.py``; those cases skip with the reason when it cannot run).
``contacts_app`` is the app under drill: it writes contacts and, once the database has
committed, records each acknowledged write in the ledger.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rollout.app.db import CONTACT_COLUMNS, Database, open_database
from rollout.app.ledger import Ledger


def _load_pg_server() -> Any:
    # Loaded by path: with --import-mode=importlib a test folder is not a package.
    spec = importlib.util.spec_from_file_location(
        "rollout_tests_conftest_pg", Path(__file__).with_name("conftest_pg.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


pg_server_module = _load_pg_server()
_database_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL server on 127.0.0.1 for this session, stopped at its end."""
    server, reason = pg_server_module.start()
    if server is None:
        pytest.skip(f"no PostgreSQL server for the tests: {reason}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def dsn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A DSN for an empty database of each dialect."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'contacts.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"drill_{next(_database_names)}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture
def db(dsn: str) -> Iterator[Database]:
    """The database behind ``dsn`` with the pre-Pulse contacts table."""
    database = open_database(dsn)
    database.create_contacts_table()
    yield database
    database.close()


class ContactsApp:
    """The Contacts app as the drill sees it: writes land, then are acknowledged.

    A write made while the app is stopped is refused and so never acknowledged.
    ``clock`` stands for the drill's virtual time; each write advances it by one second.
    """

    def __init__(self, db: Database, ledger: Ledger) -> None:
        self.db, self.ledger = db, ledger
        self.running = True
        self.clock = 0.0
        self.acked: list[str] = []

    def stop(self) -> None:
        self.running = False

    def start(self) -> None:
        self.running = True

    def create(self, contact_id: str, **fields: Any) -> bool:
        """Create a contact; True when the write was acknowledged."""
        values = {name: None for name in CONTACT_COLUMNS} | {
            "id": contact_id, "created_at": self._stamp(), "updated_at": self._stamp(),
            "version": 1} | fields
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        return self._write(contact_id, "create", values,
                           f"INSERT INTO contacts ({names}) VALUES ({marks})",
                           tuple(values.values()))

    def edit(self, contact_id: str, **changes: Any) -> bool:
        """Edit a contact's fields; True when the write was acknowledged."""
        row = self.db.query(f"SELECT {', '.join(CONTACT_COLUMNS)} FROM contacts WHERE id = ?",
                            (contact_id,))[0]
        current = dict(zip(CONTACT_COLUMNS, row, strict=True))
        values = current | changes | {"updated_at": self._stamp(),
                                      "version": current["version"] + 1}
        sets = ", ".join(f"{name} = ?" for name in values if name != "id")
        params = (*(v for k, v in values.items() if k != "id"), contact_id)
        return self._write(contact_id, "update", values,
                           f"UPDATE contacts SET {sets} WHERE id = ?", params)

    def _write(self, contact_id: str, op: str, values: dict[str, Any], sql: str,
               params: tuple[Any, ...]) -> bool:
        self.clock += 1.0
        if not self.running:
            return False
        self.db.execute(sql, params)
        self.ledger.record(contact_id, op, values, acked_at=self.clock)
        self.acked.append(contact_id)
        return True

    def _stamp(self) -> str:
        return f"2026-01-25T14:{int(self.clock) // 60 % 60:02d}:{int(self.clock) % 60:02d}Z"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A write ledger in its own SQLite file, apart from the app database."""
    book = Ledger(tmp_path / "ledger.sqlite")
    yield book
    book.close()


@pytest.fixture
def contacts_app(db: Database, ledger: Ledger) -> ContactsApp:
    return ContactsApp(db, ledger)
