"""The ``drill`` command line: ``drill run``, ``drill sweep``, ``drill check``,
``drill baseline``, ``drill validate``, ``drill list``, ``drill show``, ``drill report``,
``drill serve``.

Start-up stays cheap: this module imports click and the harness's small basics only;
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

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from sim.calibrate.command import calibrate_cmd
from sim.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, BadInput, DrillError, Interrupted
from sim.lifecycle import crash_report, install_signal_handlers, sweep_stale
from sim.outdir import check_out_dir, check_out_file, find_run, mark_latest, run_dir, write_file
from sim.scenario.limits import MAX_JOBS, MAX_RUNS, MAX_SEED

if TYPE_CHECKING:
    from sim.scenario.model import Scenario

_OPTIONS = {"debug": False}
SEED = click.IntRange(min=0, max=MAX_SEED)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rollout-drill", prog_name="drill",
                      message="%(prog)s %(version)s")  # from the installed package's metadata
@click.option("--debug", is_flag=True,
              help="On an internal error, print its traceback too (it is always written "
                   "to a file named in the error line).")
def cli(debug: bool) -> None:
    """Rollback drills for the Contacts redesign runbook, in virtual time."""
    _OPTIONS["debug"] = debug


def _executor_options(f: Any) -> Any:
    f = click.option("--dask", metavar="ADDRESS",
                     help="Run on the Dask cluster at ADDRESS (e.g. tcp://10.0.0.5:8786) "
                          "instead of local processes.")(f)
    return click.option("--jobs", "-j", type=click.IntRange(min=1, max=MAX_JOBS),
                        help="Worker processes (default: every core; 1 runs in-process).")(f)


@cli.command("run")
@click.argument("scenarios", nargs=-1, type=click.Path(path_type=Path))
@click.option("--seed", type=SEED, help="Seed (default: the scenario's own).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Output directory (default results/<scenario>/<YYYYmmdd-HHMMSS>-seed<N>/, "
                   "and results/<scenario>/latest names it).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override any scenario field, e.g. --set population.users=100000.")
@click.option("--runs", type=click.IntRange(min=1, max=MAX_RUNS),
              help="Also run N seeds (seed, seed+1, ...) and print each target's P(meet); "
                   "flags a PASS that those seeds often miss.")
@_executor_options
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as a JSON list.")
@click.option("--no-html", is_flag=True, help="Skip report.html and its figures (faster).")
def run_cmd(scenarios: tuple[Path, ...], seed: int | None, out: Path | None,
            overrides: tuple[str, ...], runs: int | None, jobs: int | None, dask: str | None,
            as_json: bool, no_html: bool) -> None:
    """Run drills: SCENARIO files or directories (none: the embedded default drill)."""
    loaded = _load_all(scenarios, overrides)
    if out is not None and len(loaded) > 1:
        out_for = {s.name: out / s.name for s in loaded}
    else:
        out_for = {s.name: out for s in loaded} if out else {}
    now = datetime.now()
    targets = {s.name: out_for.get(s.name) or run_dir(Path("results"), s.name, _seed(s, seed),
                                                       now)
               for s in loaded}
    for target in targets.values():  # before any run: a bad --out costs nothing
        check_out_dir(target, "--out")
    docs = []
    for s in loaded:
        docs.append(_run_one(s, seed, targets[s.name], quiet=as_json, html=not no_html))
        if s.name not in out_for:
            mark_latest(targets[s.name])
    if runs is not None:
        from sim.sweeps.sample import over_seeds

        for s, doc in zip(loaded, docs, strict=True):
            doc["over_seeds"] = over_seeds(s, doc, runs, seed, _sweeper(jobs, dask),
                                           echo=None if as_json else click.echo)
    if as_json:
        _echo_json(docs)
    elif len(docs) > 1:
        from sim.results.markdown import catalog_table

        click.echo(catalog_table(docs))
    sys.exit(0 if all(d["passed"] for d in docs) else 1)


def _echo_json(items: list[dict[str, Any]]) -> None:
    """``--json``'s one shape: a list, one element per scenario, sweep or run."""
    click.echo(json.dumps(items, indent=2, sort_keys=True))


