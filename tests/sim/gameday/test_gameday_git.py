"""A game day on the git path: a person reverts with real git, and the drill's CI deploys it.

``critical-bug-git-revert`` (runbook Option C) at ×300. The scripted person waits for the
page, acknowledges it through PagerDuty's Events API, clones the app's bare origin the env
file names (``DRILL_APP_REPO``), ``git revert``s the deployment commit and pushes to main
from an ordinary shell (no drill clock: git stamps the push by the wall). The rule: the
push is the decision, stamped within the CI's one-second poll of when the script pushed
on the game day's clock; it is the call that rolled back, with its source; recovery comes
only after the CI built and deployed the revert, and the reported times are the markers'.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from sim.gameday.host import REPO_ENV, GamedayHost
from sim.gameday.runner import GamedayOptions, run_gameday
from sim.scenario.loader import load_scenario
from tests.sim.gameday.test_gameday import _ack_page, _state, _wait_for_page

SCENARIO = Path(__file__).parents[3] / "scenarios" / "critical-bug-git-revert.yaml"
FAST = ("start=2026-01-25T14:40:00Z", "faults.0.at=20m", "horizon=1h30m",
        "incident.monitoring_period=10m")
POLL = 1.0  # sim.gameday.drill.GIT_POLL_S
LAG = 1.0  # the view's clock lags the live one by at most the CI's poll


def _git(*args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(["git", "-c", "user.name=On Call", "-c", "user.email=oncall@example",
                           *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def _person(host: GamedayHost, tmp: Path, seen: dict[str, Any]) -> None:
    env = host.env
    seen["host"] = host
    _ack_page(env, _wait_for_page(env))
    _git("clone", "--quiet", env[REPO_ENV], str(tmp / "app"), cwd=tmp)
    _git("revert", "--no-edit", "v2.0.0", cwd=tmp / "app")
    seen["before_push"] = _state(env)["now_s"]
    _git("push", "--quiet", "origin", "main", cwd=tmp / "app")
    seen["after_push"] = _state(env)["now_s"]
    seen["pushed"] = _git("rev-parse", "HEAD", cwd=tmp / "app").strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not on PATH")
def test_a_persons_git_revert_is_the_decision_and_ci_deploys_it(tmp_path: Path) -> None:
    """The push is the decision (within the CI's poll) and the call that rolled back;
    users recover only once the CI has built and deployed the revert."""
    seen: dict[str, Any] = {}

    def person(host: GamedayHost) -> None:
        threading.Thread(target=_person, args=(host, tmp_path, seen), daemon=True).start()

    scenario = load_scenario(SCENARIO, FAST)
    doc = run_gameday(scenario, tmp_path / "out", GamedayOptions(speed=300, status_every_s=0),
                      on_ready=person)
    assert "after_push" in seen, "the scripted person did not finish"
    g = doc["gameday"]
    marks = g["markers_s"]
    assert seen["before_push"] - LAG <= marks["decision"] <= seen["after_push"] + LAG + POLL
    call = g["rollback_call"]
    assert call["service"] == "git" and call["source"] == "git push"
    assert call["path"] == f"refs/heads/main {seen['pushed']}"
    assert g["decision_call"].startswith("git PUSH refs/heads/main")
    drill = seen["host"].drill
    build = next(b for b in drill.world.ci.builds if b.sha == seen["pushed"])
    assert build.wall_stamped and build.state == "deployed"
    assert abs(build.queued_at - marks["decision"]) <= POLL
    assert marks["recovered"] >= build.finished_at > marks["decision"]
    assert doc["metrics"]["time_to_decision_s"] == g["measured"]["time_to_decision_s"]
    assert doc["metrics"]["time_to_rollback_s"] == g["measured"]["time_to_rollback_s"]
    assert g["measured"]["time_to_rollback_s"] == pytest.approx(
        marks["recovered"] - marks["decision"], abs=1e-3)
