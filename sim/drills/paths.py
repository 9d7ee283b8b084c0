"""How each rollback path of the registry is started in a drill.

A starter builds the path's ``rollout.rollback`` procedure for a world; the procedure
makes the real HTTP calls. The paths themselves (names, what they need, estimates, comms,
bounds) are the registry in ``sim.scenario.paths``; ``STARTERS`` is keyed by the same
names, and importing this module fails when a registered path has no starter or a
starter no registered path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rollout.rollback.platforms import (
    disable_posthog_flag,
    netlify_env_var_disable,
    netlify_restore_previous,
    netlify_rollback,
    vercel_env_var_disable,
    vercel_instant_rollback,
)
from rollout.steps import Procedure
from sim.scenario.paths import PATHS
from sim.scenario.responder import Responder
from sim.world.fakes import World

Starter = Callable[[World, Responder], Procedure]


def _posthog_flag(world: World, spec: Responder) -> Procedure:
    return disable_posthog_flag(world.posthog_api(), world.flag_key, spec.flag_disable_how)


def _vercel_env_var(world: World, spec: Responder) -> Procedure:
    return vercel_env_var_disable(world.vercel_api(), world.project_id, spec.poll_interval)


def _vercel_rollback(world: World, spec: Responder) -> Procedure:
    return vercel_instant_rollback(world.vercel_api(), world.project_id)


def _git_revert(world: World, spec: Responder) -> Procedure:
    from rollout.rollback.git import git_revert

    repo = world.app_repo
    assert repo is not None, "git paths attach the app repo"
    return git_revert(repo.git(world.vercel.clock), world.vercel_api(), world.project_id,
                      world.releases[1], poll=spec.poll_interval)


def _git_force_push(world: World, spec: Responder) -> Procedure:
    from rollout.rollback.git import force_push_previous_tag

    repo = world.app_repo
    assert repo is not None, "git paths attach the app repo"
    return force_push_previous_tag(repo.git(world.vercel.clock), world.vercel_api(),
                                   world.project_id, world.releases[0],
                                   as_written=spec.force_push_as_written,
                                   poll=spec.poll_interval)


def _docker_compose(world: World, spec: Responder) -> Procedure:
    from rollout.rollback.docker import docker_compose_rollback

    return docker_compose_rollback(world.docker_api(), poll=spec.poll_interval)


def _database(world: World, spec: Responder) -> Procedure:
    from rollout.rollback.database import database_rollback

    app = world.database
    assert app is not None, "validated: database-rollback needs a database section"

    def stop_app() -> None:
        world.app_stopped = True
        app.accepting = False

    def start_app() -> Procedure:
        done = yield from _previous_version(world, spec)
        world.app_stopped = False
        app.accepting = True
        return done

    done = yield from database_rollback(app.db, stop_app=stop_app, start_app=start_app,
                                        sizes=app.sizes(), ledger=app.ledger,
                                        cost=app.cost(), plan=app.plan(),
                                        migrations=app.migrations())
    # What the timing rests on that the scenario did not state: listed in the record.
    return {**done, "cost_defaults": app.cost_defaults()}


def _pulse(world: World, spec: Responder) -> Procedure:
    assert world.sync is not None, "validated: pulse-sync-response needs a pulse section"
    return world.sync.procedure(spec)  # type: ignore[no-any-return]


def _previous_version(world: World, spec: Responder) -> Procedure:
    """The platform's own way back to the previous version (the database rollback's
    "restart application with old version"), with the real calls and their timing."""
    if world.docker is not None:
        return _docker_compose(world, spec)
    if world.netlify is not None:
        return netlify_restore_previous(world.netlify_api(), world.site_id)
    return vercel_instant_rollback(world.vercel_api(), world.project_id)


STARTERS: dict[str, Starter] = {
    "posthog-flag-disable": _posthog_flag,
    "vercel-env-var": _vercel_env_var,
    "vercel-rollback": _vercel_rollback,
    "netlify-env-var": lambda w, s: netlify_env_var_disable(w.netlify_api(), w.site_id,
                                                            s.poll_interval),
    "netlify-restore": lambda w, s: netlify_restore_previous(w.netlify_api(), w.site_id),
    "netlify-rollback": lambda w, s: netlify_rollback(w.netlify_api(), w.site_id),
    "git-revert": _git_revert,
    "git-force-push-tag": _git_force_push,
    "docker-compose": _docker_compose,
    "database-rollback": _database,
    "pulse-sync-response": _pulse,
}
GIT_PATHS = tuple(name for name, spec in PATHS.items() if spec.uses_app_repo)


def unmatched(registered: Iterable[str], started: Iterable[str]) -> str | None:
    """What keeps the registry and the starters from agreeing, or None when they do."""
    names, starters = set(registered), set(started)
    problems = [f"{label}: {', '.join(sorted(odd))}" for label, odd in (
        ("registered paths without a starter", names - starters),
        ("starters for no registered path", starters - names)) if odd]
    return "; ".join(problems) or None


_problem = unmatched(PATHS, STARTERS)
if _problem:
    raise ImportError(f"sim.scenario.paths and sim.drills.paths disagree: {_problem}")


def start(path: str, world: World, spec: Responder) -> Procedure:
    """The procedure for ``path``; raises KeyError for a path no one registered."""
    return STARTERS[path](world, spec)
