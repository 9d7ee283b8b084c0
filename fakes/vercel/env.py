"""A Vercel project's environment variables: the rules on their fields, which one holds
a key for a target, and what a build for a target bakes in.

A variable feeds one or more targets (``production``, ``preview``, ``development``);
no two variables may hold the same key for the same target. ``add_env`` and
``edit_env`` enforce that; ``env_for`` is what a build inlines when it starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fakes.vercel.errors import BadRequest, EnvAlreadyExists, NotFound
from fakes.vercel.models import EnvVar, Project

ENV_TARGETS = ("production", "preview", "development")
ENV_TYPES = ("system", "secret", "encrypted", "plain", "sensitive")


def add_env(project: Project, key: str, value: str, type: str, target: Iterable[str],
            upsert: bool, new_id: Callable[[], str], now: float) -> EnvVar:
    """Add a variable; with ``upsert`` replace the one holding that key for a target.

    Raises EnvAlreadyExists without ``upsert``, BadRequest on an invalid field.
    """
    targets = check_env(key, value, type, target)
    existing = env_clash(project, key, targets)
    if existing is not None and not upsert:
        raise EnvAlreadyExists(key, existing.id, sorted(set(targets) & set(existing.target))[0])
    if existing is not None:
        return update_env(project, existing, now, value=value, type=type, target=targets)
    env = EnvVar(new_id(), key, value, type, targets, now, now)
    project.env_vars[env.id] = env
    project.updated = now
    return env


def edit_env(project: Project, env: EnvVar, now: float, key: str | None,
             value: str | None, type: str | None, target: Iterable[str] | None) -> EnvVar:
    """Change the given fields of a variable; raises BadRequest, EnvAlreadyExists."""
    new_key = env.key if key is None else key
    targets = check_env(new_key, env.value if value is None else value,
                        type or env.type, env.target if target is None else target)
    clash = env_clash(project, new_key, targets, ignore=env.id)
    if clash is not None:
        raise EnvAlreadyExists(new_key, clash.id, targets[0])
    return update_env(project, env, now, key=new_key, value=value, type=type,
                      target=targets)


def find_env(project: Project, env_id: str) -> EnvVar:
    """A variable by id or, as the CLI and many scripts address it, by key; raises NotFound."""
    env = project.env_vars.get(env_id)
    if env is None:
        env = next((e for e in project.env_vars.values() if e.key == env_id), None)
    if env is None:
        raise NotFound(f"Environment Variable {env_id} not found")
    return env


def update_env(project: Project, env: EnvVar, now: float, **changes: Any) -> EnvVar:
    """Set the fields given (not None) and stamp the variable and its project."""
    for name, value in changes.items():
        if value is not None:
            setattr(env, name, value)
    env.updated = project.updated = now
    return env


def env_for(project: Project, target: str) -> dict[str, str]:
    return {e.key: e.value for e in project.env_vars.values() if target in e.target}


def env_clash(project: Project, key: str, targets: list[str],
               ignore: str | None = None) -> EnvVar | None:
    return next((e for e in project.env_vars.values()
                 if e.key == key and e.id != ignore and set(e.target) & set(targets)), None)


def check_env(key: Any, value: Any, type: Any, target: Any) -> list[str]:
    """The target list, normalised; raises BadRequest on an invalid field."""
    if not isinstance(key, str) or not key:
        raise BadRequest("key must be a non-empty string")
    if not isinstance(value, str):
        raise BadRequest(f"value of {key} must be a string")
    if type not in ENV_TYPES:
        raise BadRequest(f"type must be one of {', '.join(ENV_TYPES)}")
    targets = [target] if isinstance(target, str) else list(target)
    if not targets or any(t not in ENV_TARGETS for t in targets):
        raise BadRequest(f"target must be a non-empty list of {', '.join(ENV_TARGETS)}")
    return sorted(set(targets), key=ENV_TARGETS.index)
