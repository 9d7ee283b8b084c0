"""A drill killed or interrupted leaves no result that looks complete, no process and (by
the next start at the latest) no temporary folder; Ctrl-C on a sweep keeps its finished
runs. Real ``drill`` processes, each in its own session and TMPDIR, killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.sim.drill_cli import ROOT, SCENARIOS, session_processes, spawn

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

DB_SCENARIO = str(SCENARIOS / "database-rollback.yaml")  # a drill-db-* folder per run
REPO_SCENARIO = str(SCENARIOS / "critical-bug-git-revert.yaml")  # a drill-repo-* per run


def _until(what: Callable[[], object], timeout: float = 90.0, every: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def _temp_folders(tmpdir: Path) -> list[Path]:
    return sorted(p for p in tmpdir.iterdir() if p.name.startswith(("drill-db-", "drill-repo-")))


def _no_process_left(sid: int, timeout: float = 15.0) -> None:
    _until(lambda: not session_processes(sid), timeout=timeout)


def _next_start_sweeps(tmpdir: Path) -> None:
    """Any drill start removes the folders of processes that are gone."""
    later = spawn("validate", str(SCENARIOS / "staging-drill.yaml"), tmpdir=tmpdir)
    later.communicate(timeout=60)
    assert later.returncode == 0
    assert _temp_folders(tmpdir) == []


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "tmp").mkdir()
    return tmp_path / "tmp", tmp_path / "out"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_run_leaves_no_summary_no_process_and_no_temp_folder(
        dirs: tuple[Path, Path], sig: signal.Signals) -> None:
    """``drill run`` killed mid-run: no summary.json, nothing running; SIGTERM removes its
    temporary database at once (exit 143), SIGKILL's is removed by the next start."""
    tmpdir, out = dirs
    proc = spawn("run", DB_SCENARIO, "--no-html", "--set", "horizon=4d", "--out", str(out),
                 tmpdir=tmpdir)
    _until(lambda: _temp_folders(tmpdir))
    time.sleep(0.5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (143 if sig == signal.SIGTERM else -signal.SIGKILL), err
    assert not (out / "summary.json").exists()
    assert not any(out.parent.glob(".out.partial-*"))
    _no_process_left(proc.pid)
    if sig == signal.SIGTERM:
        assert _temp_folders(tmpdir) == []
    _next_start_sweeps(tmpdir)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_sweep_takes_its_workers_with_it(dirs: tuple[Path, Path],
                                                  sig: signal.Signals) -> None:
    """``drill sweep --jobs 2`` killed while its workers run: the fork server and the
    workers are gone within seconds, no sweep.json, and no temporary folder once the
    next drill starts (SIGTERM: none even before)."""
    tmpdir, out = dirs
    proc = spawn("sweep", DB_SCENARIO, "--runs", "40", "--jobs", "2", "--no-html",
                 "--out", str(out), tmpdir=tmpdir)
    _until(lambda: _temp_folders(tmpdir))
    time.sleep(0.5)
    assert len(session_processes(proc.pid)) >= 3  # the drill, its fork server, workers
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    _no_process_left(proc.pid)
    assert not (out / "sweep.json").exists()
    if sig == signal.SIGTERM:
        assert proc.returncode == 143
        assert _temp_folders(tmpdir) == []
    _next_start_sweeps(tmpdir)


# Runs started before Ctrl-C, so that some have finished and reached the drill: in-process,
# each run's row is kept before the next run starts; a pool of two runs chunks of two
# seeds, so the 7th run starts only after a chunk of two came back (a second for its row
# to cross the pipe).
STARTED_BEFORE_CTRL_C = {"1": (3, 0.0), "2": (7, 1.0)}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_on_a_sweep_keeps_and_reports_the_finished_runs(dirs: tuple[Path, Path],
                                                               jobs: str) -> None:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) after some runs:
    exit 130, sweep.json marked ``"complete": false`` holding exactly the finished runs,
    runs.csv the same rows, no worker or temporary folder left."""
    tmpdir, out = dirs
    proc = spawn("sweep", REPO_SCENARIO, "--runs", "30", "--jobs", jobs, "--no-html",
                 "--out", str(out), tmpdir=tmpdir)
    seen: set[str] = set()
    started, settle = STARTED_BEFORE_CTRL_C[jobs]

    def enough_started() -> bool:
        seen.update(p.name for p in _temp_folders(tmpdir))
        return len(seen) >= started

    _until(enough_started, timeout=240, every=0.02)
    time.sleep(settle)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["complete"] is False and doc["total_runs"] == 30
    assert 1 <= doc["finished_runs"] == len(doc["runs"]) < 30
    assert len((out / "runs.csv").read_text().splitlines()) == doc["finished_runs"] + 1
    assert "interrupted after" in err and err.count("\n") == 1
    _no_process_left(proc.pid)
    assert _temp_folders(tmpdir) == []


def test_results_killed_while_being_written_never_look_complete(tmp_path: Path) -> None:
    """A process SIGKILLed after writing summary.json but before the other files: the
    target folder does not exist (only a hidden ``.partial-`` folder marked INCOMPLETE),
    and the next write beside it removes that folder and publishes a whole result."""
    target = tmp_path / "run"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from sim.outdir import staged_dir
        with staged_dir(Path({str(target)!r}), "summary.json") as stage:
            (stage / "summary.json").write_text('{{"passed": true}}')
            (stage / "series.csv").write_text("t,pageviews\\n0,")
            print("written", flush=True)
            time.sleep(60)
    """)
    with subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
        proc.kill()
    assert not target.exists()
    (partial,) = tmp_path.glob(".run.partial-*")
    assert (partial / "INCOMPLETE").exists()

    from sim.outdir import staged_dir

    with staged_dir(target, "summary.json") as stage:
        (stage / "summary.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in target.iterdir()) == ["summary.json"]
