"""The ``drill`` command line: ``drill run``, ``drill sweep``, ``drill check``,
``drill baseline``, ``drill validate`` (``sim.cli.drills``); ``drill list``, ``drill show``,
``drill report`` (``sim.cli.past``); ``drill serve`` (``sim.cli.serving``); ``drill
calibrate`` (``sim.calibrate.command``); ``drill gameday`` (``sim.gameday.command``).
``sim.cli.group`` holds the group, the entry point ``main`` and what commands share.

Start-up stays cheap: these modules import click and the harness's small basics only;
each command imports what it needs (numpy, SimPy, the scenario model, the fakes) when it
runs, so ``drill --help`` and ``drill --version`` load none of them. ``--json`` prints a
JSON list, always (one element per scenario, sweep or run), whatever the command.

Exit codes (``sim.errors``): 0 every target met (``drill check``: the gate passed;
``drill sweep``, ``drill baseline`` and ``drill validate``: done), 1 a target missed (the
gate failed), 2 bad input (scenario, arguments, an output path that cannot be written,
a baseline file), 3 an internal error (a bug, or results that could not be written),
130 Ctrl-C, 143 SIGTERM. Every input and output path is checked before anything runs.
Errors print one line on stderr, never a traceback (``--debug`` adds it).
"""

from sim.calibrate.command import calibrate_cmd
from sim.cli import drills, past, serving  # noqa: F401  (importing registers their commands)
from sim.cli.group import cli, main
from sim.gameday.command import gameday

cli.add_command(calibrate_cmd)
cli.add_command(gameday)

__all__ = ["cli", "main"]
