"""The migrate tool as the runbook runs it: a subprocess, its exit codes and messages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rollout.app.migrations import HERE

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "deployment" / "migrate.sh"


def migrate(*args: str, cwd: Path, env: dict[str, str] | None = None,
            wrapper: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(WRAPPER)] if wrapper else [sys.executable, "-m", "rollout.app.migrate"]
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment |= {"PYTHON": sys.executable, "PYTHONPATH": str(ROOT)} | (env or {})
    return subprocess.run([*command, *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=60, check=False)


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr + done.stdout


def test_the_runbook_sequence_backup_rollback_verify_restore(dsn: str, tmp_path: Path) -> None:
    """Exit codes: --verify 1 while pulse_ columns exist, 0 after --rollback."""
    up = migrate("--dsn", dsn, "--init", "--up", cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert up.stdout.splitlines()[:3] == ["applied 001_pulse_link", "applied 002_pulse_sync_status",
                                          "applied 003_pulse_owner_custom_fields"]
    verify = migrate("--dsn", dsn, "--verify", cwd=tmp_path)
    assert verify.returncode == 1
    assert verify.stdout.splitlines()[1].startswith("FAILED: Pulse leftovers: contacts.pulse_id")
    saved = migrate("--dsn", dsn, "--backup", cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    path = Path(tmp_path, saved.stdout.strip().rsplit(": ", 1)[1])
    dialect = dsn.split(":", 1)[0]
    assert path.parent == tmp_path / "backups" and path.name.startswith(f"{dialect}-")
    assert path.is_file() and path.stat().st_size > 0
    partial = migrate("--dsn", dsn, "--rollback", "002", cwd=tmp_path)
    assert partial.stdout.splitlines() == ["rolled back 003_pulse_owner_custom_fields",
                                           "rolled back 002_pulse_sync_status", "applied: 001"]
    rest = migrate("--dsn", dsn, "--rollback", cwd=tmp_path)
    assert rest.stdout.splitlines() == ["rolled back 001_pulse_link", "applied: none"]
    assert migrate("--dsn", dsn, "--verify", cwd=tmp_path).returncode == 0
    restored = migrate("--dsn", dsn, "--restore", str(path), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.strip().endswith("applied: 001, 002, 003")
    assert migrate("--dsn", dsn, "--verify", cwd=tmp_path).returncode == 1


def test_the_bash_wrapper_reads_database_url_and_names_the_backup(tmp_path: Path) -> None:
    env = {"DATABASE_URL": str(tmp_path / "crm.db")}
    assert migrate("--init", "--up", cwd=tmp_path, env=env, wrapper=True).returncode == 0
    done = migrate("--backup", "before-rollback", cwd=tmp_path, env=env, wrapper=True)
    assert done.stdout.strip() == ("backup written (sqlite-backup-api): "
                                   "backups/sqlite-before-rollback.sqlite")
    again = migrate("--backup", "before-rollback", cwd=tmp_path, env=env, wrapper=True)
    assert (again.returncode, again.stderr.strip()) == (
        2, "migrate: error: backups/sqlite-before-rollback.sqlite already exists")


@pytest.mark.parametrize(("args", "message"), [
    ((), "no database: pass --dsn or set DATABASE_URL"),
    (("--dsn", "mysql://root@db/crm"), "unsupported DSN scheme 'mysql'"),
    (("--dsn", "{tmp}/typo.db", "--verify"), "no SQLite database at"),
    (("--dsn", "{tmp}/crm.db", "--restore", "{tmp}/backups/nope.sqlite"), "no backup file at"),
    (("--dsn", "{tmp}/crm.db", "--rollback", "7"), "no migration 7"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path, args: tuple[str, ...],
                                                          message: str) -> None:
    migrate("--dsn", str(tmp_path / "crm.db"), "--init", cwd=tmp_path)
    done = migrate(*(a.format(tmp=tmp_path) for a in args), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("migrate: error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    no_traceback(done)


def test_a_failing_migration_exits_1_naming_it_and_leaves_its_changes_out(
        tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(HERE, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    bad = folder / "003_pulse_owner_custom_fields.up.sqlite.sql"
    bad.write_text(bad.read_text().replace("CREATE TABLE pulse_sync_log",
                                           "CREATE TABLE contacts"))
    db = str(tmp_path / "crm.db")
    done = migrate("--dsn", db, "--init", "--up", "--migrations", str(folder), cwd=tmp_path)
    assert done.returncode == 1
    assert "migration 003_pulse_owner_custom_fields (up) failed at statement 3 of 4" \
        in done.stderr
    assert "table contacts already exists" in done.stderr
    no_traceback(done)
    status = migrate("--dsn", db, "--verify", cwd=tmp_path).stdout
    assert "pulse_sync_status" in status and "pulse_owner_id" not in status


def test_help_says_that_rollback_n_undoes_every_later_migration_first(tmp_path: Path) -> None:
    done = migrate("--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "--rollback N undoes N *and every later applied migration* first" in done.stdout
