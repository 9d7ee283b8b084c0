"""The runbook's ``./migrate.sh``: apply, roll back, verify, back up and restore.

Library: ``migrate_up``, ``rollback``, ``leftovers``, ``backup``, ``applied_versions``
over a ``rollout.app.db.Database``. Each migration runs in one transaction together with its
``schema_migrations`` row, so a migration that fails halfway leaves the database as it
was before that migration and raises ``MigrationFailed`` naming the migration and the
statement. CLI: ``python -m rollout.app.migrate --help`` (exit 0 done, 1 the operation
failed or verification found Pulse leftovers, 2 bad input: DSN, arguments, backup file).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from rollout.app.db import Database, open_database
from rollout.app.migrations import Migration, MigrationFilesError, load_migrations
from rollout.app.sql import DatabaseError

PULSE_PREFIX = "pulse_"
MIGRATIONS_DDL = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""
BACKUP_SUFFIX = {"sqlite": ".sqlite", "postgresql": ".sql"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

Clock = Callable[[], datetime]
Report = Callable[[Migration], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _quiet(migration: Migration) -> None:
    """The default ``report``: say nothing."""


class MigrateError(Exception):
    """Bad input to the migrate tool (exit code 2)."""

    exit_code = 2


class MigrationFailed(Exception):
    """A statement of a migration failed; the migration was undone as a whole (exit 1)."""

    exit_code = 1

    def __init__(self, migration: Migration, direction: str, index: int, total: int,
                 statement: str, cause: str) -> None:
        first = " ".join(statement.split())
        super().__init__(f"migration {migration.label} ({direction}) failed at statement "
                         f"{index} of {total}: {first}: {cause}; the database is as it was "
                         f"before {migration.version}")
        self.migration = migration
        self.direction = direction
        self.statement = statement
        self.cause = cause


# -- the engine -----------------------------------------------------------------------

def applied_versions(db: Database) -> list[str]:
    """The versions recorded in ``schema_migrations``, oldest first (creates the table)."""
    db.execute(MIGRATIONS_DDL)
    return [row[0] for row in db.query("SELECT version FROM schema_migrations "
                                       "ORDER BY version")]


def apply(db: Database, migration: Migration, direction: str, now: Clock = _utcnow) -> None:
    """Run ``migration`` ``direction`` ("up" | "down") and record it, in one transaction."""
    statements = migration.statements(direction, db.dialect)
    with db.transaction():
        for index, statement in enumerate(statements, 1):
            try:
                db.execute(statement)
            except DatabaseError as exc:
                raise MigrationFailed(migration, direction, index, len(statements),
                                      statement, str(exc)) from exc
        if direction == "up":
            db.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                       "VALUES (?, ?, ?)", (migration.version, migration.name,
                                            now().isoformat(timespec="seconds")))
        else:
            db.execute("DELETE FROM schema_migrations WHERE version = ?", (migration.version,))


def migrate_up(db: Database, migrations: Sequence[Migration] | None = None,
               now: Clock = _utcnow, report: Report = _quiet) -> list[Migration]:
    """Apply every pending migration in version order; return those applied.

    ``report`` hears of each one as it lands. Raises MigrationFailed (earlier ones stay).
    """
    migrations = list(migrations if migrations is not None else load_migrations())
    done = set(applied_versions(db))
    pending = [m for m in migrations if m.version not in done]
    for migration in pending:
        apply(db, migration, "up", now)
        report(migration)
    return pending


def rollback(db: Database, version: str | None = None,
             migrations: Sequence[Migration] | None = None,
             report: Report = _quiet) -> list[Migration]:
    """Undo ``version`` and every later applied migration, newest first (all when None).

    Raises MigrateError for an unknown version or an applied version with no migration
    file (its down SQL is unknown), MigrationFailed when a down statement fails.
    """
    known = {m.version: m for m in (migrations if migrations is not None
                                    else load_migrations())}
    floor = "000" if version is None else normalize_version(version)
    if version is not None and floor not in known:
        raise MigrateError(f"no migration {version}: known are {', '.join(sorted(known))}")
    targets = [v for v in reversed(applied_versions(db)) if v >= floor]
    unknown = [v for v in targets if v not in known]
    if unknown:
        raise MigrateError(f"applied migration(s) {', '.join(unknown)} have no migration "
                           "file: cannot roll them back")
    undone = []
    for target in targets:
        apply(db, known[target], "down")
        undone.append(known[target])
        report(known[target])
    return undone


def normalize_version(version: str) -> str:
    """``"2"``, ``"02"``, ``"002"`` and ``"002_pulse_sync_status"`` all mean ``"002"``."""
    head = version.split("_", 1)[0]
    if not head.isdigit():
        raise MigrateError(f"not a migration version: {version!r} (expected e.g. 002)")
    return head.zfill(3)


def leftovers(db: Database) -> list[str]:
    """What the Pulse migrations left: ``contacts.pulse_*`` columns and ``pulse_*`` tables.

    Raises MigrateError when there is no ``contacts`` table (a wrong database).
    """
    columns = db.columns("contacts")
    if not columns:
        raise MigrateError("no contacts table in this database")
    return ([f"contacts.{c}" for c in columns if c.startswith(PULSE_PREFIX)]
            + [t for t in db.tables() if t.startswith(PULSE_PREFIX)])


def backup(db: Database, directory: str | Path = "backups", name: str | None = None,
           now: Clock = _utcnow, method: str = "auto") -> tuple[Path, str]:
    """Write ``<directory>/<dialect>-<name or UTC timestamp><suffix>``; return (path, how).

    Never overwrites: a given name that exists is an error, a timestamp gets ``-N``.
    """
    if name is not None and not _NAME.match(name):
        raise MigrateError(f"bad backup name {name!r}: letters, digits, '.', '_' and '-'")
    stem = f"{db.dialect}-{name or now().strftime('%Y%m%dT%H%M%SZ')}"
    suffix = BACKUP_SUFFIX[db.dialect]
    path = Path(directory) / f"{stem}{suffix}"
    if path.exists() and name is not None:
        raise MigrateError(f"{path} already exists")
    serial = 1
    while path.exists():
        path, serial = Path(directory) / f"{stem}-{serial}{suffix}", serial + 1
    how = db.backup(path, method)
    return path, how


# -- the command line -----------------------------------------------------------------

EPILOG = """\
--rollback without a version undoes every applied Pulse migration, newest first
(003, 002, 001). --rollback N undoes N *and every later applied migration* first, in
reverse order: --rollback 002 undoes 003 then 002 and keeps 001.