def _sweeper(jobs: int | None, dask: str | None) -> Any:
    return lambda plans, quiet: _run_sweeps(plans, jobs, dask, quiet, lines=False)


def _scenario_files(path: Path) -> list[Path]:
    """A directory's scenario files (``*.yaml`` and ``*.yml``, sorted), or the path itself."""
    if not path.is_dir():
        return [path]
    return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])


def _load_all(paths: tuple[Path, ...], overrides: tuple[str, ...]) -> list[Scenario]:
    from sim.scenario.loader import load_default, load_scenario

    if not paths:
        return [load_default(overrides)]
    files = [f for path in paths for f in _scenario_files(path)]
    if not files:
        raise BadInput(f"{', '.join(map(str, paths))}: no scenario files (*.yaml, *.yml) "
                       "found")
    return [load_scenario(f, overrides) for f in files]


def _seed(scenario: Scenario, seed: int | None) -> int:
    return scenario.seed if seed is None else seed


def _run_one(scenario: Scenario, seed: int | None, target: Path, quiet: bool,
             html: bool = True) -> dict[str, Any]:
    from sim.drills.run import run_drill
    from sim.results.writer import write_run

    result = run_drill(scenario, seed)
    doc = write_run(result, target, html=html)
    if not quiet:
        _print_run(doc, target, scenario)
    return doc


def _print_run(doc: dict[str, Any], target: Path, scenario: Scenario | None) -> None:
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


@cli.command("sweep")
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@click.option("--runs", type=click.IntRange(min=1, max=MAX_RUNS),
              help="Seeds per grid point (default: the scenario's gate.runs, 100).")
@click.option("--vary", multiple=True, metavar="KEY.PATH=V1,V2,...",
              help="Vary a field over values (YAML, comma-separated); repeat for a grid.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override any scenario field, as for drill run.")
@click.option("--seed", type=SEED,
              help="First seed; run i uses seed+i (default: the scenario's own seed).")
@_executor_options
@click.option("--out", type=click.Path(path_type=Path),
              help="Output directory (default results/<scenario>/sweep-<YYYYmmdd-HHMMSS>/).")
@click.option("--no-html", is_flag=True, help="Skip report.html and its figures.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the sweep document as JSON (a list of one).")
def sweep_cmd(scenario: Path | None, runs: int | None, vary: tuple[str, ...],
              overrides: tuple[str, ...], seed: int | None, jobs: int | None,
              dask: str | None, out: Path | None, no_html: bool, as_json: bool) -> None:
    """Monte Carlo sweep of SCENARIO (default: the embedded drill) over seeds and a grid.

    Prints p50/p90/p95/max of each metric and the probability of meeting its target (95 %
    Wilson score interval), overall and per value of each varied parameter; writes
    sweep.json, runs.csv and report.html. The same sweep gives the same numbers whatever
    --jobs or --dask.
    """
    from sim.sweeps.report import render_terminal, write_sweep
    from sim.sweeps.sweep import parse_vary, plan_sweep

    loaded = _load_all((scenario,) if scenario else (), overrides)
    if len(loaded) > 1:
        raise BadInput(f"{scenario}: drill sweep takes one scenario file, not a directory")
    base = loaded[0]
    axes = [parse_vary(v) for v in vary]
    plan = plan_sweep(base, runs or base.gate.runs, axes, seed, str(scenario or "<embedded>"))
    target = out or Path("results") / plan.name / f"sweep-{_stamp()}"
    check_out_dir(target, "--out")
    try:
        (doc, rows, execution, _), = _run_sweeps([plan], jobs, dask, quiet=as_json)
    except Interrupted as stop:
        _keep_finished(plan, stop, target)
    write_sweep(plan, doc, rows, target, html=not no_html, execution=execution)
    if as_json:
        _echo_json([doc])
    else:
        click.echo(render_terminal(doc, execution, str(target)))


def _keep_finished(plan: Any, stop: Interrupted, target: Path) -> NoReturn:
    """Write an interrupted sweep's finished runs (``"complete": false``); exit 130."""
    from sim.sweeps.report import write_partial_sweep

    write_partial_sweep(plan, stop.rows, target)
    click.echo(f"drill sweep: {stop}; the finished runs are in {target}/sweep.json "
               '("complete": false) and runs.csv', err=True)
    sys.exit(EXIT_INTERRUPTED)


