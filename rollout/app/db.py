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
or grants). Errors are ``DatabaseError`` with a one-line message.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SQLITE_MAGIC = b"SQLite format 3\x00"


class DatabaseError(Exception):
    """The database could not be opened or refused a statement; ``exit_code`` for CLIs."""

    exit_code = 1


class BadInput(DatabaseError):
    """Bad input (exit code 2): a DSN this tool cannot open, a missing or foreign backup."""

    exit_code = 2


class Database:
    """One open connection, in autocommit mode outside ``transaction()`` blocks."""

    def __init__(self, conn: Any, dialect: str, dsn: str, path: Path | None = None) -> None:
        self._conn = conn
        self.dialect = dialect
        self.dsn = dsn
        self.path = path
        self._depth = 0

    # -- statements -------------------------------------------------------------------

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
        "pg_dump" | "copy" | "auto"; see ``rollout.pg_backup``).
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.dialect == POSTGRESQL:
            return _pg_backup(self, target, method)
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
            _pg_restore(self, source)
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


def identifier(name: str) -> str:
    """``name`` if it is a plain SQL identifier; raises DatabaseError otherwise."""
    if not _IDENTIFIER.match(name):
        raise DatabaseError(f"not a plain SQL identifier: {name!r}")
    return name


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _as_error(exc: Exception) -> Exception:
    if isinstance(exc, DatabaseError):
        return exc
    if isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg"):
        return DatabaseError(_first_line(exc))
    return exc


def split_sql(script: str) -> list[str]:
    """Split a SQL script into statements on ``;``, minding quotes and ``--`` comments."""
    statements, current, quote, i = [], [], "", 0
    while i < len(script):
        char = script[i]
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current.append(char)
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = len(script) if end < 0 else end
            continue
        elif char == ";":
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        i += 1
    statements.append("".join(current).strip())
    return [s for s in statements if s]


# -- PostgreSQL backups ---------------------------------------------------------------

COPY_DUMP_MARKER = "-- rollout-drill COPY dump"
_COPY_LINE = re.compile(r"^COPY .+ FROM stdin;$")


def _pg_backup(db: Database, target: Path, method: str) -> str:
    if method not in ("auto", "pg_dump", "copy"):
        raise BadInput(f"unknown backup method {method!r}: auto, pg_dump or copy")
    tool = shutil.which("pg_dump")
    if method == "pg_dump" and tool is None:
        raise DatabaseError("pg_dump is not on PATH")
    if method == "copy" or tool is None:
        target.write_bytes(b"".join(_copy_dump(db)))
        return "copy"
    _run_tool([tool, "--no-owner", "--no-privileges", "--clean", "--if-exists",
               "--file", str(target)], "pg_dump", db.dsn)
    return "pg_dump"


def _copy_dump(db: Database) -> Iterator[bytes]:
    """A psql-compatible script: schema from the catalog, rows through COPY TO STDOUT."""
    tables = db.tables()
    yield f"{COPY_DUMP_MARKER} (pg_dump was not used); restore with psql -1 -f\n".encode()
    for sequence in _pg_sequences(db):
        yield f"CREATE SEQUENCE {sequence};\n".encode()
    for table in tables:
        yield (_pg_create_table(db, table) + ";\n").encode()
    for table in tables:
        yield from _copy_rows(db, table)
    yield from (f"{line};\n".encode() for line in _pg_after_data(db, tables))


