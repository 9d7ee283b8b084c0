"""The Pulse integration's schema migrations, as SQL files beside this module.

Each migration is four files, ``NNN_name.{up,down}.{sqlite,postgresql}.sql``: the up and
down SQL for both dialects. ``load_migrations()`` reads them in version order (from this
package, or from another folder laid out the same way); ``rollout.app.migrate`` applies them.

    001 pulse_link                 contacts.pulse_id (unique), contacts.pulse_synced_at
    002 pulse_sync_status          contacts.pulse_sync_status, contacts.pulse_last_error
    003 pulse_owner_custom_fields  contacts.pulse_owner_id, contacts.pulse_custom_fields,
                                   table pulse_sync_log
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rollout.app.db import POSTGRESQL, SQLITE
from rollout.app.sql import split_sql

HERE = Path(__file__).resolve().parent
DIALECTS = (SQLITE, POSTGRESQL)
_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.(up|down)\.(sqlite|postgresql)\.sql$")


class MigrationFilesError(Exception):
    """The migration folder is incomplete or holds a misnamed file (bad input)."""

    exit_code = 2


@dataclass(frozen=True)
class Migration:
    """One schema change: ``up`` and ``down`` SQL per dialect, keyed by dialect name."""

    version: str
    name: str
    up: dict[str, str]
    down: dict[str, str]

    def statements(self, direction: str, dialect: str) -> list[str]:
        """The statements of ``direction`` ("up" | "down") for ``dialect``, in order."""
        return split_sql((self.up if direction == "up" else self.down)[dialect])

    @property
    def label(self) -> str:
        return f"{self.version}_{self.name}"


def load_migrations(folder: str | Path | None = None) -> list[Migration]:
    """Every migration in ``folder`` (default: this package), sorted by version.

    Raises MigrationFilesError when a file is misnamed, a migration lacks one of its
    four files, or two files disagree on a version's name.
    """
    found: dict[str, Migration] = {}
    for path in sorted(Path(folder or HERE).glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationFilesError(f"{path.name}: expected NNN_name.up|down."
                                      "sqlite|postgresql.sql")
        version, name, direction, dialect = match.groups()
        migration = found.setdefault(version, Migration(version, name, {}, {}))
        if migration.name != name:
            raise MigrationFilesError(f"migration {version} has two names: "
                                      f"{migration.name} and {name}")
        texts = migration.up if direction == "up" else migration.down
        texts[dialect] = path.read_text(encoding="utf-8")
    for migration in found.values():
        _check_complete(migration)
    return [found[version] for version in sorted(found)]


def _check_complete(migration: Migration) -> None:
    for direction, texts in (("up", migration.up), ("down", migration.down)):
        missing = [dialect for dialect in DIALECTS if dialect not in texts]
        if missing:
            raise MigrationFilesError(f"migration {migration.label} has no {direction} "
                                      f"SQL for {', '.join(missing)}")