def _run_sweeps(plans: list[Any], jobs: int | None, dask: str | None, quiet: bool,
                lines: bool = True) -> list[tuple[dict[str, Any], list[Any], str, float]]:
    """Run each plan on one executor under one progress bar; (doc, rows, how it ran, wall
    seconds) per plan. Off a terminal, each finished grid point prints a line as it
    finishes (on stdout; on stderr under ``--json``, whose stdout is the document)."""
    import time

    from sim.progress import line_sink, progress_bar
    from sim.sweeps.executors import executor_for
    from sim.sweeps.report import point_line
    from sim.sweeps.sweep import collect, sweep_document

    executor = executor_for(jobs, dask)
    emit = line_sink(sys.stderr if quiet else sys.stdout) if lines else None
    began = time.perf_counter()
    out = []
    try:
        with progress_bar(sum(p.total for p in plans), "drill", enabled=not quiet) as advance:
            for plan in plans:
                start = time.perf_counter()
                done = None if emit is None else (
                    lambda point, rows, plan=plan: emit(
                        point_line(plan, point, rows, time.perf_counter() - began)))
                rows = collect(plan, executor, advance, point_done=done)
                wall = time.perf_counter() - start
                out.append((sweep_document(plan, rows), rows,
                            f"{executor.name}, {wall:.1f} s wall, {plan.total / wall:.0f} runs/s",
                            wall))
    finally:
        executor.close()
    return out


@cli.command("check")
@click.argument("scenarios", nargs=-1, type=click.Path(path_type=Path))
@click.option("--baseline", type=click.Path(path_type=Path),
              help="Baseline JSON from drill baseline; without it only pass rates are gated.")
@click.option("--runs", type=click.IntRange(min=1, max=MAX_RUNS),
              help="Seeds per scenario (default: each scenario's gate.runs).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a field in every scenario.")
@_executor_options
@click.option("--junit", type=click.Path(path_type=Path),
              default=Path("results/check/junit.xml"), show_default=True,
              help="Where to write the JUnit XML report.")
@click.option("--summary", type=click.Path(path_type=Path),
              default=Path("results/check/summary.md"), show_default=True,
              help="Where to write the Markdown summary (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("results/check"),
              show_default=True, help="Where each scenario's sweep report goes (<out>/<name>/).")
@click.option("--no-html", is_flag=True, help="Skip the sweeps' report.html and figures.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the verdicts as JSON (a list, one per scenario).")
def check_cmd(scenarios: tuple[Path, ...], baseline: Path | None, runs: int | None,
              overrides: tuple[str, ...], jobs: int | None, dask: str | None, junit: Path,
              summary: Path, out: Path, no_html: bool, as_json: bool) -> None:
    """The CI gate: sweep SCENARIOS (default: ./scenarios) and judge them.

    Fails (exit 1) when a target is met in fewer runs than the scenario's
    gate.min_pass_rate requires, or a metric's p95 is worse than the baseline's by more
    than gate.p95_tolerance. Writes JUnit XML and a Markdown summary.
    """
    from sim.sweeps.gate import check_json, check_screen, judge, junit_xml, markdown, read_baseline
    from sim.sweeps.report import write_sweep
    from sim.sweeps.sweep import plan_sweep

    base = read_baseline(baseline) if baseline else None
    loaded = _load_all(scenarios or (Path("scenarios"),), overrides)
    plans = [plan_sweep(s, runs or s.gate.runs) for s in loaded]
    for s in loaded:
        check_out_dir(out / s.name, "--out")
    check_out_file(junit, "--junit")
    check_out_file(summary, "--summary")
    checks = []
    for s, plan, (doc, rows, execution, wall) in zip(
            loaded, plans, _run_sweeps(plans, jobs, dask, quiet=as_json), strict=True):
        write_sweep(plan, doc, rows, out / s.name, html=not no_html, execution=execution)
        checks.append(judge(s, doc, base))
        checks[-1].seconds = wall
    label = str(baseline) if baseline else None
    for path, text in ((junit, junit_xml(checks)), (summary, markdown(checks, label))):
        write_file(path, text)
    if as_json:
        _echo_json([check_json(c) for c in checks])
    else:
        click.echo(check_screen(checks, junit, summary, label))
    sys.exit(0 if all(c.passed for c in checks) else 1)


