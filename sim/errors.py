"""Errors the harness raises, each carrying the exit code the CLI turns it into.

The exit codes ``drill`` uses, one meaning each (README, "Exit codes")::

    DrillError               -> 3  something in the harness or its environment failed
    ├── BadInput             -> 2  a scenario, an argument or an output folder unusable
    │   └── ScenarioError    -> 2  names the file, the field and what is allowed
    ├── OutputError          -> 3  results could not be written (disk full, I/O error)
    └── Interrupted          -> 130 Ctrl-C (SIGINT); a sweep keeps its finished runs

A verdict is not an error: 0 every target met, 1 a target missed. Any other exception is
an internal error (3): one line on stderr naming it and the file holding its traceback.
"""

from __future__ import annotations

from typing import Any

EXIT_MET = 0
EXIT_MISSED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class DrillError(Exception):
    """Base of the harness's errors; ``exit_code`` is what ``drill`` exits with."""

    exit_code = EXIT_INTERNAL


class BadInput(DrillError):
    """A scenario file, an override, an argument or an output folder that cannot be used
    (exit 2)."""

    exit_code = EXIT_BAD_INPUT


class ScenarioError(BadInput):
    """A scenario that does not validate: names the file, the field and what is allowed."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.detail = message
        where = f"field '{field}'" if field else "top level"
        super().__init__(f"{source}: {where}: {message}")


class OutputError(DrillError):
    """Results that could not be written after the run (disk full, an I/O error): nothing
    incomplete is left where a complete result would be (exit 3)."""

    exit_code = EXIT_INTERNAL


class Interrupted(DrillError):
    """Ctrl-C during runs; ``rows`` holds the sweep runs that finished (exit 130): a
    sweep's ``RunTable`` (``sim.sweeps.table``), or nothing."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str, rows: Any = None) -> None:
        super().__init__(message)
        self.rows = [] if rows is None else rows
