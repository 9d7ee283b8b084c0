"""rollout.rollback.git: Option C (git revert) and step 5's force push, with real git end to end.

Each test builds the app's repository (``sim.world.apprepo``), the CI that pushes trigger
(``sim.world.ci``: 120 s on one runner) and the fake Vercel (queue 10 s, build 60 s) on a
manual clock. ``drive`` runs a procedure: every manual step takes 20 s, every ``Wait``
passes, and the CI is polled at each moment it announces, as the drill does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.vercel.backend import VercelBackend
from fakes.vercel.router import build_app
from rollout.clients.vercel import VercelAPI
from rollout.rollback.git import force_push_previous_tag, git_revert
from rollout.steps import Manual, Procedure, RollbackFailed
from sim.world.apprepo import PROTECTED, AppRepo, create_app_repo
from sim.world.ci import CIPipeline
from sim.world.transport import InProcessTransport

TOKEN = "drill_token"
DAY = 86400.0
STEP, CI_BUILD, VERCEL_QUEUE, VERCEL_BUILD = 20.0, 120.0, 10.0, 60.0


@dataclass
class Rig:
    clock: ManualClock
    repo: AppRepo
    vercel: VercelBackend
    api: VercelAPI
    project_id: str
    ci: CIPipeline
    manual: list[str] = field(default_factory=list)

    def drive(self, procedure: Procedure) -> dict[str, Any]:
        """Run ``procedure`` in virtual time; raises what it raises."""
        try:
            step = next(procedure)
            while True:
                if isinstance(step, Manual):
                    self.manual.append(step.what)
                self._advance(STEP if isinstance(step, Manual) else step.seconds)
                step = procedure.send(None)
        except StopIteration as stop:
            return dict(stop.value)

    def _advance(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        self.ci.poll()
        while (due := self.ci.next_event_at()) is not None and due <= end:
            self.clock.set(max(due, self.clock.now()))
            self.ci.poll()
        self.clock.set(end)

    def remote_main(self) -> str:
        return self.repo.remote_git().rev("main")


def _rig(root: Path, **repo_options: Any) -> Iterator[Rig]:
    clock = ManualClock()
    repo = create_app_repo(root, clock, **repo_options)
    vercel = VercelBackend(clock, token=TOKEN, build_time=lambda: VERCEL_BUILD,
                           queue_time=lambda: VERCEL_QUEUE)
    project = vercel.create_project("contacts-web")
    for tag, ready_at in (("v1.9.0", -7 * DAY), ("v2.0.0", -DAY)):
        vercel.create_deployment(project.id, ready_at=ready_at, meta={
            "githubCommitSha": repo.releases[tag], "githubCommitRef": "main",
            "version": tag[1:], "hasRedesign": str(tag == "v2.0.0").lower()})
    transport = InProcessTransport({"vercel.drill": build_app(vercel)})
    with httpx.Client(transport=transport) as http:
        api = VercelAPI(http, "http://vercel.drill", TOKEN)
        ci = CIPipeline(clock, repo.remote, repo.queue, api, project.id,
                        build_time=lambda: CI_BUILD)
        yield Rig(clock, repo, vercel, api, project.id, ci)
    transport.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    yield from _rig(tmp_path / "app")


def _revert(rig: Rig, **options: Any) -> Procedure:
    return git_revert(rig.repo.git(rig.clock), rig.api, rig.project_id, "v2.0.0", **options)


def test_revert_removes_the_redesign_and_serves_the_revert_build(rig: Rig):
    """Option C end to end: the revert's tree has no redesign; its READY build is live."""
    facts = rig.drive(_revert(rig))
    revert = facts["revert_sha"]
    assert facts["reverted_sha"] == rig.repo.releases["v2.0.0"]
    assert rig.remote_main() == revert
    remote = rig.repo.remote_git()
    tree = remote.out("ls-tree", "-r", "--name-only", revert).splitlines()
    assert "src/pages/ContactsPageNew.tsx" not in tree
    assert "src/utils/featureFlags.ts" not in tree
    assert remote.out("diff", "v1.9.0", revert) == ""  # back to 1.9.0's tree exactly
    live = rig.vercel.production_deployment(rig.project_id)
    assert live.id == facts["deployment_id"]
    assert live.meta["hasRedesign"] == "false" and live.meta["githubCommitSha"] == revert
    assert facts["promoted"] is True
    assert rig.manual == ["git log --oneline", f"git revert --no-edit {facts['reverted_sha'][:7]}",
                          "git push origin main"]


def test_revert_after_an_instant_rollback_is_ready_but_not_promoted(rig: Rig):
    """Auto-assignment off (an earlier instant rollback): the revert's build stays STAGED."""
    rig.vercel.projects[rig.project_id].auto_assign_production = False
    facts = rig.drive(_revert(rig))
    assert facts["promoted"] is False
    assert rig.vercel.production_deployment(rig.project_id).id != facts["deployment_id"]


def test_revert_takes_steps_then_ci_then_vercel_build(rig: Rig):
    """Time to rollback ≥ three manual steps + CI build + Vercel queue and build."""
    facts = rig.drive(_revert(rig, poll=5.0))
    pushed = 3 * STEP
    ready_at = pushed + CI_BUILD + VERCEL_QUEUE + VERCEL_BUILD
    live = rig.vercel.get_deployment(facts["deployment_id"])
    assert live.ready_at == ready_at
    assert ready_at <= rig.clock.now() < ready_at + 5.0  # noticed at the next poll
    (build,) = rig.ci.builds
    assert (build.queued_at, build.finished_at) == (pushed, pushed + CI_BUILD)


