"""The architecture is a checked contract: layering, purity, no cycles, small modules.

The contracts live in pyproject.toml (``[tool.importlinter]``) and are checked by
import-linter over the real import graph; these tests run them in the suite and show
that a violating import would fail the build.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rollout", "fakes", "sim")
MAX_MODULE_LINES = 400


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the checkout at ``root`` (its pyproject.toml, its packages)."""
    code = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run([sys.executable, "-c", code, "--no-cache"], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin",
                               "COLUMNS": "1000"},  # one line per contract
                          capture_output=True, text=True, timeout=120)


def test_every_layering_contract_is_kept() -> None:
    """rollout imports neither sim nor fakes, fakes import no sim, backends load no web
    framework, sim is layered CLI → sweeps/serve → drills → results → world → scenario,
    and no two sibling modules or packages import each other in a loop."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def _copy_checkout(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("rollout/release/flags.py", "import sim.journal", "rollout is the logic under test"),
    ("fakes/vercel/backend.py", "import fastapi", "a fake's backend is a pure state machine"),
    ("sim/world/traffic.py", "import sim.drills.run", "the harness in layers"),
    ("sim/results/metrics.py", "import sim.results.writer", "no import cycles"),
])
def test_a_violating_import_breaks_the_build(tmp_path: Path, module: str, line: str,
                                             contract: str) -> None:
    """Adding one import that breaks the architecture makes the check fail, naming the
    contract it breaks."""
    checkout = _copy_checkout(tmp_path)
    target = checkout / module
    target.write_text(target.read_text() + f"\n{line}  # a deliberate violation\n")
    result = lint_imports(checkout)
    assert result.returncode != 0
    verdicts = [row for row in result.stdout.splitlines() if row.startswith(contract)]
    assert verdicts and verdicts[0].endswith("BROKEN"), result.stdout


def test_no_module_holds_more_than_one_concepts_worth_of_lines() -> None:
    """A module stays at a few hundred lines at most (STYLE.md 1): none over 400."""
    too_long = {str(path.relative_to(ROOT)): n
                for name in PACKAGES for path in (ROOT / name).rglob("*.py")
                if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert too_long == {}
