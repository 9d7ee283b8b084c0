"""The runbook's "Database Rollback" as a procedure (``rollout.steps`` vocabulary).

Stop the application, create an emergency backup, roll back migrations 003, 002, 001,
verify that no Pulse column is left and the table matches its pre-migration shape,
restart the old version, test data integrity against the write ledger. Every database
action is real (``rollout.app.db``, ``rollout.app.migrate``); the application is reached only
through the ``stop_app`` / ``start_app`` callables the caller passes.

Durations never come from the wall clock: each ``Wait`` is priced by a ``CostModel``
from the table sizes the scenario declares, so a drill is deterministic. A ``Manual``
step is a person typing the runbook's command; the runner decides how long that takes.
A step's effect lands where a person would see it: the app stops accepting writes when
the stop *completes*, a backup holds the rows present when it *starts*.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollout.app.db import CONTACT_COLUMNS, SQLITE, Database
from rollout.app.ledger import Ledger
from rollout.app.migrate import (
    MigrateError,
    MigrationFailed,
    applied_versions,
    apply,
    backup,
    leftovers,
)
from rollout.app.migrations import Migration, load_migrations
from rollout.app.sql import DatabaseError
from rollout.steps import Manual, Procedure, RollbackFailed, Step, Wait

ORDERS = ("stop-then-backup", "backup-then-stop")


@dataclass(frozen=True)
class CostModel:
    """Seconds each machine step takes, from fixed overheads and rows per second.

    SQLite's DROP COLUMN rewrites the whole table (``drop_column_rows_per_s``): "removes
    the named column from the table, and rewrites its content to purge the data
    associated with that column" (sqlite.org/lang_altertable.html, DROP COLUMN).
    PostgreSQL's "does not physically remove the column, but simply makes it invisible
    to SQL operations" (postgresql.org/docs/current/sql-altertable.html), so it costs
    catalog work only (``ddl_statement_s``, like any other DDL).

    The durations and rates below are defaults, not measurements: no public source
    fixes how fast *your* app stops or *your* database dumps and restores, so a drill
    that depends on them states them (``database.cost`` in the scenario; the catalog's
    database scenarios do) and the drill's record lists the ones left at their default.
    """

    # Until users' writes stop. Docker sends SIGTERM and kills after a 10 s grace
    # period by default (docs.docker.com/reference/cli/docker/container/stop/): 10 s
    # is a compose down's worst case per container; 60 s allows for draining and the
    # dashboard's "disable" on Vercel/Netlify, which documents no duration.
    stop_app_s: float = 60.0
    backup_fixed_s: float = 10.0        # connect, lock, write the dump's header
    backup_rows_per_s: float = 50_000.0
    restore_fixed_s: float = 20.0
    restore_rows_per_s: float = 20_000.0
    migration_fixed_s: float = 2.0      # connect, lock, commit, per migration
    ddl_statement_s: float = 0.5        # catalog-only DDL: DROP INDEX/TABLE, PG DROP COLUMN
    drop_column_rows_per_s: float = 100_000.0
    verify_s: float = 5.0
    restart_app_s: float = 180.0        # old version: checkout, push, build, deploy
    integrity_rows_per_s: float = 100_000.0

    def backup_seconds(self, sizes: Mapping[str, int]) -> float:
        return self.backup_fixed_s + sum(sizes.values()) / self.backup_rows_per_s

    def restore_seconds(self, sizes: Mapping[str, int]) -> float:
        return self.restore_fixed_s + sum(sizes.values()) / self.restore_rows_per_s

    def statement_seconds(self, statement: str, dialect: str,
                          sizes: Mapping[str, int]) -> float:
        """One DDL statement: a table rewrite for SQLite's DROP COLUMN, else catalog work."""
        words = statement.split()
        if dialect == SQLITE and _is_drop_column(words):
            return sizes.get(words[2], 0) / self.drop_column_rows_per_s
        return self.ddl_statement_s

    def migration_seconds(self, migration: Migration, direction: str, dialect: str,
                          sizes: Mapping[str, int]) -> float:
        return self.migration_fixed_s + sum(
            self.statement_seconds(s, dialect, sizes)
            for s in migration.statements(direction, dialect))

    def integrity_seconds(self, sizes: Mapping[str, int]) -> float:
        return sizes.get("contacts", 0) / self.integrity_rows_per_s


def _is_drop_column(words: list[str]) -> bool:
    upper = [w.upper() for w in words[:5]]
    return upper[:2] == ["ALTER", "TABLE"] and upper[3:5] == ["DROP", "COLUMN"]


@dataclass(frozen=True)
class Plan:
    """What the caller chose: the runbook's defaults, or a drill's deviation from them."""

    backup: bool = True
    order: str = "stop-then-backup"
    restore_from_backup: bool = False
    fallback_backup: Path | None = None   # restored when no emergency backup was taken
    backups_dir: Path = Path("backups")
    backup_name: str = "emergency"

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {self.order!r}")


