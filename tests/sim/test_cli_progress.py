"""``drill check``/``drill sweep`` talk while they work when their output is not a
terminal (issue 14), and warn only where their own runs agree."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.sim.drill_cli import ROOT, SCENARIOS, drill

# Three scenarios, a few runs each: the last one takes seconds after the first is done.
CHECKED = ("rollout-phase3-crash", "critical-bug-env-var", "critical-bug-flag-disable")


def test_check_into_a_file_writes_a_line_per_scenario_while_it_runs(tmp_path: Path) -> None:
    """``drill check A B C > log``: A's line is in the log before the process exits."""
    log = tmp_path / "log"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    args = [*(str(SCENARIOS / f"{n}.yaml") for n in CHECKED), "--runs", "3", "--jobs", "1",
            "--no-html", "--out", str(tmp_path / "out"), "--junit", str(tmp_path / "j.xml"),
            "--summary", str(tmp_path / "s.md")]
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "check", *args], cwd=ROOT,
                                env=env, stdout=sink, stderr=subprocess.PIPE, text=True)
        seen_running: list[str] = []
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            lines = log.read_text().splitlines()
            if lines and proc.poll() is None:
                seen_running = lines
                break
            time.sleep(0.02)
        _, err = proc.communicate(timeout=300)
    assert seen_running, f"no line before exit; stderr: {err}"
    assert seen_running[0].startswith(f"{CHECKED[0]}: 3 runs")
    text = log.read_text()
    for name in CHECKED:
        assert sum(line.startswith(f"{name}: 3 runs") for line in text.splitlines()) == 1
    assert proc.returncode in (0, 1), err


def test_check_does_not_warn_never_fires_where_its_runs_detected(tmp_path: Path) -> None:
    """rollout-phase3-crash's closed form (exposure 0 % at the start) says its alert can
    never fire; its runs detect, so no such warning — the cross-check's disagreement
    instead."""
    out = drill("check", str(SCENARIOS / "rollout-phase3-crash.yaml"), "--runs", "2",
                "--jobs", "1", "--no-html", "--out", str(tmp_path / "o"),
                "--junit", str(tmp_path / "j.xml"), "--summary", str(tmp_path / "s.md"))
    assert "can never fire" not in out.out
    assert "can never fire" not in (tmp_path / "s.md").read_text()
    assert "disagrees" in out.out.lower()


def test_run_does_not_warn_never_fires_when_its_alert_fired(tmp_path: Path) -> None:
    """``drill run`` on the same scenario: its alert fires, so the warning is replaced by
    the cross-check's disagreement naming what the analysis assumed."""
    out = drill("run", str(SCENARIOS / "rollout-phase3-crash.yaml"), "--no-html",
                "--out", str(tmp_path / "r"))
    assert "can never fire" not in out.out
    assert "cross-check DISAGREES: time_to_detect_s" in out.out


def test_sweep_prints_a_line_per_grid_point_off_a_terminal(tmp_path: Path) -> None:
    """``drill sweep --vary`` with output to a file or pipe: one line per grid point."""
    out = drill("sweep", str(SCENARIOS / "critical-bug-env-var.yaml"), "--runs", "2",
                "--jobs", "1", "--vary", "world.build_time=60s,10m", "--no-html",
                "--out", str(tmp_path / "s"))
    lines = [ln for ln in out.out.splitlines() if ln.startswith("critical-bug-env-var [")]
    assert [ln.split(":")[0] for ln in lines] == [
        "critical-bug-env-var [world.build_time=60s]",
        "critical-bug-env-var [world.build_time=10m]"]
