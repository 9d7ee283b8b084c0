"""The CI and deploy pipeline a push to main triggers, driven by the clock (no SimPy).

The bare remote's ``post-receive`` hook appends every pushed ref to a queue file (see
``sim.world.apprepo``); that is the push webhook. ``CIPipeline.poll()`` reads it and moves each
push to main through the build lifecycle::

    queued → running → passed → deployed | deploy_failed
                     → failed

A build waits for one of ``runners`` free runners (first come, first served), runs for a
time drawn from ``build_time`` (install, lint, tests), then inspects the commit with real
git (``git show <sha>:package.json`` for the version; ``ContactsPageNew`` routed from
``App.tsx`` for ``hasRedesign``) and creates a production deployment on Vercel with the
real API call (``POST /v13/deployments`` with ``gitSource`` and the ``github*`` meta).

Two build times are modelled, one after the other: the CI's (checks that must pass
before anything deploys) and Vercel's own queue and build, which the fake draws when the
deployment is created. A plain Vercel Git integration with no gating CI is
``build_time=lambda: 0.0`` with enough runners: the deployment is created at push time.

Times are exact though polls come once a tick: the hook stamps each push with the
pusher's commit date, a build starts when its runner frees up, and ``next_event_at()``
tells the host when the next build finishes so it can poll right then.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakes.common.clock import Clock, from_client_time, from_iso
from rollout.clients.errors import VendorError
from rollout.clients.vercel import VercelAPI
from rollout.rollback.git import Git, GitError

ZERO_SHA = "0" * 40
NEW_PAGE = "src/pages/ContactsPageNew.tsx"

#: (state, event) → next state of a build.
BUILD_TRANSITIONS: dict[tuple[str, str], str] = {
    ("queued", "start"): "running",
    ("running", "pass"): "passed",
    ("running", "fail"): "failed",
    ("passed", "deploy"): "deployed",
    ("passed", "deploy_error"): "deploy_failed",
}


@dataclass
class Build:
    """One CI run for a commit pushed to main; times are virtual seconds."""

    number: int
    sha: str
    before: str
    ref: str
    queued_at: float
    state: str = "queued"
    runner: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    fails: bool = False
    version: str | None = None
    has_redesign: bool | None = None
    deploy_requested_at: float | None = None
    deployment_id: str | None = None
    error: str | None = None
    wall_stamped: bool = False  # pushed from a shell with no drill clock (a person's)

    def move(self, event: str) -> None:
        """Apply ``event``; raises ValueError when the lifecycle does not allow it."""
        try:
            self.state = BUILD_TRANSITIONS[(self.state, event)]
        except KeyError:
            raise ValueError(f"a {self.state} build cannot {event}") from None

    def record(self) -> dict[str, Any]:
        """The build as a journal/report record (JSON-ready)."""
        wait = None if self.started_at is None else self.started_at - self.queued_at
        took = None if self.finished_at is None or self.started_at is None \
            else self.finished_at - self.started_at
        return {"build": self.number, "sha": self.sha, "ref": self.ref, "state": self.state,
                "queued_at": self.queued_at, "started_at": self.started_at,
                "finished_at": self.finished_at, "queue_wait_s": wait, "build_s": took,
                "runner": self.runner, "version": self.version,
                "has_redesign": self.has_redesign,
                "deploy_requested_at": self.deploy_requested_at,
                "deployment_id": self.deployment_id, "error": self.error,
                **({"wall_stamped": True} if self.wall_stamped else {})}


@dataclass(frozen=True)
class CIEvent:
    """A build changed state: ``kind`` (``ci_queued``, ``ci_started``, …) at ``at``."""

    kind: str
    at: float
    build: dict[str, Any]


@dataclass
class CIPipeline:
    """The CI of the app's repository, deploying main to ``project`` on Vercel.

    ``remote`` is the bare repository the hook runs in, ``queue`` the hook's file,
    ``vercel`` the API client (over the drill's in-process transport). ``build_time`` and
    ``build_fails`` are samplers, drawn once per build in start order.
    """

    clock: Clock
    remote: Path
    queue: Path
    vercel: VercelAPI
    project: str
    runners: int = 1
    build_time: Callable[[], float] = lambda: 120.0
    build_fails: Callable[[], bool] = lambda: False
    branch: str = "main"
    git_source: dict[str, str] = field(
        default_factory=lambda: {"type": "github", "org": "contacts", "repo": "contacts-web"})
    builds: list[Build] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.runners < 1:
            raise ValueError("runners must be >= 1")
        self._free_at = [float("-inf")] * self.runners
        self._offset = 0
        self._read_at = float("-inf")
        self._unreported: list[Build] = []
        self._git = Git(self.remote)

    def poll(self) -> list[CIEvent]:
        """Take in new pushes, start and finish what is due by now; the events, in order."""
        now = self.clock.now()
        self._take_pushes(now)
        events = [CIEvent("ci_queued", b.queued_at, b.record()) for b in self._unreported]
        self._unreported = []
        events += self._start_due(now)
        events += self._finish_due(now)
        return events

    def next_event_at(self) -> float | None:
        """When a build next starts or finishes (now, after a new push); None when idle."""
        self._take_pushes(self.clock.now())
        times = [b.finished_at for b in self.builds
                 if b.state == "running" and b.finished_at is not None]
        waiting = self._waiting()
        if waiting:
            times.append(max(waiting[0].queued_at, min(self._free_at)))
        return min(times) if times else None

    def records(self) -> list[dict[str, Any]]:
        """Every build so far, oldest first, for the report."""
        return [b.record() for b in self.builds]

    # ---- the webhook -----------------------------------------------------------------

    def _take_pushes(self, now: float) -> None:
        """Queue a build for each push to main the hook appended since the last read."""
        with self.queue.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        # A push first seen now happened after the previous read: never earlier than that.
        floor, self._read_at = self._read_at, now
        for line in complete.decode("utf-8").splitlines():
            build = self._build_for(line, floor, now)
            if build is not None:
                self.builds.append(build)
                self._unreported.append(build)

    def _build_for(self, line: str, floor: float, now: float) -> Build | None:
        old, new, ref, pushed_at = ([*line.split(" ", 3), ""])[:4]
        if ref != f"refs/heads/{self.branch}" or new == ZERO_SHA:
            return None  # other branches, tags and deletions deploy nothing
        wall = pushed_at.startswith("@")
        try:  # a wall stamp maps as a real client's does (a game day's clock is a wall's)
            at = from_client_time(self.clock, float(pushed_at[1:])) if wall \
                else from_iso(self.clock, pushed_at)
        except ValueError:
            at = now
        return Build(len(self.builds) + 1, new, old, ref, min(max(at, floor), now),
                     wall_stamped=wall)

    # ---- runners -----------------------------------------------------------------------

    def _waiting(self) -> list[Build]:
        return [b for b in self.builds if b.state == "queued"]

    def _start_due(self, now: float) -> list[CIEvent]:
        events = []
        for build in self._waiting():  # first come, first served
            runner = min(range(self.runners), key=lambda r: (self._free_at[r], r))
            start = max(build.queued_at, self._free_at[runner])
            if start > now:
                break
            build.move("start")
            build.runner, build.started_at = runner, start
            build.finished_at = start + max(0.0, float(self.build_time()))
            build.fails = bool(self.build_fails())
            self._free_at[runner] = build.finished_at
            events.append(CIEvent("ci_started", start, build.record()))
        return events

    def _finish_due(self, now: float) -> list[CIEvent]:
        due = sorted((b for b in self.builds if b.state == "running"
                      and b.finished_at is not None and b.finished_at <= now),
                     key=lambda b: (b.finished_at, b.number))
        events = []
        for build in due:
            self._check(build)
            events.append(CIEvent(f"ci_{build.state}", build.finished_at or now, build.record()))
            if build.state == "passed":
                self._deploy(build, now)
                events.append(CIEvent(f"ci_{build.state}", now, build.record()))
        return events

    # ---- the commit and the deployment -------------------------------------------------

    def _check(self, build: Build) -> None:
        try:
            build.version = str(json.loads(self._git.out("show", f"{build.sha}:package.json"))
                                ["version"])
            build.has_redesign = self._has_redesign(build.sha)
        except (GitError, ValueError, KeyError) as exc:
            build.error = f"cannot read the commit: {exc}"
            build.fails = True
        if build.fails and build.error is None:
            build.error = 'Process completed with exit code 1 ("npm test")'
        build.move("fail" if build.fails else "pass")

    def _has_redesign(self, sha: str) -> bool:
        paths = self._git.out("ls-tree", "-r", "--name-only", sha).splitlines()
        if NEW_PAGE not in paths:
            return False
        return "ContactsPageNew" in self._git.out("show", f"{sha}:src/App.tsx")

    def _deploy(self, build: Build, now: float) -> None:
        subject, author = self._git.out("show", "-s", "--format=%s%x00%an", build.sha).split("\0")
        branch = build.ref.removeprefix("refs/heads/")
        build.deploy_requested_at = now
        try:
            created = self.vercel.call("POST", "/v13/deployments", json={
                "name": self.git_source["repo"], "project": self.project,
                "target": "production",
                "gitSource": {**self.git_source, "ref": branch, "sha": build.sha},
                "meta": {"githubCommitSha": build.sha, "githubCommitRef": branch,
                         "githubCommitMessage": subject, "githubCommitAuthorName": author,
                         "githubCommitOrg": self.git_source["org"],
                         "githubCommitRepo": self.git_source["repo"],
                         "version": build.version or "",
                         "hasRedesign": json.dumps(bool(build.has_redesign))}})
        except VendorError as exc:
            build.error = str(exc)
            build.move("deploy_error")
            return
        build.deployment_id = str(created["id"])
        build.move("deploy")
