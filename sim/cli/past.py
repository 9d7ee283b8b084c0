"""``drill list``, ``drill show``, ``drill report``: the catalog and past runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.cli.group import cli, echo_json, print_run, scenario_files
from sim.errors import BadInput
from sim.outdir import find_run

if TYPE_CHECKING:
    from sim.scenario.model import Scenario

@cli.command("list")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def list_cmd(directory: Path | None) -> None:
    """The scenarios in DIRECTORY, one line each (default: ./scenarios if there is one,
    else the catalog beside the installed package, else the embedded default drill)."""
    from sim.scenario.loader import load_scenario

    folder = directory or _catalog()
    files = scenario_files(folder) if folder.is_dir() else []
    if not files:
        raise BadInput(f"{folder}: no scenario files (*.yaml, *.yml) found")
    for path in files:
        s = load_scenario(path)
        first = s.description.strip().splitlines()[0] if s.description.strip() else ""
        click.echo(f"{s.name:<36} {s.responder.path:<22} {first}")


def _catalog() -> Path:
    """Where ``drill list`` looks by default: ./scenarios, the repository's catalog beside
    the package (a source checkout or an editable install), the embedded default."""
    package = Path(__file__).resolve().parents[1]  # sim/
    for folder in (Path("scenarios"), package.parent / "scenarios"):
        if folder.is_dir():
            return folder
    return package / "defaults"


@cli.command("show")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (a list of one).")
def show_cmd(run: Path, as_json: bool) -> None:
    """Re-print a past run's one-screen summary. RUN: a run folder, results/<scenario>
    (its latest run) or a scenario name (results/<name>/latest)."""
    folder = find_run(run)
    doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    if as_json:
        echo_json([doc])
    else:
        print_run(doc, folder, _saved_scenario(folder))
    sys.exit(0 if doc["passed"] else 1)


def _saved_scenario(folder: Path) -> Scenario | None:
    """The scenario a run folder holds (``scenario.json``), None for older folders."""
    path = folder / "scenario.json"
    if not path.is_file():
        return None
    from sim.scenario.loader import validate_scenario

    return validate_scenario(json.loads(path.read_text(encoding="utf-8")), str(path))


@cli.command("report")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--no-html", is_flag=True, help="Re-render report.md only.")
def report_cmd(run: Path, no_html: bool) -> None:
    """Re-render a past run's report.md and report.html (RUN as for drill show).

    Re-runs the folder's scenario.json at its seed and renders from that, after checking
    the run reproduces the folder's summary.json and journal.jsonl exactly (a drill is
    deterministic); a run this code no longer reproduces is refused (exit 2)."""
    from sim.drills.rerender import rerender

    folder = find_run(run)
    scenario = _saved_scenario(folder)
    if scenario is None:
        raise BadInput(f"{folder}: no scenario.json (written by drill run since it keeps "
                       "one); run the scenario again instead")
    for path in rerender(scenario, folder, html=not no_html):
        click.echo(f"wrote {path}")
