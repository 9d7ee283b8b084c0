"""Runs you can find and re-read (issue 14): folders named by scenario, seed and time,
``latest``, ``drill show``, ``drill report``, ``drill --version``, ``--json`` always a
list, ``drill list`` from anywhere, and ``drill run --runs N``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from sim.outdir import find_run, mark_latest, run_dir
from sim.sweeps.sample import pass_flags
from tests.sim.drill_cli import ROOT, SCENARIOS, drill

FAST = ("--set", "population.users=2000", "--no-html")


@pytest.fixture
def in_tmp(tmp_path: Path) -> Path:
    """The test's temporary folder as the working directory (runs go to ./results)."""
    here = Path.cwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(here)


def test_a_run_folder_is_named_by_scenario_time_and_seed_and_latest_names_it(
        in_tmp: Path) -> None:
    """``drill run`` with no --out: results/<scenario>/<YYYYmmdd-HHMMSS>-seed<N>/, and
    results/<scenario>/latest points at it."""
    assert drill("run", "--seed", "3", *FAST).code in (0, 1)
    base = in_tmp / "results" / "critical-bug-flag-disable"
    [run] = [p for p in base.iterdir() if p.name != "latest"]
    assert re.fullmatch(r"\d{8}-\d{6}-seed3", run.name)
    assert (base / "latest").resolve() == run.resolve()
    assert (run / "summary.json").is_file() and (run / "scenario.json").is_file()


def test_run_dir_never_reuses_a_folder_taken_in_the_same_second(tmp_path: Path) -> None:
    now = datetime(2026, 1, 25, 14, 0, 0)
    first = run_dir(tmp_path, "x", 7, now)
    first.mkdir(parents=True)
    assert run_dir(tmp_path, "x", 7, now).name == "20260125-140000-seed7-2"


def test_latest_falls_back_to_a_file_naming_the_run_where_symlinks_fail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "x" / "20260125-140000-seed7"
    run.mkdir(parents=True)
    (run / "summary.json").write_text("{}")

    def no_symlinks(*args: object) -> None:
        raise OSError("Operation not permitted")
    monkeypatch.setattr(os, "symlink", no_symlinks)
    mark_latest(run)
    assert (tmp_path / "x" / "latest").read_text().strip() == run.name
    assert find_run(tmp_path / "x") == run


def test_show_reprints_the_summary_and_json_is_always_a_list(in_tmp: Path) -> None:
    """``drill show`` (a scenario name, results/<name>, the folder) re-prints what
    ``drill run`` printed; ``--json`` of run, show and sweep is a list."""
    ran = drill("run", *FAST)
    shown = drill("show", "critical-bug-flag-disable")
    assert shown.code == ran.code and shown.out.splitlines()[0] == ran.out.splitlines()[0]
    as_run = json.loads(drill("run", *FAST, "--json", "--out", "o").out)
    as_shown = json.loads(drill("show", "o", "--json").out)
    assert isinstance(as_run, list) and as_run == as_shown
    swept = json.loads(drill("sweep", "--runs", "2", "--jobs", "1", *FAST, "--out", "s",
                             "--json").out)
    assert isinstance(swept, list) and swept[0]["kind"] == "sweep"


def test_show_of_nothing_is_bad_input(in_tmp: Path) -> None:
    out = drill("show", "no-such-scenario")
    assert out.code == 2 and "no run found" in out.err


def test_report_rerenders_the_same_report_and_refuses_a_run_it_cannot_reproduce(
        in_tmp: Path) -> None:
    """``drill report RUN`` writes report.md again, identical; a folder whose summary.json
    this code does not reproduce is refused (exit 2) and left as it was."""
    drill("run", *FAST, "--out", "r")
    before = (in_tmp / "r" / "report.md").read_text()
    (in_tmp / "r" / "report.md").unlink()
    done = drill("report", "r", "--no-html")
    assert done.code == 0, done.err
    assert (in_tmp / "r" / "report.md").read_text() == before
    doc = json.loads((in_tmp / "r" / "summary.json").read_text())
    doc["metrics"]["time_to_detect_s"] = 1.0
    (in_tmp / "r" / "summary.json").write_text(json.dumps(doc))
    refused = drill("report", "r")
    assert refused.code == 2 and "another summary.json" in refused.err
    assert not (in_tmp / "r" / "report.html").exists()
    doc["gameday"] = {"mode": "gameday"}  # a game day's folder: people, not a model
    (in_tmp / "r" / "summary.json").write_text(json.dumps(doc))
    refused = drill("report", "r", "--no-html")
    assert refused.code == 2 and "a game day's results" in refused.err