def test_revert_sha_is_deterministic(tmp_path: Path):
    """Same repository, same clock: the revert commit has the same SHA."""
    shas = []
    for name in ("one", "two"):
        for rig in _rig(tmp_path / name):
            shas.append(rig.drive(_revert(rig))["revert_sha"])
    assert shas[0] == shas[1]


def test_push_rejected_by_the_remote_is_reported_and_changes_nothing(rig: Rig):
    """pre-receive refuses: RollbackFailed("git push", remote's message); origin unchanged."""
    rig.repo.protect()
    before = rig.remote_main()
    with pytest.raises(RollbackFailed) as failed:
        rig.drive(_revert(rig))
    assert failed.value.where == "git push"
    assert f"remote: {PROTECTED}" in failed.value.message
    assert "[remote rejected] main -> main (pre-receive hook declined)" in failed.value.message
    assert rig.remote_main() == before
    assert rig.repo.queue.read_text() == "" and rig.ci.poll() == []


def test_conflicting_revert_is_reported_and_aborted(tmp_path: Path):
    """A fix on top of the redesign: the revert conflicts, is aborted, nothing is pushed."""
    for rig in _rig(tmp_path / "app", follow_up_fix=True):
        git = rig.repo.git(rig.clock)
        head = git.rev("HEAD")
        with pytest.raises(RollbackFailed) as failed:
            rig.drive(_revert(rig))
        assert failed.value.where == "git revert"
        assert "CONFLICT (modify/delete): src/pages/ContactsPageNew.tsx" in failed.value.message
        assert "git revert --abort" in failed.value.message
        assert git.rev("HEAD") == head and git.out("status", "--porcelain") == ""
        assert git.run("rev-parse", "--verify", "REVERT_HEAD", check=False).returncode != 0
        assert rig.remote_main() == head and rig.manual[-1].startswith("git revert")


def test_unknown_release_is_reported_at_git_log(rig: Rig):
    """No commit tagged as asked: RollbackFailed("git log")."""
    with pytest.raises(RollbackFailed) as failed:
        rig.drive(git_revert(rig.repo.git(rig.clock), rig.api, rig.project_id, "v3.0.0"))
    assert failed.value.where == "git log" and "v3.0.0" in failed.value.message


def test_failed_vercel_build_is_reported(rig: Rig):
    """The revert's deployment ends in ERROR: RollbackFailed("vercel build")."""
    rig.vercel.build_fails = lambda: True
    with pytest.raises(RollbackFailed) as failed:
        rig.drive(_revert(rig))
    assert failed.value.where == "vercel build" and "ERROR" in failed.value.message


def test_no_deployment_within_timeout_is_reported(rig: Rig):
    """Nothing deploys the push (CI never finishes): the wait gives up at ``timeout``."""
    rig.ci.build_time = lambda: 10 * 3600.0
    with pytest.raises(RollbackFailed) as failed:
        rig.drive(_revert(rig, poll=30.0, timeout=600.0))
    assert failed.value.where == "vercel build" and "after 600 s" in failed.value.message


def test_step5_as_written_pushes_nothing(rig: Rig):
    """`git checkout <tag>` detaches HEAD, so `git push origin main --force` moves nothing."""
    before = rig.remote_main()
    with pytest.raises(RollbackFailed) as failed:
        rig.drive(force_push_previous_tag(rig.repo.git(rig.clock), rig.api, rig.project_id,
                                          "v1.9.0"))
    assert failed.value.where == "git push"
    assert "Everything up-to-date" in failed.value.message
    assert rig.remote_main() == before and rig.ci.poll() == []
    assert rig.manual == ["git checkout v1.9.0", "git push origin main --force"]


def test_step5_pushing_head_deploys_the_previous_version(rig: Rig):
    """`git push origin HEAD:main --force`: origin is 1.9.0, a new build of it goes live."""
    facts = rig.drive(force_push_previous_tag(rig.repo.git(rig.clock), rig.api,
                                              rig.project_id, "v1.9.0", as_written=False))
    assert rig.remote_main() == facts["sha"] == rig.repo.releases["v1.9.0"]
    assert facts["forced_from"] == rig.repo.releases["v2.0.0"]
    live = rig.vercel.production_deployment(rig.project_id)
    assert live.id == facts["deployment_id"] and live.created > 0  # not the seeded 1.9.0
    assert live.meta["hasRedesign"] == "false" and live.meta["version"] == "1.9.0"


def test_step5_force_push_refused_by_the_remote(rig: Rig):
    """receive.denyNonFastForwards (a protected branch): RollbackFailed("git push")."""
    rig.repo.deny_force_push()
    with pytest.raises(RollbackFailed) as failed:
        rig.drive(force_push_previous_tag(rig.repo.git(rig.clock), rig.api, rig.project_id,
                                          "v1.9.0", as_written=False))
    assert failed.value.where == "git push" and "non-fast-forward" in failed.value.message
    assert rig.remote_main() == rig.repo.releases["v2.0.0"]
