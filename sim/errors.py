"""Errors the harness raises, each carrying the exit code the CLI turns it into."""

from __future__ import annotations


class DrillError(Exception):
    """Base of the harness's errors; ``exit_code`` is what ``drill`` exits with."""

    exit_code = 1


class BadInput(DrillError):
    """A scenario file, an override or an argument that cannot be used (exit 2)."""

    exit_code = 2


class ScenarioError(BadInput):
    """A scenario that does not validate: names the file, the field and what is allowed."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.detail = message
        where = f"field '{field}'" if field else "top level"
        super().__init__(f"{source}: {where}: {message}")