def database_rollback(db: Database, *, stop_app: Callable[[], None],
                      start_app: Callable[[], Procedure | None], sizes: Mapping[str, int],
                      ledger: Ledger | None = None, cost: CostModel | None = None,
                      plan: Plan | None = None,
                      migrations: Sequence[Migration] | None = None) -> Procedure:
    """The runbook's Database Rollback on ``db``; returns what it did and the data loss.

    Raises RollbackFailed naming the step: a backup or restore the database refused, no
    backup to restore from, a down migration that failed (undone as a whole), or Pulse
    leftovers after the rollback. The app stays stopped then: the caller decides.
    """
    cost, plan = cost or CostModel(), plan or Plan()
    known = list(migrations if migrations is not None else load_migrations())
    result: dict[str, Any] = {"order": plan.order, "backup": None, "restored_from": None}
    if plan.backup and plan.order == "backup-then-stop":
        result["backup"] = yield from _backup(db, plan, cost, sizes)
        yield from _stop(stop_app, cost)
    else:
        yield from _stop(stop_app, cost)
        if plan.backup:
            result["backup"] = yield from _backup(db, plan, cost, sizes)
    if plan.restore_from_backup:
        result["restored_from"] = yield from _restore(db, result["backup"] or
                                                      plan.fallback_backup, cost, sizes)
    result["rolled_back"] = yield from _rollback_migrations(db, known, cost, sizes)
    yield from _verify(db, cost)
    yield from _restart(start_app, cost)
    result.update((yield from _integrity(db, ledger, cost, sizes)))
    return result


def _stop(stop_app: Callable[[], None], cost: CostModel) -> Generator[Step, None, None]:
    yield Manual("stop application: docker-compose down "
                 "(Vercel/Netlify: disable via dashboard)")
    yield Wait(cost.stop_app_s, "application stopping")
    stop_app()


def _backup(db: Database, plan: Plan, cost: CostModel,
            sizes: Mapping[str, int]) -> Generator[Step, None, str]:
    yield Manual("create emergency backup: cd deployment && ./migrate.sh --backup")
    try:
        path, how = backup(db, plan.backups_dir, plan.backup_name)
    except (DatabaseError, MigrateError) as exc:
        raise RollbackFailed("create emergency backup", str(exc)) from exc
    yield Wait(cost.backup_seconds(sizes), f"backup of {sum(sizes.values())} rows ({how})")
    yield Manual(f"verify backup exists: ls -lh {plan.backups_dir}/")
    return str(path)


def _restore(db: Database, source: str | Path | None, cost: CostModel,
             sizes: Mapping[str, int]) -> Generator[Step, None, str]:
    if source is None:
        raise RollbackFailed("restore backup", "no backup to restore from: the emergency "
                             "backup was skipped and no earlier backup was given")
    yield Manual(f"restore the database: ./migrate.sh --restore {source}")
    try:
        db.restore(source)
    except DatabaseError as exc:
        raise RollbackFailed("restore backup", str(exc)) from exc
    yield Wait(cost.restore_seconds(sizes), f"restore of {sum(sizes.values())} rows")
    return str(source)


def _rollback_migrations(db: Database, known: list[Migration], cost: CostModel,
                         sizes: Mapping[str, int]) -> Generator[Step, None, list[str]]:
    yield Manual("run rollback migrations: ./migrate.sh --rollback")
    by_version = {m.version: m for m in known}
    undone = []
    for version in reversed(applied_versions(db)):
        migration = by_version.get(version)
        if migration is None:
            raise RollbackFailed("rollback migrations", f"{version} has no migration file")
        try:
            apply(db, migration, "down")
        except MigrationFailed as exc:
            raise RollbackFailed("rollback migrations", str(exc)) from exc
        undone.append(migration.version)
        yield Wait(cost.migration_seconds(migration, "down", db.dialect, sizes),
                   f"rolling back {migration.label}")
    return undone


def _verify(db: Database, cost: CostModel) -> Generator[Step, None, None]:
    yield Manual("verify rollback: \\d contacts; SELECT column_name FROM "
                 "information_schema.columns WHERE table_name = 'contacts' "
                 "AND column_name LIKE 'pulse_%'")
    left = leftovers(db)
    yield Wait(cost.verify_s, "checking the contacts table")
    if left:
        raise RollbackFailed("verify rollback", f"Pulse leftovers: {', '.join(left)}")
    columns = tuple(db.columns("contacts"))
    if columns != CONTACT_COLUMNS:
        raise RollbackFailed("verify rollback", "contacts does not match its pre-migration "
                             f"structure: {', '.join(columns)}")


def _restart(start_app: Callable[[], Procedure | None],
             cost: CostModel) -> Generator[Step, None, None]:
    """Start the old version. When ``start_app`` returns a procedure (the platform's real
    rollback), its own steps take the time; otherwise the cost model's restart time does."""
    yield Manual("restart application with old version: git checkout <previous-version-tag>"
                 " && git push origin main --force (or vercel rollback)")
    started = start_app()
    if isinstance(started, Generator):
        yield from started
    else:
        yield Wait(cost.restart_app_s, "old version building and deploying")


def _integrity(db: Database, ledger: Ledger | None, cost: CostModel,
               sizes: Mapping[str, int]) -> Generator[Step, None, dict[str, Any]]:
    yield Manual("test data integrity: compare the write ledger with the database")
    if ledger is None:
        return {"data_loss": None}
    report = ledger.verify(db)
    yield Wait(cost.integrity_seconds(sizes), f"checking {report.checked} contacts")
    return {"data_loss": report.data_loss, "missing": report.missing,
            "altered": report.altered, "checked": report.checked}
