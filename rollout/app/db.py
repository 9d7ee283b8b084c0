"""The Contacts database, opened from a DSN: SQLite by default, PostgreSQL on request.

``open_database(dsn)`` takes a SQLite file path, ``sqlite:///path``, ``sqlite://:memory:``
or ``postgresql://…`` (psycopg 3) and returns a ``Database``: a thin layer over the
driver — ``execute``, ``query``, ``transaction``, ``columns``, ``tables``, ``backup``,
``restore``, ``close`` — with ``?`` placeholders in both dialects and no ORM.

Both dialects run DDL inside transactions, so a migration either lands whole or not at
all. SQLite's ``ALTER TABLE … DROP COLUMN`` (3.35+) rewrites every row of the table;
PostgreSQL's only marks the column dropped. A PostgreSQL backup is ``pg_dump``'s plain
SQL when ``pg_dump`` is on PATH, else a COPY-based dump made through psycopg (tables,
sequences, constraints and indexes of the current schema; no views, triggers, functions
or grants): ``rollout.app.pg_backup``. Errors are ``rollout.app.sql.DatabaseError`` with a
one-line message.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rollout.app.pg_backup import pg_backup, pg_restore
from rollout.app.sql import BadInput, DatabaseError, identifier

SQLITE, POSTGRESQL = "sqlite", "postgresql"

# The pre-Pulse Contacts schema: what the old version of the app reads and writes.
CONTACT_COLUMNS = ("id", "first_name", "last_name", "email", "phone", "company", "title",
                   "notes", "created_at", "updated_at", "version")
CONTACTS_DDL = """
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    phone TEXT,
    company TEXT,
    title TEXT,
    notes TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
)"""
_SQLITE_MAGIC = b"SQLite format 3\x00"

class Database:
    """One open connection, in autocommit mode outside ``transaction()`` blocks."""

    def __init__(self, conn: Any, dialect: str, dsn: str, path: Path | None = None) -> None:
        self._conn = conn
        self.dialect = dialect
        self.dsn = dsn
        self.path = path
        self._depth = 0

    # -- statements -------------------------------------------------------------------

    @property
    def connection(self) -> Any:
        """The driver's connection (sqlite3 or psycopg), for what the driver alone does."""
        return self._conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed (-1 when unknown)."""
        try:
            cursor = self._conn.execute(*self._prepare(sql, params))
        except Exception as exc:
            raise _as_error(exc) from exc
        return int(cursor.rowcount)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return all its rows as tuples."""
        try:
            cursor = self._conn.execute(*self._prepare(sql, params))
            return [tuple(row) for row in cursor.fetchall()]
        except Exception as exc:
            raise _as_error(exc) from exc

    def _prepare(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...]:
        if self.dialect == SQLITE:
            return (sql, tuple(params))
        if not params:
            return (sql,)
        # psycopg uses %s; a literal % must be doubled once placeholders are in play.
        return (sql.replace("%", "%%").replace("?", "%s"), tuple(params))

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """All statements inside commit together or not at all (DDL included)."""
        if self.dialect == POSTGRESQL:
            with self._conn.transaction():
                yield self
            return
        savepoint = f"sp{self._depth}"
        self._conn.execute("BEGIN" if self._depth == 0 else f"SAVEPOINT {savepoint}")
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._conn.execute("ROLLBACK")
            else:
                self._conn.execute(f"ROLLBACK TO {savepoint}")
                self._conn.execute(f"RELEASE {savepoint}")
            raise
        self._depth -= 1
        self._conn.execute("COMMIT" if self._depth == 0 else f"RELEASE {savepoint}")

    # -- schema -----------------------------------------------------------------------

    def columns(self, table: str) -> list[str]:
        """The column names of ``table`` in order; empty when there is no such table."""
        if self.dialect == SQLITE:
            return [row[1] for row in self.query(f"PRAGMA table_info({identifier(table)})")]
        return [row[0] for row in self.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? "
            "ORDER BY ordinal_position", (table,))]

    def tables(self) -> list[str]:
        """The names of the user tables, sorted."""
        if self.dialect == SQLITE:
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' "
                              "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        else:
            rows = self.query("SELECT table_name FROM information_schema.tables "
                              "WHERE table_schema = current_schema() "
                              "AND table_type = 'BASE TABLE' ORDER BY table_name")
        return [row[0] for row in rows]

    def count(self, table: str) -> int:
        """How many rows ``table`` holds."""
        return int(self.query(f"SELECT count(*) FROM {identifier(table)}")[0][0])

    def create_contacts_table(self) -> None:
        """Create the pre-Pulse ``contacts`` table if it is missing."""
        self.execute(CONTACTS_DDL)

    # -- backup and restore -----------------------------------------------------------

    def backup(self, path: str | Path, method: str = "auto") -> str:
        """Write a full backup to ``path``; return how it was made.

        SQLite: the online backup API, page by page ("sqlite-backup-api"). PostgreSQL:
        ``pg_dump`` when on PATH, else a COPY-based dump through psycopg (``method``
        "pg_dump" | "copy" | "auto"; see ``rollout.app.pg_backup``).
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.dialect == POSTGRESQL:
            return pg_backup(self, target, method)
        try:
            dest = sqlite3.connect(target)
            try:
                self._conn.backup(dest)
            finally:
                dest.close()
        except sqlite3.Error as exc:
            raise DatabaseError(f"backup to {target} failed: {exc}") from exc
        return "sqlite-backup-api"

    def restore(self, path: str | Path) -> None:
        """Replace the whole database with the backup at ``path``.

        Raises DatabaseError when the file is missing or is not a backup of this dialect.
        """
        source = Path(path)
        if not source.is_file():
            raise BadInput(f"no backup file at {source}")
        if self.dialect == POSTGRESQL:
            pg_restore(self, source)
            return
        with source.open("rb") as handle:
            if handle.read(16) != _SQLITE_MAGIC:
                raise BadInput(f"{source} is not a SQLite database file")
        try:
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            try:
                src.backup(self._conn)
            finally:
                src.close()
        except sqlite3.Error as exc:
            raise DatabaseError(f"restore from {source} failed: {exc}") from exc

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_database(dsn: str, *, create: bool = True) -> Database:
    """Open ``dsn``: a SQLite path or ``sqlite:///path``, or ``postgresql://…``.

    With ``create=False`` a missing SQLite file is an error rather than a new empty
    database (a mistyped path must not look like a clean schema). Raises BadInput for
    DSNs this tool cannot open and DatabaseError when the server refuses.
    """
    dsn = dsn.strip()
    if not dsn:
        raise BadInput("empty DSN")
    scheme = dsn.split("://", 1)[0].lower() if "://" in dsn else ""
    if scheme in ("postgresql", "postgres"):
        return _open_postgresql(dsn)
    if scheme not in ("", "sqlite", "file"):
        raise BadInput(f"unsupported DSN scheme {scheme!r}: use a SQLite file path, "
                     "sqlite:///path or postgresql://user@host:port/dbname")
    return _open_sqlite(dsn, _sqlite_path(dsn, scheme), create)


def _sqlite_path(dsn: str, scheme: str) -> str:
    if not scheme:
        return dsn
    rest = dsn.split("://", 1)[1]
    if rest in (":memory:", "/:memory:"):
        return ":memory:"
    # sqlite:///relative.db and sqlite:////abs/path.db, as SQLAlchemy spells them.
    if not rest.startswith("/"):
        raise BadInput(f"bad SQLite DSN {dsn!r}: write sqlite:///relative/path or "
                     "sqlite:////absolute/path")
    return rest[1:]


def _open_sqlite(dsn: str, path: str, create: bool) -> Database:
    if path != ":memory:":
        file = Path(path)
        if file.is_dir():
            raise BadInput(f"{path} is a directory, not a SQLite database file")
        if not create and not file.exists():
            raise BadInput(f"no SQLite database at {path}")
        if not file.parent.is_dir():
            raise BadInput(f"cannot create {path}: no directory {file.parent}")
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BadInput(f"cannot open {path} as SQLite: {exc}") from exc
    return Database(conn, SQLITE, dsn, None if path == ":memory:" else Path(path))


def _open_postgresql(dsn: str) -> Database:
    try:
        import psycopg
    except ImportError as exc:
        raise BadInput("PostgreSQL DSNs need psycopg 3: pip install 'psycopg[binary]'") from exc
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.ProgrammingError as exc:
        raise BadInput(f"bad PostgreSQL DSN: {_first_line(exc)}") from exc
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {_first_line(exc)}") from exc
    return Database(conn, POSTGRESQL, dsn)

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _as_error(exc: Exception) -> Exception:
    if isinstance(exc, DatabaseError):
        return exc
    if isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg"):
        return DatabaseError(_first_line(exc))
    return exc
