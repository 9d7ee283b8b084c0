"""The ``drill`` group, its entry point, and what several commands share: the options
every drill command takes, loading scenario files, printing a run and ``--json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, BadInput, DrillError
from sim.lifecycle import crash_report, install_signal_handlers, sweep_stale
from sim.scenario.limits import MAX_JOBS, MAX_SEED

if TYPE_CHECKING:
    from sim.scenario.model import Scenario

OPTIONS = {"debug": False}
SEED = click.IntRange(min=0, max=MAX_SEED)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rollout-drill", prog_name="drill",
                      message="%(prog)s %(version)s")  # from the installed package's metadata
@click.option("--debug", is_flag=True,
              help="On an internal error, print its traceback too (it is always written "
                   "to a file named in the error line).")
def cli(debug: bool) -> None:
    """Rollback drills for the Contacts redesign runbook, in virtual time."""
    OPTIONS["debug"] = debug


def executor_options(f: Any) -> Any:
    f = click.option("--dask", metavar="ADDRESS",
                     help="Run on the Dask cluster at ADDRESS (e.g. tcp://10.0.0.5:8786) "
                          "instead of local processes.")(f)
    return click.option("--jobs", "-j", type=click.IntRange(min=1, max=MAX_JOBS),
                        help="Worker processes (default: every core; 1 runs in-process).")(f)


def echo_json(items: list[dict[str, Any]]) -> None:
    """``--json``'s one shape: a list, one element per scenario, sweep or run."""
    click.echo(json.dumps(items, indent=2, sort_keys=True))


def scenario_files(path: Path) -> list[Path]:
    """A directory's scenario files (``*.yaml`` and ``*.yml``, sorted), or the path itself."""
    if not path.is_dir():
        return [path]
    return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])


def load_all(paths: tuple[Path, ...], overrides: tuple[str, ...]) -> list[Scenario]:
    from sim.scenario.loader import load_default, load_scenario

    if not paths:
        return [load_default(overrides)]
    files = [f for path in paths for f in scenario_files(path)]
    if not files:
        raise BadInput(f"{', '.join(map(str, paths))}: no scenario files (*.yaml, *.yml) "
                       "found")
    return [load_scenario(f, overrides) for f in files]


def print_run(doc: dict[str, Any], target: Path, scenario: Scenario | None) -> None:
    """The one-screen summary of a run, with the warnings its scenario's analysis gives
    and the run does not contradict (``drill run``, ``drill show``)."""
    from sim.results.markdown import render_terminal

    click.echo(render_terminal(doc, str(target)))
    if scenario is not None:
        from sim.results.bounds import bounds
        from sim.results.crosscheck import standing_warnings

        kept, refuted = standing_warnings(bounds(scenario), [doc])
        for warning in kept:  # what no seed could change, and this run did not
            click.echo(f"  ⚠ {warning}")
        for line in refuted:
            click.echo(f"  ✗ cross-check DISAGREES: {line}")
    click.echo()


def main() -> None:
    """Entry point: runs the group and maps errors to exit codes (``sim.errors``); any
    other exception is an internal error (exit 3): one line, its traceback in a file."""
    install_signal_handlers()
    sweep_stale()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("drill: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DrillError as exc:
        click.echo(f"drill: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug: never a traceback in place of an exit code
        click.echo(f"drill: {crash_report(exc)}", err=True)
        if OPTIONS["debug"]:
            import traceback

            traceback.print_exception(exc)
        sys.exit(EXIT_INTERNAL)