def test_report_reproduces_a_run_whose_journal_names_its_temporary_folders(
        in_tmp: Path) -> None:
    """database-rollback journals its temporary database's path (``drill-db-<pid>-…``),
    which differs between processes: not a difference in the run."""
    drill("run", str(SCENARIOS / "database-rollback.yaml"), "--no-html", "--out", "d")
    done = drill("report", "d", "--no-html")
    assert done.code == 0, done.err


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    out = drill("--version")
    assert out.code == 0 and out.out.strip() == f"drill {version('rollout-drill')}"


def test_list_works_from_any_directory_and_lists_yml_files(tmp_path: Path) -> None:
    """Outside the repository ``drill list`` finds the catalog beside the package; given a
    directory it lists ``.yaml`` and ``.yml``."""
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "list"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == len(list(SCENARIOS.glob("*.yaml")))
    shutil.copy(SCENARIOS / "rollout-good.yaml", tmp_path / "a.yml")
    shutil.copy(SCENARIOS / "staging-drill.yaml", tmp_path / "b.yaml")
    listed = drill("list", str(tmp_path))
    assert [line.split()[0] for line in listed.out.splitlines()] == ["rollout-good",
                                                                      "staging-drill"]


def test_help_and_version_import_neither_numpy_simpy_nor_the_fakes() -> None:
    """Start-up imports only what a command needs."""
    code = ("import sys; sys.argv = ['drill', '--help']\n"
            "from sim.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('numpy', 'simpy', 'fakes', 'scipy', 'pydantic')"
            " if m in sys.modules), file=sys.stderr)")
    for flag in ("--help", "--version"):
        proc = subprocess.run([sys.executable, "-c", code.replace("--help", flag)], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert proc.stderr.strip().splitlines()[-1] == "[]", (flag, proc.stderr)


def test_an_incident_drill_and_its_summary_do_not_load_scipy_stats() -> None:
    """A sweep worker imports only what its drills need: an incident drill run to its
    summary never loads scipy.stats (a second and ~60 MB per worker); only the rollout
    drill's statistics, the analytic bounds and the cross-checks load it, on demand."""
    code = ("import sys\n"
            "from sim.drills.run import run_drill\n"
            "from sim.results.writer import summary\n"
            "from sim.scenario.loader import load_default\n"
            "doc = summary(run_drill(load_default(), 1, full_horizon=False))\n"
            "assert doc['metrics']['time_to_rollback_s'] is not None, doc\n"
            "print('scipy.stats' in sys.modules, 'scipy' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_a_pass_the_seeds_often_miss_is_flagged() -> None:
    """The rule: a PASS whose N seeds meet every target in under half of them, or meet a
    target it met less often than the gate asks, is flagged; a FAIL is not."""
    doc = {"passed": True, "seed": 5, "status": {"time_to_detect_s": "pass"}}
    overall = {"runs": 10, "all_targets_met": 4, "metrics": {
        "time_to_detect_s": {"runs": 10, "passed": 4, "pass_rate": 0.4}}}
    flags = pass_flags(doc, overall, {"time_to_detect_s": 0.9})
    assert len(flags) == 2 and "4 of 10 seeds" in flags[0]
    assert pass_flags({**doc, "passed": False}, overall, {"time_to_detect_s": 0.9}) == []
    fine = {"runs": 10, "all_targets_met": 10, "metrics": {
        "time_to_detect_s": {"runs": 10, "passed": 10, "pass_rate": 1.0}}}
    assert pass_flags(doc, fine, {"time_to_detect_s": 0.9}) == []


def test_run_with_runs_prints_pass_rates_and_flags_a_lucky_seed(in_tmp: Path) -> None:
    """``drill run --runs 10`` at a seed that passes (automated responder, seed 5) prints
    P(meet) per target over seeds 5–14 and flags the PASS."""
    out = drill("run", "--set", "responder.mode=automated", "--seed", "5", "--runs", "10",
                "--jobs", "1", "--no-html")
    assert out.code == 0, out.err
    assert "over 10 seeds (5–14" in out.out and "P(meet)" in out.out
    assert "PASSED, but every target is met in only" in out.out