--backup writes backups/<dialect>-<timestamp or NAME>.sqlite|.sql under --backups-dir
and prints its path. SQLite: the online backup API. PostgreSQL: pg_dump when it is on
PATH, else a COPY-based dump through psycopg (tables, sequences, constraints, indexes).

Exit codes: 0 done; 1 a migration failed (undone as a whole) or --verify found pulse_
leftovers; 2 bad input (DSN, arguments, missing backup file)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migrate.sh", description="Apply, roll back and verify the Pulse migrations; "
        "back up and restore the Contacts database.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL"),
                        help="SQLite path, sqlite:///path or postgresql://… "
                             "(default: $DATABASE_URL)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--status", action="store_true", help="list applied and pending "
                        "migrations (the default)")
    action.add_argument("--up", action="store_true", help="apply pending migrations")
    action.add_argument("--rollback", nargs="?", const="all", metavar="N",
                        help="roll back all Pulse migrations, or N and every later one")
    action.add_argument("--verify", action="store_true",
                        help="exit 1 unless no pulse_ column or table is left")
    action.add_argument("--backup", nargs="?", const="", metavar="NAME",
                        help="write a backup and print its path")
    action.add_argument("--restore", metavar="PATH", help="replace the database with a backup")
    parser.add_argument("--backups-dir", default="backups", help="where --backup writes "
                        "(default: ./backups)")
    parser.add_argument("--migrations", metavar="DIR", help="migration folder (default: "
                        "the rollout.app.migrations package)")
    parser.add_argument("--init", action="store_true", help="create the database and the "
                        "pre-Pulse contacts table if missing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool; print results to stdout, one-line errors to stderr; return the code."""
    args = build_parser().parse_args(argv)
    try:
        if not args.dsn:
            raise MigrateError("no database: pass --dsn or set DATABASE_URL")
        with open_database(args.dsn, create=args.init) as db:
            if args.init:
                db.create_contacts_table()
            return _run(db, args)
    except (MigrateError, MigrationFailed, DatabaseError, MigrationFilesError) as exc:
        print(f"migrate: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 1))


def _run(db: Database, args: argparse.Namespace) -> int:
    if args.up:
        migrate_up(db, load_migrations(args.migrations),
                   report=lambda m: print(f"applied {m.label}", flush=True))
        print(f"up to date: {_list(applied_versions(db))}")
        return 0
    if args.rollback is not None:
        version = None if args.rollback == "all" else args.rollback
        undone = rollback(db, version, load_migrations(args.migrations),
                          report=lambda m: print(f"rolled back {m.label}", flush=True))
        print(f"applied: {_list(applied_versions(db))}" if undone else "nothing to roll back")
        return 0
    if args.verify:
        return _verify(db)
    if args.backup is not None:
        path, how = backup(db, args.backups_dir, args.backup or None)
        print(f"backup written ({how}): {path}")
        return 0
    if args.restore:
        db.restore(args.restore)
        print(f"restored {args.restore}; applied: {_list(applied_versions(db))}")
        return 0
    return _status(db, load_migrations(args.migrations))


def _verify(db: Database) -> int:
    left = leftovers(db)
    print(f"contacts: {', '.join(db.columns('contacts'))}")
    if left:
        print(f"FAILED: Pulse leftovers: {', '.join(left)}")
        return 1
    print("ok: no pulse_ column or table left")
    return 0


def _status(db: Database, migrations: list[Migration]) -> int:
    done = set(applied_versions(db))
    for migration in migrations:
        print(f"{'applied' if migration.version in done else 'pending'}  {migration.label}")
    return 0


def _list(versions: list[str]) -> str:
    return ", ".join(versions) or "none"


if __name__ == "__main__":
    sys.exit(main())
