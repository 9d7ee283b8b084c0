"""rollout.rollback.database: the runbook's Database Rollback on a real database, data loss
measured by the write ledger against what the database really holds afterwards."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rollout.app.db import Database
from rollout.app.migrate import backup, leftovers, migrate_up
from rollout.app.migrations import HERE, load_migrations
from rollout.rollback.database import CostModel, Plan, database_rollback
from rollout.steps import Manual, RollbackFailed, Step, Wait

SIZES = {"contacts": 200_000, "pulse_sync_log": 1_000_000, "schema_migrations": 3}


def drive(procedure: Any, between: Callable[[Step], None] = lambda step: None
          ) -> tuple[dict[str, Any], list[Step]]:
    """Run ``procedure`` step by step, calling ``between(step)`` before resuming it."""
    steps: list[Step] = []
    try:
        step = next(procedure)
        while True:
            steps.append(step)
            between(step)
            step = procedure.send(None)
    except StopIteration as stop:
        return stop.value, steps


def rollback_of(app: Any, tmp_path: Path, **plan: Any) -> Any:
    return database_rollback(app.db, stop_app=app.stop, start_app=app.start, sizes=SIZES,
                             ledger=app.ledger, plan=Plan(backups_dir=tmp_path / "backups",
                                                          **plan))


def before_the_incident(app: Any) -> None:
    """The Pulse schema is live and users have written contacts through the new version."""
    migrate_up(app.db)
    for i in range(5):
        app.create(f"c{i}", first_name=f"User{i}", email=f"u{i}@example.com")
    app.edit("c0", title="CTO")


def writing_on_every_step(app: Any) -> Callable[[Step], None]:
    """Users keep saving contacts while the procedure runs (refused once the app is down)."""
    counter = iter(range(1000))

    def write(step: Step) -> None:
        n = next(counter)
        app.create(f"during-{n}", notes=f"written during: {step}")
        app.edit("c1", notes=f"edit {n}")

    return write


def manual_steps(steps: list[Step]) -> list[str]:
    return [step.what.split(":")[0] for step in steps if isinstance(step, Manual)]


@pytest.mark.parametrize("restore", [False, True], ids=["no-restore", "restore"])
def test_the_runbook_order_stop_then_backup_loses_no_acknowledged_write(
        contacts_app: Any, tmp_path: Path, restore: bool) -> None:
    before_the_incident(contacts_app)
    result, steps = drive(rollback_of(contacts_app, tmp_path, restore_from_backup=restore),
                          writing_on_every_step(contacts_app))
    assert result["rolled_back"] == ["003", "002", "001"]
    assert leftovers(contacts_app.db) == []
    assert (result["data_loss"], result["missing"], result["altered"]) == (0, [], [])
    assert contacts_app.ledger.verify(contacts_app.db).data_loss == 0, "nor any write since"
    assert any(a.startswith("during-") for a in contacts_app.acked), "writes were accepted"
    assert contacts_app.running, "the old version is serving again"
    assert manual_steps(steps) == [
        "stop application", "create emergency backup", "verify backup exists",
        *(["restore the database"] if restore else []), "run rollback migrations",
        "verify rollback", "restart application with old version", "test data integrity"]


def test_backup_then_stop_with_a_restore_loses_exactly_the_writes_acked_in_between(
        contacts_app: Any, tmp_path: Path) -> None:
    before_the_incident(contacts_app)
    phase = "before the backup"

    def keep_writing(step: Step) -> None:
        nonlocal phase
        if isinstance(step, Wait) and "backup" in step.why:
            phase = "between backup and stop"
        if not contacts_app.running:
            phase = "after the stop"
        if phase == "between backup and stop":
            contacts_app.create(f"late-{len(contacts_app.acked)}")
            contacts_app.edit("c0", notes="edited after the backup")
        elif phase == "after the stop":
            contacts_app.create(f"after-{len(contacts_app.acked)}")

    result, steps = drive(rollback_of(contacts_app, tmp_path, order="backup-then-stop",
                                      restore_from_backup=True), keep_writing)
    assert manual_steps(steps)[:3] == ["create emergency backup", "verify backup exists",
                                       "stop application"]
    late = sorted(a for a in contacts_app.acked if a.startswith("late-"))
    assert len(late) == 4, "backup running, backup check, stop typed, stop draining"
    assert result["missing"] == late
    assert result["altered"] == ["c0"]
    assert result["data_loss"] == len(late) + 1
    assert any(a.startswith("after-") for a in contacts_app.acked), "writes after the restart"
    assert contacts_app.ledger.verify(contacts_app.db).data_loss == len(late) + 1


def test_without_the_emergency_backup_a_restore_loses_every_write_since_the_last_backup(
        contacts_app: Any, tmp_path: Path) -> None:
    migrate_up(contacts_app.db)
    contacts_app.create("c0", first_name="Ada")
    contacts_app.create("old", first_name="Kept")
    nightly, _ = backup(contacts_app.db, tmp_path / "nightly", "nightly")
    for i in (1, 2, 3):
        contacts_app.create(f"c{i}")
    contacts_app.edit("c0", title="CTO")
    result, steps = drive(rollback_of(contacts_app, tmp_path, backup=False,
                                      restore_from_backup=True, fallback_backup=nightly))
    assert "create emergency backup" not in manual_steps(steps)
    assert result["restored_from"] == str(nightly)
    assert (result["missing"], result["altered"]) == (["c1", "c2", "c3"], ["c0"])
    assert result["data_loss"] == 4 and result["checked"] == 5


def test_a_restore_with_no_backup_at_all_fails_at_that_step_and_leaves_the_app_down(
        contacts_app: Any, tmp_path: Path) -> None:
    before_the_incident(contacts_app)
    with pytest.raises(RollbackFailed) as failure:
        drive(rollback_of(contacts_app, tmp_path, backup=False, restore_from_backup=True))
    assert failure.value.where == "restore backup"
    assert not contacts_app.running


def test_verify_raises_while_pulse_columns_remain(contacts_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(HERE, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for path in folder.glob("003_*.down.*.sql"):  # a down migration that forgets a column
        path.write_text(path.read_text().replace(
            "ALTER TABLE contacts DROP COLUMN pulse_owner_id;", ""))
    migrate_up(contacts_app.db)
    procedure = database_rollback(contacts_app.db, stop_app=contacts_app.stop,
                                  start_app=contacts_app.start, sizes=SIZES,
                                  plan=Plan(backups_dir=tmp_path / "b"),
                                  migrations=load_migrations(folder))
    with pytest.raises(RollbackFailed, match=r"contacts\.pulse_owner_id") as failure:
        drive(procedure)
    assert failure.value.where == "verify rollback"


def test_a_failing_down_migration_stops_the_procedure_and_names_the_migration(
        contacts_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(HERE, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for path in folder.glob("002_*.down.*.sql"):
        path.write_text(path.read_text() + "\nDROP TABLE no_such_table;\n")
    migrate_up(contacts_app.db)
    procedure = database_rollback(contacts_app.db, stop_app=contacts_app.stop,
                                  start_app=contacts_app.start, sizes=SIZES,
                                  plan=Plan(backups_dir=tmp_path / "b"),
                                  migrations=load_migrations(folder))
    with pytest.raises(RollbackFailed, match="002_pulse_sync_status") as failure:
        drive(procedure)
    assert failure.value.where == "rollback migrations"
    assert "pulse_sync_status" in contacts_app.db.columns("contacts")


def test_waits_come_from_the_cost_model_and_scale_with_declared_table_sizes(
        contacts_app: Any, tmp_path: Path) -> None:
    migrate_up(contacts_app.db)
    cost = CostModel()

    def waits(sizes: dict[str, int], name: str) -> list[float]:
        procedure = database_rollback(
            contacts_app.db, stop_app=contacts_app.stop, start_app=contacts_app.start,
            sizes=sizes, cost=cost, plan=Plan(backups_dir=tmp_path / name))
        _, steps = drive(procedure)
        migrate_up(contacts_app.db)
        return [step.seconds for step in steps if isinstance(step, Wait)]

    small, large = waits(SIZES, "small"), waits({k: 10 * v for k, v in SIZES.items()}, "large")
    assert waits(SIZES, "again") == small, "deterministic: no wall-clock time in a Wait"
    backup_s = cost.backup_fixed_s + sum(SIZES.values()) / cost.backup_rows_per_s
    assert small[1] == pytest.approx(backup_s)
    assert large[1] - cost.backup_fixed_s == pytest.approx(10 * (backup_s - cost.backup_fixed_s))
    rewrites = 2 * SIZES["contacts"] / cost.drop_column_rows_per_s  # two DROP COLUMNs each
    base = cost.migration_fixed_s + cost.ddl_statement_s  # and one DROP INDEX or DROP TABLE
    expected_sqlite = [base + rewrites] * 3
    expected_pg = [base + 2 * cost.ddl_statement_s] * 3
    assert small[2:5] == pytest.approx(
        expected_sqlite if contacts_app.db.dialect == "sqlite" else expected_pg)


def test_sqlite_drop_column_rewrites_the_table_and_postgresql_drop_column_does_not() -> None:
    cost, sizes = CostModel(), {"contacts": 1_000_000}
    drop = "ALTER TABLE contacts DROP COLUMN pulse_id"
    assert cost.statement_seconds(drop, "sqlite", sizes) == 10.0
    assert cost.statement_seconds(drop, "postgresql", sizes) == cost.ddl_statement_s
    assert cost.statement_seconds("DROP INDEX x", "sqlite", sizes) == cost.ddl_statement_s


def test_a_bad_order_is_refused_before_anything_runs() -> None:
    with pytest.raises(ValueError, match="order must be"):
        Plan(order="whenever")


def test_only_the_emergency_backup_keeps_the_pulse_data_the_rollback_drops(
        contacts_app: Any, tmp_path: Path) -> None:
    before_the_incident(contacts_app)
    contacts_app.db.execute("UPDATE contacts SET pulse_owner_id = 'owner-7' WHERE id = 'c2'")
    result, _ = drive(rollback_of(contacts_app, tmp_path))
    assert "pulse_owner_id" not in contacts_app.db.columns("contacts")
    scratch: Database = contacts_app.db
    scratch.restore(result["backup"])
    assert scratch.query("SELECT pulse_owner_id FROM contacts WHERE id = 'c2'") == [
        ("owner-7",)]
