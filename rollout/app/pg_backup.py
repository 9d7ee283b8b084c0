"""PostgreSQL backups of the Contacts database: ``pg_dump``/``psql``, or a COPY dump.

``pg_backup`` writes ``pg_dump``'s plain SQL when ``pg_dump`` is on PATH, else a
COPY-based dump made through psycopg (tables, sequences, constraints and indexes of the
current schema; no views, triggers, functions or grants). ``pg_restore`` drops every
table of the current schema and replays either kind in one transaction (a ``pg_dump``
file through ``psql``). The password goes to the tools through PGPASSWORD, never argv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from rollout.app.sql import BadInput, DatabaseError, identifier, split_sql


class Database(Protocol):
    """What a backup reads of ``rollout.app.db.Database`` (a PostgreSQL one)."""

    dsn: str

    @property
    def connection(self) -> Any: ...
    def execute(self, sql: str, params: Any = ()) -> int: ...
    def query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]: ...
    def transaction(self) -> AbstractContextManager[Any]: ...
    def columns(self, table: str) -> list[str]: ...
    def tables(self) -> list[str]: ...

COPY_DUMP_MARKER = "-- rollout-drill COPY dump"
_COPY_LINE = re.compile(r"^COPY .+ FROM stdin;$")


def pg_backup(db: Database, target: Path, method: str) -> str:
    """Write a backup of ``db`` to ``target`` by ``method`` (auto, pg_dump or copy); return
    the method used. Raises BadInput for an unknown method, DatabaseError when it fails."""
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
    with db.connection.cursor() as cursor, \
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


def pg_restore(db: Database, source: Path) -> None:
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
        with db.connection.cursor() as cursor, cursor.copy(line[:-1]) as copy:
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
