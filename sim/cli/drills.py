"""``drill run``, ``drill sweep``, ``drill check``, ``drill baseline``, ``drill validate``:
the commands that run drills."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from sim.cli.group import SEED, cli, echo_json, executor_options, load_all, print_run
from sim.errors import EXIT_INTERRUPTED, BadInput, Interrupted
from sim.outdir import check_out_dir, check_out_file, mark_latest, run_dir, write_file
from sim.scenario.limits import MAX_RUNS

if TYPE_CHECKING:
    from sim.scenario.model import Scenario

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
@executor_options
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as a JSON list.")
@click.option("--no-html", is_flag=True, help="Skip report.html and its figures (faster).")
def run_cmd(scenarios: tuple[Path, ...], seed: int | None, out: Path | None,
            overrides: tuple[str, ...], runs: int | None, jobs: int | None, dask: str | None,
            as_json: bool, no_html: bool) -> None:
    """Run drills: SCENARIO files or directories (none: the embedded default drill)."""
    loaded = load_all(scenarios, overrides)
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
        echo_json(docs)
    elif len(docs) > 1:
        from sim.results.markdown import catalog_table

        click.echo(catalog_table(docs))
    sys.exit(0 if all(d["passed"] for d in docs) else 1)


def _sweeper(jobs: int | None, dask: str | None) -> Any:
    return lambda plans, quiet: _run_sweeps(plans, jobs, dask, quiet, lines=False)


def _seed(scenario: Scenario, seed: int | None) -> int:
    return scenario.seed if seed is None else seed


def _run_one(scenario: Scenario, seed: int | None, target: Path, quiet: bool,
             html: bool = True) -> dict[str, Any]:
    from sim.drills.run import run_drill
    from sim.results.writer import write_run

    result = run_drill(scenario, seed)
    doc = write_run(result, target, html=html)
    if not quiet:
        print_run(doc, target, scenario)
    return doc


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
@executor_options
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

    loaded = load_all((scenario,) if scenario else (), overrides)
    if len(loaded) > 1:
        raise BadInput(f"{scenario}: drill sweep takes one scenario file, not a directory")
    base = loaded[0]
    axes = [parse_vary(v) for v in vary]
    plan = plan_sweep(base, runs or base.gate.runs, axes, seed, str(scenario or "<embedded>"))
    target = out or Path("results") / plan.name / f"sweep-{_stamp()}"
    check_out_dir(target, "--out")
    try:
        (doc, table, execution, _), = _run_sweeps([plan], jobs, dask, quiet=as_json)
    except Interrupted as stop:
        _keep_finished(plan, stop, target)
    write_sweep(plan, doc, table, target, html=not no_html, execution=execution)
    if as_json:
        echo_json([doc])
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
                lines: bool = True) -> list[tuple[dict[str, Any], Any, str, float]]:
    """Run each plan on one executor under one progress bar; (doc, RunTable, how it ran, wall
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
                    lambda point, table, plan=plan: emit(
                        point_line(plan, point, table, time.perf_counter() - began)))
                table = collect(plan, executor, advance, point_done=done)
                wall = time.perf_counter() - start
                out.append((sweep_document(plan, table), table,
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
@executor_options
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
    loaded = load_all(scenarios or (Path("scenarios"),), overrides)
    plans = [plan_sweep(s, runs or s.gate.runs) for s in loaded]
    for s in loaded:
        check_out_dir(out / s.name, "--out")
    check_out_file(junit, "--junit")
    check_out_file(summary, "--summary")
    checks = []
    for s, plan, (doc, table, execution, wall) in zip(
            loaded, plans, _run_sweeps(plans, jobs, dask, quiet=as_json), strict=True):
        write_sweep(plan, doc, table, out / s.name, html=not no_html, execution=execution)
        checks.append(judge(s, doc, base))
        checks[-1].seconds = wall
    label = str(baseline) if baseline else None
    for path, text in ((junit, junit_xml(checks)), (summary, markdown(checks, label))):
        write_file(path, text)
    if as_json:
        echo_json([check_json(c) for c in checks])
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
@executor_options
def baseline_cmd(scenarios: tuple[Path, ...], out: Path, runs: int | None,
                 overrides: tuple[str, ...], jobs: int | None, dask: str | None) -> None:
    """Sweep SCENARIOS (default: ./scenarios) and record their p95s and pass rates."""
    from sim.sweeps.gate import baseline_entry, merge_baseline
    from sim.sweeps.sweep import plan_sweep

    loaded = load_all(scenarios or (Path("scenarios"),), overrides)
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
    for s in load_all(scenarios, overrides):
        click.echo(f"ok  {s.name}")
