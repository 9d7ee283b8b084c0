"""The ``drill`` command line: ``drill run``, ``drill list``.

Exit codes: 0 every target met, 1 a target missed, 2 bad input (scenario, arguments).
Errors print one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from sim.errors import BadInput, DrillError
from sim.loader import load_default, load_scenario
from sim.scenario import Scenario


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Rollback drills for the Contacts redesign runbook, in virtual time."""


@cli.command("run")
@click.argument("scenarios", nargs=-1, type=click.Path(path_type=Path))
@click.option("--seed", type=click.IntRange(min=0), help="Seed (default: the scenario's own).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Output directory (default results/<scenario>/<run-id>/).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override any scenario field, e.g. --set population.users=100000.")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
def run_cmd(scenarios: tuple[Path, ...], seed: int | None, out: Path | None,
            overrides: tuple[str, ...], as_json: bool) -> None:
    """Run drills: SCENARIO files or directories (none: the embedded default drill)."""
    loaded = _load_all(scenarios, overrides)
    if out is not None and len(loaded) > 1:
        out_for = {s.name: out / s.name for s in loaded}
    else:
        out_for = {s.name: out for s in loaded} if out else {}
    docs = [_run_one(s, seed, out_for.get(s.name), quiet=as_json) for s in loaded]
    if as_json:
        click.echo(json.dumps(docs if len(docs) > 1 else docs[0], indent=2, sort_keys=True))
    elif len(docs) > 1:
        click.echo(_catalog_table(docs))
    sys.exit(0 if all(d["passed"] for d in docs) else 1)


def _load_all(paths: tuple[Path, ...], overrides: tuple[str, ...]) -> list[Scenario]:
    if not paths:
        return [load_default(overrides)]
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() \
            else [path]
    if not files:
        raise BadInput(f"{', '.join(map(str, paths))}: no scenario files (*.yaml) found")
    return [load_scenario(f, overrides) for f in files]


def _run_one(scenario: Scenario, seed: int | None, out: Path | None, quiet: bool) -> dict[str, Any]:
    from sim.report import render_terminal
    from sim.results import write_run
    from sim.runner import run_drill

    result = run_drill(scenario, seed)
    target = out or _default_out(scenario.name, result.seed)
    doc = write_run(result, target)
    if not quiet:
        click.echo(render_terminal(doc, str(target)))
        click.echo()
    return doc


def _default_out(name: str, seed: int) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path("results") / name / f"{stamp}-seed{seed}"


def _catalog_table(docs: list[dict[str, Any]]) -> str:
    from sim.report import LABELS, fmt_value

    header = ["scenario", "path", *[LABELS[n][0] for n in LABELS], "verdict"]
    rows = [header]
    for d in docs:
        cells = [d["scenario"], d["path"]]
        for name in LABELS:
            mark = {"pass": "✓", "fail": "✗", "not_measured": "·"}[d["status"][name]]
            cells.append(f"{fmt_value(name, d['metrics'][name]).split(' (')[0]} {mark}")
        cells.append("PASS" if d["passed"] else "FAIL")
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


@cli.command("list")
@click.argument("directory", default="scenarios", type=click.Path(path_type=Path))
def list_cmd(directory: Path) -> None:
    """The scenarios in DIRECTORY (default ./scenarios), one line each."""
    files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    if not files:
        raise BadInput(f"{directory}: no scenario files (*.yaml) found")
    for path in files:
        s = load_scenario(path)
        first = s.description.strip().splitlines()[0] if s.description.strip() else ""
        click.echo(f"{s.name:<36} {s.responder.path:<22} {first}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port-base", type=click.IntRange(0, 65500), default=0,
              help="First port (each fake at a fixed offset); 0 picks free ports.")
@click.option("--env-file", type=click.Path(path_type=Path), help="Write export lines here.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="Virtual seconds per wall second.")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path),
              help="Seed the world from this scenario (default: the embedded drill).")
def serve_cmd(host: str, port_base: int, env_file: Path | None, speed: float,
              scenario_path: Path | None) -> None:
    """Serve every fake on loopback until Ctrl-C, with the runbook's world in place."""
    import asyncio

    from fakes.common.clock import WallClock
    from sim.serve import build_services, serve

    scenario = load_scenario(scenario_path) if scenario_path else load_default()
    clock = WallClock(speed=speed)  # real clients compare our timestamps with their own now
    workdir = (env_file.parent if env_file else Path.cwd()) / ".drill-serve"
    services = build_services(scenario, clock, workdir)
    asyncio.run(serve(services, clock, host, port_base, env_file,
                      lambda text: click.echo(text, nl=True)))
    click.echo("drill serve: stopped")


def main() -> None:
    """Entry point: runs the group and maps harness errors to exit codes."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DrillError as exc:
        click.echo(f"drill: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
