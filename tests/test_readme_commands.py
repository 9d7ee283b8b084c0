"""The README's commands run as documented in a fresh clone (issue 14).

Every ``drill …`` line of the README's ``bash`` blocks runs in a ``git clone`` of this
checkout (its committed HEAD), with the clone's own code (``python -m sim.cli``,
``PYTHONPATH`` the clone) and exits with a code the README gives it. What would take
minutes is cut down, and said here: ``--runs N`` becomes ``--runs 2``, ``--runs 2`` is
added to ``drill baseline``/``drill check`` (their default is each scenario's
``gate.runs``), and the catalog directory ``scenarios`` they take becomes a two-scenario
subset. Not run: ``pip install`` (the test runs in the installed environment), ``python
-m pytest -q`` (this suite), and what needs live vendor APIs or a person: the ``drill
serve`` block (live CLIs, tested in ``tests/sim/test_serve.py``), ``drill calibrate`` and
the ``drill run --set @calibrated.yaml`` that reads its overlay (your tokens; on live
fakes in ``tests/sim/test_calibrate.py``), and ``drill gameday`` (people at keyboards; a
scripted person in ``tests/sim/gameday/test_gameday.py``). The CLI table's other
commands (validate, list, show, report, --version) run after them, on the runs they
made.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SUBSET = ("critical-bug-flag-disable.yaml", "rollout-phase3-crash.yaml")
EXITS = {"run": {1}, "sweep": {0}, "baseline": {0}, "check": {0, 1}}  # the README's codes
LIVE = (["serve"], ["calibrate"], ["gameday"])  # not run here: see the module docstring


def documented() -> list[list[str]]:
    """The ``drill`` commands of the README's bash blocks, as argument lists."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            command = line.split("&&")[-1].split("#")[0].strip()
            if command.startswith("drill ") or command == "drill":
                args = shlex.split(command)[1:]
                if args[:1] not in LIVE and "@calibrated.yaml" not in args:
                    commands.append(args)
    return commands


def cheap(args: list[str]) -> list[str]:
    """``args`` cut down as the module docstring says."""
    out = ["2" if prev == "--runs" else a for prev, a in zip(["", *args[:-1]], args, strict=True)]
    if out[:1] in (["baseline"], ["check"]):
        out = [("scenarios-subset" if a == "scenarios" else a) for a in out] + ["--runs", "2"]
    return out


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not on PATH")
    where = tmp_path_factory.mktemp("readme") / "rollout-drill"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(where)], check=True,
                   timeout=120)
    (where / "scenarios-subset").mkdir()
    for name in SUBSET:
        shutil.copy(where / "scenarios" / name, where / "scenarios-subset" / name)
    return where


def drill(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(clone), "TMPDIR": str(clone.parent)}
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_readme_documents_the_commands_this_test_runs() -> None:
    """The parse finds the quick start's ``drill run`` and the sweep/baseline/check lines."""
    assert [c[0] if c else "run" for c in documented()][:1] == ["run"]
    assert {c[0] for c in documented() if c} >= {"sweep", "baseline", "check"}
    assert {c[0] for c in documented() if c} <= set(EXITS)  # each has its README exit codes


def test_every_documented_command_runs_as_documented_in_a_fresh_clone(clone: Path) -> None:
    for args in documented():
        args = args or ["run"]
        done = drill(clone, *cheap(args))
        assert done.returncode in EXITS[args[0]], (args, done.stdout[-2000:], done.stderr)
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, args
        if args == ["run"]:
            _check_quick_start_figures(done.stdout)
    for args, code in ((["validate"], 0), (["validate", "scenarios"], 0), (["list"], 0),
                       (["show", "critical-bug-flag-disable"], 1),
                       (["report", "critical-bug-flag-disable", "--no-html"], 0),
                       (["--version"], 0)):
        done = drill(clone, *args)
        assert done.returncode == code, (args, done.stdout, done.stderr)
    assert (clone / "results" / "critical-bug-flag-disable" / "latest" / "report.md").is_file()


def _check_quick_start_figures(out: str) -> None:
    """The quick start's figures for the default drill at seed 7 are what it prints."""
    said = re.search(r"detected in (\d+) s.*?decides in (\d+) s.*?; ([\d.]+) %\s+of\s+"
                     r"the\s+day's", README, re.S)
    assert said, "the quick start no longer states the default drill's figures"
    detect = re.search(r"Time to detect +([\d.]+) s", out)
    decide = re.search(r"Time to decision +([\d.]+) s", out)
    users = re.search(r"Affected users +([\d.]+) %", out)
    assert detect and decide and users, out
    assert round(float(detect[1])) == int(said[1])
    assert round(float(decide[1])) == int(said[2])
    assert f"{float(users[1]):.1f}" == said[3]
