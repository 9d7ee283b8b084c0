"""The fake Vercel's state: a user, a team, projects, env vars, deployments, the alias.

A pure state machine over an injected clock; no HTTP here (``router.py`` is the HTTP
face). Deployments follow the transition table in ``lifecycle.py``: one created at t,
with queue time q and build time d (both drawn from injected samplers), is BUILDING at
t+q and READY (or ERROR) at t+q+d. Every public method first calls ``_advance()``, which
applies every transition due by now in time order, so the production alias moves at the
exact virtual time even when nobody looked in between. The records live in
``models.py`` and are found through ``directory.py``; env var rules are in ``env.py``,
the production alias's moves in ``alias.py``, build timelines in ``fakes.common.builds``.

Truths the drill rests on:

- A deployment bakes its target's env vars when its build starts (Vite inlines
  ``import.meta.env.VITE_*`` at build time); changing a variable changes nothing served
  until a new build is READY and holds the production alias.
- A READY production deployment takes the production alias automatically, unless an
  instant rollback turned auto-assignment off; ``promote_deployment`` turns it back on.
- Instant rollback and promote swap the alias without a build, ``alias_propagation``
  seconds after the request, tracked in ``project.last_alias_request``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from typing import Any

from fakes.common.builds import Seconds, build_timeline, seconds
from fakes.common.clock import Clock, to_ms
from fakes.vercel.alias import auto_assign, request_alias, swap_alias
from fakes.vercel.directory import Directory
from fakes.vercel.env import ENV_TARGETS, add_env, edit_env, env_for, find_env
from fakes.vercel.errors import BadRequest, Conflict, NotAuthorized, NotFound
from fakes.vercel.lifecycle import (
    Due,
    JobStatus,
    ReadyState,
    Schedule,
    can_fire,
    next_state,
)
from fakes.vercel.models import (
    Deployment,
    DeploymentEvent,
    EnvVar,
    Project,
    Team,
    User,
    check_target,
    digest,
    finite,
    merge_meta,
    meta_strings,
    parse_states,
    target_matches,
)


class VercelBackend:
    """The fake Vercel account: one user, team ``team_drill``, its projects and deployments.

    ``build_time``, ``queue_time`` and ``build_fails`` are samplers (seeded by the caller),
    drawn once per new build; ``alias_propagation`` is how long an alias swap takes:
    seconds, or a sampler drawn once per swap.

    Returned records are the live objects, current as of the last call into the backend:
    a transition that falls due later shows once any method is called again (read
    ``get_deployment(id).state``, not a ``state`` kept from earlier).
    """

    def __init__(self, clock: Clock, token: str = "drill_token",
                 build_time: Callable[[], float] = lambda: 60.0,
                 queue_time: Callable[[], float] = lambda: 0.0,
                 alias_propagation: Seconds = 2.0,
                 build_fails: Callable[[], bool] = lambda: False) -> None:
        self.clock = clock
        self.token = token
        self.build_time = build_time
        self.queue_time = queue_time
        self.alias_propagation = alias_propagation
        self.build_fails = build_fails
        self.reset()

    # ---- control plane -------------------------------------------------------------

    def reset(self) -> None:
        """Forget every project and deployment; ids start over, so runs repeat exactly."""
        self._counters: Counter[str] = Counter()
        self._schedule = Schedule()
        self.user = User("user_drill", "drill", "drill@example.com", "Drill Runner",
                         "team_drill", 0.0)
        self.team = Team("team_drill", "drill", "Drill", 0.0)
        self.directory = Directory()

    @property
    def projects(self) -> dict[str, Project]:
        return self.directory.projects

    @property
    def deployments(self) -> dict[str, Deployment]:
        return self.directory.deployments

    def state(self) -> dict[str, Any]:
        """Everything, JSON-ready, for ``/_fake/state`` and for debugging a drill."""
        self._advance()
        return {
            "now": self.clock.now(),
            "user": asdict(self.user),
            "team": asdict(self.team),
            "projects": [asdict(p) | {"production_assigned_at": finite(p.production_assigned_at)}
                         for p in self.projects.values()],
            "deployments": [asdict(d) for d in self.deployments.values()],
            "pending": [{"at": d.at, "event": d.event, "subject": d.subject}
                        for d in self._schedule.pending()],
        }

    def next_transition_at(self) -> float | None:
        """Virtual time of the next scheduled transition, or None when nothing is pending."""
        self._advance()
        return self._schedule.next_at()

    # ---- account -------------------------------------------------------------------

    def authenticate(self, token: str | None) -> User:
        """The user a bearer token belongs to; raises NotAuthorized for any other token."""
        if token != self.token:
            raise NotAuthorized()
        return self.user

    def get_auth_user(self) -> User:
        return self.user

    def get_team(self, team_id: str) -> Team:
        """The team by id or slug; raises NotFound."""
        if team_id not in (self.team.id, self.team.slug):
            raise NotFound("Team not found")
        return self.team

    # ---- projects and env vars -----------------------------------------------------

    def create_project(self, name: str, env: dict[str, str] | None = None,
                       project_id: str | None = None) -> Project:
        """A new project, its ``env`` set for every target; raises Conflict on a taken name."""
        self._advance()
        pid = project_id or self._new_id("prj_")
        if self.directory.name_taken(name, pid):
            raise Conflict(f"Project {name!r} already exists")
        now = self.clock.now()
        self.directory.add_project(Project(pid, name, now, now))
        for key, value in (env or {}).items():
            self.create_project_env(pid, key, value)
        return self.projects[pid]

    def get_project(self, id_or_name: str) -> Project:
        self._advance()
        return self.directory.project(id_or_name)

    def list_project_envs(self, project_id: str, target: str | None = None) -> list[EnvVar]:
        """The project's variables, oldest first, optionally only those feeding ``target``."""
        self._advance()
        envs = self.directory.project(project_id).env_vars.values()
        return [e for e in envs if target is None or target in e.target]

    def create_project_env(self, project_id: str, key: str, value: str, *,
                           type: str = "encrypted", target: Iterable[str] = ENV_TARGETS,
                           upsert: bool = False) -> EnvVar:
        """Add a variable; with ``upsert`` replace the one holding that key for a target.

        Raises EnvAlreadyExists without ``upsert``, BadRequest on an invalid field.
        """
        self._advance()
        return add_env(self.directory.project(project_id), key, value, type, target, upsert,
                       lambda: self._new_id("env_"), self.clock.now())

    def get_project_env(self, project_id: str, env_id: str) -> EnvVar:
        self._advance()
        return find_env(self.directory.project(project_id), env_id)

    def edit_project_env(self, project_id: str, env_id: str, *, key: str | None = None,
                         value: str | None = None, type: str | None = None,
                         target: Iterable[str] | None = None) -> EnvVar:
        """Change some fields of a variable; raises NotFound, BadRequest, EnvAlreadyExists."""
        self._advance()
        project = self.directory.project(project_id)
        return edit_env(project, find_env(project, env_id), self.clock.now(), key, value,
                        type, target)

    def remove_project_env(self, project_id: str, env_id: str) -> EnvVar:
        """Delete a variable and return it; raises NotFound."""
        self._advance()
        project = self.directory.project(project_id)
        env = find_env(project, env_id)
        del project.env_vars[env.id]
        project.updated = self.clock.now()
        return env

    def project_env(self, project_id: str, target: str = "production") -> dict[str, str]:
        """Key → value of the variables a build for ``target`` would bake in now."""
        self._advance()
        return env_for(self.directory.project(project_id), target)

    def custom_environments(self, project_id: str) -> list[dict[str, Any]]:
        """Custom environments of a project: this fake has none."""
        self._advance()
        self.directory.project(project_id)
        return []

    # ---- deployments ---------------------------------------------------------------

    def create_deployment(self, project_id: str | None, *, target: str | None = "production",
                          meta: dict[str, Any] | None = None,
                          source_deployment_id: str | None = None,
                          ready_at: float | None = None) -> Deployment:
        """Queue a build (or a redeploy of ``source_deployment_id``, copying its meta).

        ``ready_at`` seeds a deployment whose build ends then (usually <= 0, already
        READY) without drawing from the samplers. ``project_id`` may be None for a
        redeploy (the source's project). Raises NotFound or BadRequest.
        """
        self._advance()
        source = self.directory.deployment(source_deployment_id) if source_deployment_id else None
        project = self.directory.deploy_project(project_id, source)
        dep = self._new_deployment(project, check_target(target),
                                   merge_meta(source, meta), source, ready_at)
        self._schedule.add(dep.building_at, "start_build", dep.id)
        self._schedule.add(dep.ready_at, "fail_build" if dep.fails else "finish_build", dep.id)
        self._advance()
        return dep

    def get_deployment(self, id_or_url: str) -> Deployment:
        """A deployment by id, by host, or by a project's production domain; raises NotFound."""
        self._advance()
        return self.directory.deployment(id_or_url)

    def list_deployments(self, project_id: str | None = None, target: str | None = None,
                         state: str | Iterable[str] | None = None, limit: int = 20,
                         since: int | None = None, until: int | None = None,
                         rollback_candidate: bool | None = None,
                         meta: Mapping[str, str] | None = None) -> list[Deployment]:
        """Deployments newest first, at most ``limit`` (1..100), with every ``meta`` pair
        (``vercel ls -m version=2.0.0`` sends ``meta-version=2.0.0``: vercel/vercel
        packages/cli/src/commands/list/index.ts; a deployment without that meta value
        is not listed).

        ``since``/``until`` are Unix ms, exclusive bounds on creation time (Vercel's
        pagination cursors); ``state`` is a list or an "A,B" string of ready states.
        Raises NotFound (project) or BadRequest (state).
        """
        self._advance()
        pool = (self.deployments[i] for i in self.directory.project(project_id).deployment_ids) \
            if project_id else self.deployments.values()
        states = parse_states(state)
        picked = [d for d in pool
                  if target_matches(d, target) and (states is None or d.state in states)
                  and (since is None or self._ms(d.created) > since)
                  and (until is None or self._ms(d.created) < until)
                  and (rollback_candidate is None
                       or d.is_rollback_candidate == rollback_candidate)
                  and _has_meta(d, meta)]
        return self.directory.newest_first(picked)[:min(max(1, limit), 100)]

    def cancel_deployment(self, deployment_id: str) -> Deployment:
        """Cancel a QUEUED or BUILDING deployment; raises NotFound or BadRequest."""
        self._advance()
        dep = self.directory.deployment(deployment_id)
        self._move(dep, "cancel", self.clock.now())
        return dep

    def deployment_events(self, deployment_id: str) -> list[DeploymentEvent]:
        """The states a deployment went through so far, oldest first; raises NotFound."""
        self._advance()
        return list(self.directory.deployment(deployment_id).events)

    def deployment_builds(self, deployment_id: str) -> list[dict[str, Any]]:
        """Build units of a deployment: none are modelled; raises NotFound."""
        self._advance()
        self.directory.deployment(deployment_id)
        return []

    def production_deployment(self, project_id: str) -> Deployment:
        """What the production alias serves now; raises NotFound when it serves nothing.

        The simulation calls this every tick: O(1) unless a transition has fallen due.
        """
        self._advance()
        project = self.projects.get(project_id) or self.directory.project(project_id)
        if project.production_deployment_id is None:
            raise NotFound(f"Project {project.name} has no production deployment")
        return self.deployments[project.production_deployment_id]

    # ---- the production alias --------------------------------------------------------

    def rollback_deployment(self, project_id: str, deployment_id: str,
                            description: str = "") -> None:
        """Instant rollback: point production at an earlier production deployment, no build.

        The swap lands ``alias_propagation`` seconds later; from now on new production
        deployments are not auto-assigned until a promote. Raises NotFound, BadRequest
        (not a READY deployment that served production before) or Conflict (already
        current, or another alias request still in progress).
        """
        self._advance()
        project = self.directory.project(project_id)
        dep = self.directory.deployment_of(project, deployment_id)
        if not dep.is_rollback_candidate:
            raise BadRequest(f"Deployment {dep.id} ({dep.state}) is not eligible for rollback: "
                             "only READY production deployments that served production are")
        request_alias(project, dep, "rollback", self.clock, seconds(self.alias_propagation),
                      self._schedule)
        project.auto_assign_production = False
        project.rollback_description = description or None
        self._advance()

    def promote_deployment(self, project_id: str, deployment_id: str) -> None:
        """Point production at a READY production deployment; re-enables auto-assignment
        when the swap lands. Raises NotFound, BadRequest or Conflict like a rollback."""
        self._advance()
        project = self.directory.project(project_id)
        dep = self.directory.deployment_of(project, deployment_id)
        if not (dep.is_production and dep.state is ReadyState.READY):
            raise BadRequest(f"Deployment {dep.id} is not a READY production deployment")
        request_alias(project, dep, "promote", self.clock, seconds(self.alias_propagation),
                      self._schedule)
        self._advance()

    def rollback_aliases(self, project_id: str, failed_only: bool = False) -> list[dict[str, Any]]:
        """Per-alias status of the last alias request (swaps never fail in this fake)."""
        self._advance()
        project = self.directory.project(project_id)
        req = project.last_alias_request
        if failed_only or req is None:
            return []
        status = "completed" if req["jobStatus"] == JobStatus.SUCCEEDED else "in-progress"
        return [{"alias": {"alias": project.production_domain,
                           "deploymentId": req["toDeploymentId"]}, "status": status}]

    # ---- transitions -----------------------------------------------------------------

    def _advance(self) -> None:
        """Apply every transition due by now, earliest first (cheap when none is due)."""
        now = self.clock.now()
        due_at = self._schedule.next_at()
        if due_at is None or due_at > now:
            return
        for due in self._schedule.pop_due(now):
            self._apply(due)

    def _apply(self, due: Due) -> None:
        if due.event == "swap_alias":
            swap_alias(self.projects[due.subject], self.deployments, due.at)
            return
        dep = self.deployments[due.subject]
        if not can_fire(dep.state, due.event):
            return  # canceled before this transition fell due
        if due.event == "start_build":
            # Vite inlines import.meta.env.VITE_* now: later env edits miss this build.
            dep.env = env_for(self.projects[dep.project_id], dep.target or "preview")
        self._move(dep, due.event, due.at)
        if dep.state is ReadyState.READY:
            auto_assign(self.projects[dep.project_id], dep, due.at)

    def _move(self, dep: Deployment, event: str, at: float) -> None:
        dep.state = next_state(dep.state, event)
        if dep.state in (ReadyState.READY, ReadyState.ERROR, ReadyState.CANCELED):
            dep.ended_at = at
        dep.events.append(DeploymentEvent(at, dep.state, f"{event.replace('_', ' ')}"))

    # ---- construction ------------------------------------------------------------------

    def _new_deployment(self, project: Project, target: str | None, meta: dict[str, Any],
                        source: Deployment | None, ready_at: float | None) -> Deployment:
        created, building, ready, fails = build_timeline(
            self.clock.now(), ready_at, self.queue_time, self.build_time, self.build_fails)
        dep_id = self._new_id("dpl_")
        url = f"{project.name}-{digest('url' + dep_id, 9).lower()}.vercel.app"
        dep = Deployment(dep_id, project.id, project.name, url, target, meta, created,
                         building, ready, fails, source.id if source else None)
        dep.events.append(DeploymentEvent(dep.created, ReadyState.QUEUED, "queued"))
        self.directory.add_deployment(project, dep)
        return dep

    def _new_id(self, prefix: str) -> str:
        # Counter-derived, never random: the same run mints the same ids.
        self._counters[prefix] += 1
        return prefix + digest(f"{prefix}{self._counters[prefix]}", 24)

    def _ms(self, t: float) -> int:
        return to_ms(self.clock, t)


def _has_meta(dep: Deployment, meta: Mapping[str, str] | None) -> bool:
    """Whether ``dep``'s meta (as the API sends it, strings) holds every pair of ``meta``."""
    sent = meta_strings(dep.meta)
    return all(sent.get(k) == v for k, v in (meta or {}).items())
