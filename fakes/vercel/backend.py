"""The fake Vercel's state: a user, a team, projects, env vars, deployments, the alias.

A pure state machine over an injected clock; no HTTP here (``router.py`` is the HTTP
face). Deployments follow the transition table in ``lifecycle.py``: one created at t,
with queue time q and build time d (both drawn from injected samplers), is BUILDING at
t+q and READY (or ERROR) at t+q+d. Every public method first calls ``_advance()``, which
applies every transition due by now in time order, so the production alias moves at the
exact virtual time even when nobody looked in between. The records themselves live in
``models.py``.

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
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from fakes.common.clock import Clock, to_ms
from fakes.vercel.errors import BadRequest, Conflict, EnvAlreadyExists, NotAuthorized, NotFound
from fakes.vercel.lifecycle import (
    ALIAS_TRANSITIONS,
    Due,
    JobStatus,
    ReadyState,
    Schedule,
    can_fire,
    next_state,
)
from fakes.vercel.models import (
    ENV_TARGETS,
    AliasChange,
    Deployment,
    DeploymentEvent,
    EnvVar,
    Project,
    Team,
    User,
    check_env,
    check_target,
    digest,
    env_clash,
    env_for,
    finite,
    merge_meta,
    parse_states,
    target_matches,
)


class VercelBackend:
    """The fake Vercel account: one user, team ``team_drill``, its projects and deployments.

    ``build_time``, ``queue_time`` and ``build_fails`` are samplers (seeded by the caller),
    drawn once per new build; ``alias_propagation`` is how long an alias swap takes.

    Returned records are the live objects, current as of the last call into the backend:
    a transition that falls due later shows once any method is called again (read
    ``get_deployment(id).state``, not a ``state`` kept from earlier).
    """

    def __init__(self, clock: Clock, token: str = "drill_token",
                 build_time: Callable[[], float] = lambda: 60.0,
                 queue_time: Callable[[], float] = lambda: 0.0,
                 alias_propagation: float = 2.0,
                 build_fails: Callable[[], bool] = lambda: False) -> None:
        self.clock = clock
        self.token = token
        self.build_time = build_time
        self.queue_time = queue_time
        self.alias_propagation = float(alias_propagation)
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
        self.projects: dict[str, Project] = {}
        self.deployments: dict[str, Deployment] = {}
        self._project_names: dict[str, str] = {}
        self._urls: dict[str, str] = {}
        self._order: dict[str, int] = {}  # creation order, to break ties in time

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
        if name in self._project_names or pid in self.projects:
            raise Conflict(f"Project {name!r} already exists")
        now = self.clock.now()
        self.projects[pid] = Project(pid, name, now, now)
        self._project_names[name] = pid
        for key, value in (env or {}).items():
            self.create_project_env(pid, key, value)
        return self.projects[pid]

    def get_project(self, id_or_name: str) -> Project:
        self._advance()
        return self._project(id_or_name)

    def list_project_envs(self, project_id: str, target: str | None = None) -> list[EnvVar]:
        """The project's variables, oldest first, optionally only those feeding ``target``."""
        self._advance()
        envs = self._project(project_id).env_vars.values()
        return [e for e in envs if target is None or target in e.target]

    def create_project_env(self, project_id: str, key: str, value: str, *,
                           type: str = "encrypted", target: Iterable[str] = ENV_TARGETS,
                           upsert: bool = False) -> EnvVar:
        """Add a variable; with ``upsert`` replace the one holding that key for a target.

        Raises EnvAlreadyExists without ``upsert``, BadRequest on an invalid field.
        """
        self._advance()
        project = self._project(project_id)
        targets = check_env(key, value, type, target)
        existing = env_clash(project, key, targets)
        if existing is not None and not upsert:
            raise EnvAlreadyExists(key, existing.id, sorted(set(targets) & set(existing.target))[0])
        if existing is not None:
            return self._update_env(project, existing, value=value, type=type, target=targets)
        now = self.clock.now()
        env = EnvVar(self._new_id("env_"), key, value, type, targets, now, now)
        project.env_vars[env.id] = env
        project.updated = now
        return env

    def get_project_env(self, project_id: str, env_id: str) -> EnvVar:
        self._advance()
        return self._env(self._project(project_id), env_id)

    def edit_project_env(self, project_id: str, env_id: str, *, key: str | None = None,
                         value: str | None = None, type: str | None = None,
                         target: Iterable[str] | None = None) -> EnvVar:
        """Change some fields of a variable; raises NotFound, BadRequest, EnvAlreadyExists."""
        self._advance()
        project = self._project(project_id)
        env = self._env(project, env_id)
        new_key = env.key if key is None else key
        targets = check_env(new_key, env.value if value is None else value,
                             type or env.type, env.target if target is None else target)
        clash = env_clash(project, new_key, targets, ignore=env.id)
        if clash is not None:
            raise EnvAlreadyExists(new_key, clash.id, targets[0])
        return self._update_env(project, env, key=new_key, value=value, type=type,
                                target=targets)

    def remove_project_env(self, project_id: str, env_id: str) -> EnvVar:
        """Delete a variable and return it; raises NotFound."""
        self._advance()
        project = self._project(project_id)
        env = self._env(project, env_id)
        del project.env_vars[env.id]
        project.updated = self.clock.now()
        return env

    def project_env(self, project_id: str, target: str = "production") -> dict[str, str]:
        """Key → value of the variables a build for ``target`` would bake in now."""
        self._advance()
        return env_for(self._project(project_id), target)

    def custom_environments(self, project_id: str) -> list[dict[str, Any]]:
        """Custom environments of a project: this fake has none."""
        self._advance()
        self._project(project_id)
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
        source = self._deployment(source_deployment_id) if source_deployment_id else None
        project = self._deploy_project(project_id, source)
        dep = self._new_deployment(project, check_target(target),
                                   merge_meta(source, meta), source, ready_at)
        self._schedule.add(dep.building_at, "start_build", dep.id)
        self._schedule.add(dep.ready_at, "fail_build" if dep.fails else "finish_build", dep.id)
        self._advance()
        return dep

    def get_deployment(self, id_or_url: str) -> Deployment:
        """A deployment by id, by host, or by a project's production domain; raises NotFound."""
        self._advance()
        return self._deployment(id_or_url)

    def list_deployments(self, project_id: str | None = None, target: str | None = None,
                         state: str | Iterable[str] | None = None, limit: int = 20,
                         since: int | None = None, until: int | None = None,
                         rollback_candidate: bool | None = None) -> list[Deployment]:
        """Deployments newest first, at most ``limit`` (1..100).

        ``since``/``until`` are Unix ms, exclusive bounds on creation time (Vercel's
        pagination cursors); ``state`` is a list or an "A,B" string of ready states.
        Raises NotFound (project) or BadRequest (state).
        """
        self._advance()
        pool = (self.deployments[i] for i in self._project(project_id).deployment_ids) \
            if project_id else self.deployments.values()
        states = parse_states(state)
        picked = [d for d in pool
                  if target_matches(d, target) and (states is None or d.state in states)
                  and (since is None or self._ms(d.created) > since)
                  and (until is None or self._ms(d.created) < until)
                  and (rollback_candidate is None
                       or d.is_rollback_candidate == rollback_candidate)]
        picked.sort(key=lambda d: (d.created, self._order[d.id]), reverse=True)
        return picked[:min(max(1, limit), 100)]

    def cancel_deployment(self, deployment_id: str) -> Deployment:
        """Cancel a QUEUED or BUILDING deployment; raises NotFound or BadRequest."""
        self._advance()
        dep = self._deployment(deployment_id)
        self._move(dep, "cancel", self.clock.now())
        return dep

    def deployment_events(self, deployment_id: str) -> list[DeploymentEvent]:
        """The states a deployment went through so far, oldest first; raises NotFound."""
        self._advance()
        return list(self._deployment(deployment_id).events)

    def deployment_builds(self, deployment_id: str) -> list[dict[str, Any]]:
        """Build units of a deployment: none are modelled; raises NotFound."""
        self._advance()
        self._deployment(deployment_id)
        return []

    def production_deployment(self, project_id: str) -> Deployment:
        """What the production alias serves now; raises NotFound when it serves nothing.

        The simulation calls this every tick: O(1) unless a transition has fallen due.
        """
        self._advance()
        project = self.projects.get(project_id) or self._project(project_id)
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
        project = self._project(project_id)
        dep = self._deployment_of(project, deployment_id)
        if not dep.is_rollback_candidate:
            raise BadRequest(f"Deployment {dep.id} ({dep.state}) is not eligible for rollback: "
                             "only READY production deployments that served production are")
        self._request_alias(project, dep, "rollback")
        project.auto_assign_production = False
        project.rollback_description = description or None
        self._advance()

    def promote_deployment(self, project_id: str, deployment_id: str) -> None:
        """Point production at a READY production deployment; re-enables auto-assignment
        when the swap lands. Raises NotFound, BadRequest or Conflict like a rollback."""
        self._advance()
        project = self._project(project_id)
        dep = self._deployment_of(project, deployment_id)
        if not (dep.is_production and dep.state is ReadyState.READY):
            raise BadRequest(f"Deployment {dep.id} is not a READY production deployment")
        self._request_alias(project, dep, "promote")
        self._advance()

    def rollback_aliases(self, project_id: str, failed_only: bool = False) -> list[dict[str, Any]]:
        """Per-alias status of the last alias request (swaps never fail in this fake)."""
        self._advance()
        project = self._project(project_id)
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
            self._swap_alias(self.projects[due.subject], due.at)
            return
        dep = self.deployments[due.subject]
        if not can_fire(dep.state, due.event):
            return  # canceled before this transition fell due
        if due.event == "start_build":
            # Vite inlines import.meta.env.VITE_* now: later env edits miss this build.
            dep.env = env_for(self.projects[dep.project_id], dep.target or "preview")
        self._move(dep, due.event, due.at)
        if dep.state is ReadyState.READY:
            self._auto_assign(dep, due.at)

    def _move(self, dep: Deployment, event: str, at: float) -> None:
        dep.state = next_state(dep.state, event)
        if dep.state in (ReadyState.READY, ReadyState.ERROR, ReadyState.CANCELED):
            dep.ended_at = at
        dep.events.append(DeploymentEvent(at, dep.state, f"{event.replace('_', ' ')}"))

    def _auto_assign(self, dep: Deployment, at: float) -> None:
        project = self.projects[dep.project_id]
        if not dep.is_production:
            dep.alias_assigned_at = at  # a preview gets its own branch alias at READY
            return
        # Seeded deployments may be created out of order; a later swap already won.
        if project.auto_assign_production and at >= project.production_assigned_at:
            self._assign(project, dep, at, "auto")

    def _request_alias(self, project: Project, dep: Deployment, kind: str) -> None:
        req = project.last_alias_request
        if req is not None and req["jobStatus"] == JobStatus.IN_PROGRESS:
            raise Conflict(f"An alias request to {req['toDeploymentId']} is still in progress")
        if dep.id == project.production_deployment_id:
            raise Conflict(f"The provided deploymentId ({dep.id}) is already the current "
                           "production deployment.")
        now = self.clock.now()
        project.last_alias_request = {
            "jobStatus": JobStatus.IN_PROGRESS.value, "requestedAt": self._ms(now),
            "toDeploymentId": dep.id, "fromDeploymentId": project.production_deployment_id,
            "type": kind}
        self._schedule.add(now + self.alias_propagation, "swap_alias", project.id)

    def _swap_alias(self, project: Project, at: float) -> None:
        req = project.last_alias_request
        if req is None or (JobStatus(req["jobStatus"]), "swap_alias") not in ALIAS_TRANSITIONS:
            return
        req["jobStatus"] = ALIAS_TRANSITIONS[(JobStatus(req["jobStatus"]), "swap_alias")].value
        self._assign(project, self.deployments[req["toDeploymentId"]], at, req["type"])
        if req["type"] == "promote":
            project.auto_assign_production = True

    def _assign(self, project: Project, dep: Deployment, at: float, reason: str) -> None:
        project.production_deployment_id = dep.id
        project.production_assigned_at = at
        if dep.alias_assigned_at is None:
            dep.alias_assigned_at = at
        project.alias_history.append(AliasChange(at, dep.id, reason))

    # ---- lookups and construction ------------------------------------------------------

    def _project(self, id_or_name: str) -> Project:
        pid = id_or_name if id_or_name in self.projects else self._project_names.get(id_or_name)
        if pid is None:
            raise NotFound(f"Project not found: {id_or_name}")
        return self.projects[pid]

    def _deployment(self, id_or_url: str) -> Deployment:
        key = id_or_url.removeprefix("https://").removeprefix("http://").rstrip("/")
        dep_id = key if key in self.deployments else self._urls.get(key)
        if dep_id is None:
            dep_id = self._production_by_domain(key)
        if dep_id is None:
            raise NotFound(f"Deployment not found: {id_or_url}")
        return self.deployments[dep_id]

    def _production_by_domain(self, host: str) -> str | None:
        name = host.removesuffix(".vercel.app")
        pid = self._project_names.get(name) if name != host else None
        return self.projects[pid].production_deployment_id if pid else None

    def _deployment_of(self, project: Project, deployment_id: str) -> Deployment:
        dep = self._deployment(deployment_id)
        if dep.project_id != project.id:
            raise BadRequest(f"Deployment {dep.id} does not belong to project {project.name}")
        return dep

    def _env(self, project: Project, env_id: str) -> EnvVar:
        env = project.env_vars.get(env_id)
        if env is None:  # the CLI and many scripts address a variable by its key
            env = next((e for e in project.env_vars.values() if e.key == env_id), None)
        if env is None:
            raise NotFound(f"Environment Variable {env_id} not found")
        return env

    def _update_env(self, project: Project, env: EnvVar, **changes: Any) -> EnvVar:
        for name, value in changes.items():
            if value is not None:
                setattr(env, name, value)
        env.updated = project.updated = self.clock.now()
        return env

    def _deploy_project(self, project_id: str | None, source: Deployment | None) -> Project:
        if project_id:
            project = self._project(project_id)
        elif source is not None:
            project = self.projects[source.project_id]
        else:
            raise BadRequest("A deployment needs a project (name) or a deploymentId")
        if source is not None and source.project_id != project.id:
            raise BadRequest(f"Deployment {source.id} does not belong to project {project.name}")
        return project

    def _new_deployment(self, project: Project, target: str | None, meta: dict[str, Any],
                        source: Deployment | None, ready_at: float | None) -> Deployment:
        created, building, ready, fails = self._timeline(ready_at)
        dep_id = self._new_id("dpl_")
        url = f"{project.name}-{digest('url' + dep_id, 9).lower()}.vercel.app"
        dep = Deployment(dep_id, project.id, project.name, url, target, meta, created,
                         building, ready, fails, source.id if source else None)
        dep.events.append(DeploymentEvent(dep.created, ReadyState.QUEUED, "queued"))
        self.deployments[dep_id] = dep
        self._order[dep_id] = len(self._order)
        self._urls[url] = dep_id
        project.deployment_ids.append(dep_id)
        return dep

    def _timeline(self, ready_at: float | None) -> tuple[float, float, float, bool]:
        """(created, building, ready, fails) of a new build, or of a seeded READY one."""
        now = self.clock.now()
        if ready_at is not None:  # seeded: no draws, so seeding leaves the samplers alone
            start = min(now, float(ready_at))
            return start, start, float(ready_at), False
        # Samplers may be unbounded distributions; a negative duration means "instant".
        building = now + max(0.0, float(self.queue_time()))
        ready = building + max(0.0, float(self.build_time()))
        return now, building, ready, bool(self.build_fails())

    def _new_id(self, prefix: str) -> str:
        # Counter-derived, never random: the same run mints the same ids.
        self._counters[prefix] += 1
        return prefix + digest(f"{prefix}{self._counters[prefix]}", 24)

    def _ms(self, t: float) -> int:
        return to_ms(self.clock, t)
