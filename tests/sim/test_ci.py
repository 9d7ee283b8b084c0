"""sim.world.ci: a push to main queues a CI build, which deploys the commit to Vercel over HTTP.

The fake Vercel runs in-process (``InProcessTransport``) on a manual clock; CI builds take
120 s on one runner, Vercel queues 10 s and builds 60 s.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fakes.common.clock import ManualClock, WallClock
from fakes.vercel.backend import VercelBackend
from fakes.vercel.router import build_app
from rollout.clients.vercel import VercelAPI
from rollout.rollback.git import Git
from sim.world.apprepo import AppRepo, create_app_repo
from sim.world.ci import CIPipeline
from sim.world.transport import InProcessTransport

TOKEN = "drill_token"
CI_BUILD, VERCEL_QUEUE, VERCEL_BUILD = 120.0, 10.0, 60.0


@dataclass
class Rig:
    clock: ManualClock
    repo: AppRepo
    vercel: VercelBackend
    api: VercelAPI
    project_id: str

    def ci(self, **kwargs: object) -> CIPipeline:
        options: dict[str, object] = {"build_time": lambda: CI_BUILD} | kwargs
        return CIPipeline(self.clock, self.repo.remote, self.repo.queue, self.api,
                          self.project_id, **options)  # type: ignore[arg-type]

    def push(self, message: str, at: float) -> str:
        """Commit an empty change to main at ``at`` and push it; returns its SHA."""
        self.clock.set(at)
        git = self.repo.git(self.clock)
        git.run("commit", "--allow-empty", "-m", message)
        git.run("push", "origin", "main")
        return git.rev("HEAD")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    clock = ManualClock()
    repo = create_app_repo(tmp_path / "app", clock)
    vercel = VercelBackend(clock, token=TOKEN, build_time=lambda: VERCEL_BUILD,
                           queue_time=lambda: VERCEL_QUEUE)
    project = vercel.create_project("contacts-web")
    transport = InProcessTransport({"vercel.drill": build_app(vercel)})
    with httpx.Client(transport=transport) as http:
        yield Rig(clock, repo, vercel, VercelAPI(http, "http://vercel.drill", TOKEN),
                  project.id)
    transport.close()


def test_a_push_to_main_queues_a_build_stamped_with_the_push_time(rig: Rig):
    """The post-receive hook is the webhook: the build is queued at the exact push time."""
    ci = rig.ci()
    sha = rig.push("chore: poke", at=12.25)
    rig.clock.set(15.0)  # polled a little later: the times still are the push's
    kinds = [(e.kind, e.at) for e in ci.poll()]
    assert kinds == [("ci_queued", 12.25), ("ci_started", 12.25)]
    (build,) = ci.builds
    assert (build.sha, build.before, build.ref) == (sha, rig.repo.head, "refs/heads/main")
    assert ci.next_event_at() == 12.25 + CI_BUILD


def test_a_push_from_a_plain_shell_is_stamped_by_the_wall_mapped_onto_the_clock(rig: Rig):
    """A push with no drill clock behind it (a person's shell in a game day: git sets no
    GIT_COMMITTER_DATE) is stamped by the hook with the wall's Unix time, which the CI maps
    as a real client's stamp (``from_client_time``): on a scaled WallClock, the instant
    of the push in virtual seconds, not the time the CI happened to read it."""
    clock = WallClock(speed=60)
    ci = CIPipeline(clock, rig.repo.remote, rig.repo.queue, rig.api, rig.project_id,
                    build_time=lambda: CI_BUILD)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    shell = ["git", "-c", "user.name=On Call", "-c", "user.email=oncall@example"]
    subprocess.run([*shell, "commit", "--allow-empty", "-m", "revert"], cwd=rig.repo.work,
                   env=env, check=True, capture_output=True)
    before = time.time()
    subprocess.run([*shell, "push", "origin", "main"], cwd=rig.repo.work, env=env,
                   check=True, capture_output=True)
    after = time.time()
    time.sleep(0.5)  # 30 virtual seconds later: the poll must not restamp the push
    ci.poll()
    (build,) = ci.builds
    assert build.wall_stamped and build.record()["wall_stamped"] is True
    assert clock.from_wall(before) <= build.queued_at <= clock.from_wall(after)
    assert clock.now() - build.queued_at >= 0.5 * 60 * 0.9


def test_a_drill_push_is_not_marked_wall_stamped(rig: Rig):
    """The drill's own pushes carry its virtual date: no ``wall_stamped`` in their record
    (so a simulated run's journal is what it always was)."""
    ci = rig.ci()
    rig.push("chore: poke", at=3.0)
    ci.poll()
    assert "wall_stamped" not in ci.builds[0].record()


def test_other_branches_and_tags_deploy_nothing(rig: Rig):
    """Only pushes to main trigger the pipeline."""
    ci = rig.ci()
    git = rig.repo.git(rig.clock)
    git.run("push", "origin", "main:refs/heads/feature", "v1.9.0:refs/tags/again")
    assert ci.poll() == [] and ci.builds == [] and ci.next_event_at() is None


def test_a_second_push_waits_for_a_free_runner(rig: Rig):
    """One runner: the second build starts when the first finishes, not when pushed."""
    ci = rig.ci(runners=1)
    rig.push("first", at=0.0)
    ci.poll()
    rig.push("second", at=30.0)
    ci.poll()
    first, second = ci.builds
    assert second.state == "queued" and ci.next_event_at() == CI_BUILD
    rig.clock.set(CI_BUILD)
    ci.poll()
    assert (first.state, second.state) == ("deployed", "running")
    assert second.started_at == CI_BUILD and second.record()["queue_wait_s"] == CI_BUILD - 30.0
    assert second.finished_at == 2 * CI_BUILD


def test_two_runners_build_two_pushes_at_once(rig: Rig):
    """The concurrency limit is the runner count: with two, nobody waits."""
    ci = rig.ci(runners=2)
    rig.push("first", at=0.0)
    rig.push("second", at=30.0)
    ci.poll()
    assert [(b.runner, b.started_at) for b in ci.builds] == [(0, 0.0), (1, 30.0)]


def test_revert_deploys_hasRedesign_false_only_after_ci_and_vercel_builds(rig: Rig):
    """A revert's deployment is created after CI's time, READY after Vercel's queue+build."""
    ci = rig.ci()
    git = rig.repo.git(rig.clock)
    rig.clock.set(100.0)
    git.run("revert", "--no-edit", rig.repo.releases["v2.0.0"])
    git.run("push", "origin", "main")
    revert = git.rev("HEAD")
    ci.poll()
    rig.clock.set(100.0 + CI_BUILD - 0.001)
    ci.poll()
    assert rig.vercel.deployments == {}  # CI has not finished
    rig.clock.set(100.0 + CI_BUILD)
    events = [e.kind for e in ci.poll()]
    assert events == ["ci_passed", "ci_deployed"]
    (build,) = ci.builds
    ready_at = 100.0 + CI_BUILD + VERCEL_QUEUE + VERCEL_BUILD
    rig.clock.set(ready_at - 0.001)
    body = rig.api.get_deployment(str(build.deployment_id))
    assert body["readyState"] == "BUILDING"
    rig.clock.set(ready_at)
    body = rig.api.get_deployment(str(build.deployment_id))
    assert body["readyState"] == "READY" and body["target"] == "production"
    assert body["meta"]["githubCommitSha"] == revert
    assert body["meta"]["hasRedesign"] == "false"
    assert body["meta"]["version"] == "1.9.0"  # the revert undoes the version bump too
    assert rig.vercel.production_deployment(rig.project_id).id == build.deployment_id


def test_the_release_commit_deploys_hasRedesign_true(rig: Rig):
    """The tree decides: a commit routing to ContactsPageNew is a redesign build."""
    ci = rig.ci(build_time=lambda: 0.0)
    rig.push("chore: rebuild 2.0.0", at=5.0)
    ci.poll()
    (build,) = ci.builds
    assert (build.version, build.has_redesign, build.state) == ("2.0.0", True, "deployed")


def test_a_failed_build_deploys_nothing(rig: Rig):
    """A red CI run ends failed, with no deployment."""
    ci = rig.ci(build_fails=lambda: True)
    rig.push("broken", at=0.0)
    ci.poll()
    rig.clock.set(CI_BUILD)
    assert [e.kind for e in ci.poll()] == ["ci_failed"]
    assert ci.builds[0].error and rig.vercel.deployments == {}


def test_a_refused_deployment_is_recorded(rig: Rig):
    """Vercel's error ends the build deploy_failed, with Vercel's message."""
    ci = CIPipeline(rig.clock, rig.repo.remote, rig.repo.queue, rig.api, "no-such-project",
                    build_time=lambda: 0.0)
    rig.push("x", at=0.0)
    assert [e.kind for e in ci.poll()][-1] == "ci_deploy_failed"
    assert "Project not found" in str(ci.builds[0].error)


def test_records_carry_every_time_for_the_report(rig: Rig):
    """Each build's record: queued, started, finished, deployment and its waits."""
    ci = rig.ci()
    rig.push("x", at=3.0)
    rig.clock.set(3.0 + CI_BUILD)
    ci.poll()
    (record,) = ci.records()
    assert record["queued_at"] == 3.0 and record["started_at"] == 3.0
    assert record["finished_at"] == 3.0 + CI_BUILD and record["build_s"] == CI_BUILD
    assert record["deploy_requested_at"] == 3.0 + CI_BUILD
    assert record["deployment_id"] in rig.vercel.deployments


def test_git_runs_sealed_from_the_users_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """No user identity, config or GIT_* variable leaks into a commit."""
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Leaky Person")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    env = Git(tmp_path).env()
    assert env["GIT_AUTHOR_NAME"] != "Leaky Person" and "GIT_DIR" not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["HOME"] == str(tmp_path.parent)