def _pg_sequences(db: Database) -> list[str]:
    return [row[0] for row in db.query(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'S' AND n.nspname = current_schema() ORDER BY c.relname")]


def _pg_create_table(db: Database, table: str) -> str:
    rows = db.query(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "pg_get_expr(d.adbin, d.adrelid), a.attidentity FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum", (table,))
    if any(row[4] for row in rows):
        raise DatabaseError(f"{table} has an identity column: the COPY dump cannot "
                            "recreate it; put pg_dump on PATH")
    columns = [f"{name} {kind}" + (" NOT NULL" if not_null else "")
               + (f" DEFAULT {default}" if default else "")
               for name, kind, not_null, default, _ in rows]
    checks = db.query("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                      "WHERE conrelid = ?::regclass AND contype IN ('p', 'u', 'c') "
                      "ORDER BY conname", (table,))
    columns += [f"CONSTRAINT {name} {definition}" for name, definition in checks]
    return f"CREATE TABLE {table} (\n    " + ",\n    ".join(columns) + "\n)"


def _copy_rows(db: Database, table: str) -> Iterator[bytes]:
    names = ", ".join(db.columns(table))
    yield f"COPY {table} ({names}) FROM stdin;\n".encode()
    with db._conn.cursor() as cursor, \
            cursor.copy(f"COPY {identifier(table)} ({names}) TO STDOUT") as copy:
        for data in copy:
            yield bytes(data)
    yield b"\\.\n"


def _pg_after_data(db: Database, tables: list[str]) -> Iterator[str]:
    for sequence in _pg_sequences(db):
        last, called = db.query(f"SELECT last_value, is_called FROM {identifier(sequence)}")[0]
        yield f"SELECT pg_catalog.setval('{sequence}', {int(last)}, {str(called).lower()})"
        owner = db.query("SELECT d.refobjid::regclass::text, a.attname FROM pg_depend d "
                         "JOIN pg_attribute a ON a.attrelid = d.refobjid "
                         "AND a.attnum = d.refobjsubid WHERE d.objid = ?::regclass "
                         "AND d.deptype = 'a'", (sequence,))
        if owner:
            yield f"ALTER SEQUENCE {sequence} OWNED BY {owner[0][0]}.{owner[0][1]}"
    for table in tables:
        for (definition,) in db.query(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = "
                "?::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conindid = i.indexrelid) ORDER BY 1", (table,)):
            yield definition
    for table in tables:
        for name, definition in db.query(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = ?::regclass AND contype = 'f' ORDER BY conname", (table,)):
            yield f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"


def _pg_restore(db: Database, source: Path) -> None:
    """Drop every table of the current schema, then replay the backup, in one transaction."""
    with source.open("rb") as handle:
        head = handle.read(len(COPY_DUMP_MARKER)).decode("utf-8", "replace")
    drops = [f"DROP TABLE IF EXISTS {table} CASCADE" for table in db.tables()]
    if head == COPY_DUMP_MARKER:
        with db.transaction():
            for statement in drops:
                db.execute(statement)
            _replay_copy_dump(db, source)
        return
    if not head.startswith("--"):
        raise BadInput(f"{source} is not a PostgreSQL dump (pg_dump plain format or COPY dump)")
    tool = shutil.which("psql")
    if tool is None:
        raise DatabaseError("restoring a pg_dump file needs psql on PATH")
    schema = db.query("SELECT current_schema()")[0][0]
    script = "".join(f"{drop.replace('EXISTS ', f'EXISTS {schema}.')};\n" for drop in drops)
    _run_tool([tool, "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"],
              "psql", db.dsn, stdin=script.encode() + source.read_bytes())


def _replay_copy_dump(db: Database, source: Path) -> None:
    pending: list[str] = []
    lines = iter(source.read_bytes().split(b"\n"))
    for raw in lines:
        line = raw.decode("utf-8")
        if not _COPY_LINE.match(line):
            pending.append(line)
            continue
        for statement in split_sql("\n".join(pending)):
            db.execute(statement)
        pending = []
        data = _copy_block(lines, source)
        with db._conn.cursor() as cursor, cursor.copy(line[:-1]) as copy:
            copy.write(data)
    for statement in split_sql("\n".join(pending)):
        db.execute(statement)


def _copy_block(lines: Iterator[bytes], source: Path) -> bytes:
    rows: list[bytes] = []
    for row in lines:
        if row == b"\\.":
            return b"".join(rows)
        rows.append(row + b"\n")
    raise DatabaseError(f"{source} is truncated: a COPY block has no end marker")


def _run_tool(argv: list[str], name: str, dsn: str, stdin: bytes | None = None) -> None:
    """Run pg_dump/psql on ``dsn``; the password goes through PGPASSWORD, not argv."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(dsn)
    password = params.pop("password", None)
    env = dict(os.environ) | ({"PGPASSWORD": str(password)} if password else {})
    try:
        done = subprocess.run([*argv, "--dbname", make_conninfo("", **params)], input=stdin,
                              env=env, capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatabaseError(f"{name} failed: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DatabaseError(f"{name} failed (exit {done.returncode}): "
                            + (message[0] if message else "no message"))