@cli.command("baseline")
@click.argument("scenarios", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("results/baseline.json"),
              show_default=True,
              help="Baseline file; scenarios already in it and not swept here are kept.")
@click.option("--runs", type=click.IntRange(min=1, max=MAX_RUNS),
              help="Seeds per scenario (default: each scenario's gate.runs).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a field in every scenario.")
@_executor_options
def baseline_cmd(scenarios: tuple[Path, ...], out: Path, runs: int | None,
                 overrides: tuple[str, ...], jobs: int | None, dask: str | None) -> None:
    """Sweep SCENARIOS (default: ./scenarios) and record their p95s and pass rates."""
    from sim.sweeps.gate import baseline_entry, merge_baseline
    from sim.sweeps.sweep import plan_sweep

    loaded = _load_all(scenarios or (Path("scenarios"),), overrides)
    plans = [plan_sweep(s, runs or s.gate.runs) for s in loaded]
    check_out_file(out, "--out")
    results = _run_sweeps(plans, jobs, dask, quiet=False)
    entries = {s.name: baseline_entry(s, doc) for s, (doc, *_) in
               zip(loaded, results, strict=True)}
    merged = merge_baseline(out, entries)
    write_file(out, json.dumps(merged, indent=2, sort_keys=True) + "\n")
    from sim.results.markdown import LABELS, fmt_value

    for name, entry in entries.items():
        p95 = ", ".join(f"{LABELS[m][0].lower()} "
                        + ("never" if v["p95"] is None else fmt_value(m, v["p95"]).split(" (")[0])
                        for m, v in entry["metrics"].items())
        click.echo(f"{name:<32} {entry['runs']} runs; p95: {p95 or 'nothing measured'}")
    click.echo(f"baseline written to {out}")


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


@cli.command("validate")
@click.argument("scenarios", nargs=-1, type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a field in every scenario, as for drill run.")
def validate_cmd(scenarios: tuple[Path, ...], overrides: tuple[str, ...]) -> None:
    """Check SCENARIOS (files or directories; none: the embedded drill) without running
    them: exit 0 when every one is valid, 2 (one line naming the file and field) if not."""
    for s in _load_all(scenarios, overrides):
        click.echo(f"ok  {s.name}")


@cli.command("list")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def list_cmd(directory: Path | None) -> None:
    """The scenarios in DIRECTORY, one line each (default: ./scenarios if there is one,
    else the catalog beside the installed package, else the embedded default drill)."""
    from sim.scenario.loader import load_scenario

    folder = directory or _catalog()
    files = _scenario_files(folder) if folder.is_dir() else []
    if not files:
        raise BadInput(f"{folder}: no scenario files (*.yaml, *.yml) found")
    for path in files:
        s = load_scenario(path)
        first = s.description.strip().splitlines()[0] if s.description.strip() else ""
        click.echo(f"{s.name:<36} {s.responder.path:<22} {first}")


def _catalog() -> Path:
    """Where ``drill list`` looks by default: ./scenarios, the repository's catalog beside
    the package (a source checkout or an editable install), the embedded default."""
    package = Path(__file__).resolve().parent
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
        _echo_json([doc])
    else:
        _print_run(doc, folder, _saved_scenario(folder))
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
    from sim.scenario.loader import load_default, load_scenario
    from sim.serve import build_services, serve

    scenario = load_scenario(scenario_path) if scenario_path else load_default()
    clock = WallClock(speed=speed)  # real clients compare our timestamps with their own now
    workdir = (env_file.parent if env_file else Path.cwd()) / ".drill-serve"
    services = build_services(scenario, clock, workdir)
    asyncio.run(serve(services, clock, host, port_base, env_file,
                      lambda text: click.echo(text, nl=True)))
    click.echo("drill serve: stopped")


cli.add_command(calibrate_cmd)  # drill calibrate: sim.calibrate.command


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
        if _OPTIONS["debug"]:
            import traceback

            traceback.print_exception(exc)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
