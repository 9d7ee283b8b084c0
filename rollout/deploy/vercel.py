"""The Vercel building blocks every Vercel procedure shares, rollback and rollout alike.

Lookups (``production_env``, ``production_target``) read what ``vercel env ls`` and the
dashboard show; the polls (``wait_ready`` for a build, ``wait_alias`` for the alias job,
``ensure_live`` to promote a build production does not serve) are procedures
(``rollout.steps``) that yield ``Wait`` between reads and raise RollbackFailed
when Vercel says the step failed.
"""

from __future__ import annotations

from typing import Any

from rollout.clients.errors import VendorError
from rollout.clients.vercel import VercelAPI
from rollout.steps import Manual, Procedure, RollbackFailed, Wait

BUILD_FAILED = ("ERROR", "CANCELED")


def production_env(api: VercelAPI, project_id: str) -> dict[str, tuple[str, str]]:
    """The production env vars of ``project_id``: key → (env id, value)."""
    body = api.call("GET", f"/v10/projects/{project_id}/env", source="vercel-cli:env:ls")
    return {e["key"]: (str(e["id"]), str(e.get("value", ""))) for e in body["envs"]
            if "production" in e.get("target", [])}


def production_target(api: VercelAPI, project_id: str) -> dict[str, Any]:
    """The deployment holding ``project_id``'s production alias (id, createdAt…); {} if none."""
    return (api.get_project(project_id).get("targets") or {}).get("production") or {}


def wait_ready(api: VercelAPI, deployment_id: str, poll: float) -> Procedure:
    """Poll a deployment until READY and return it; raises RollbackFailed when its build
    fails."""
    while True:
        try:
            deployment = api.get_deployment(deployment_id)
        except VendorError as exc:
            raise RollbackFailed("vercel build", str(exc)) from exc
        state = deployment["readyState"]
        if state == "READY":
            return deployment
        if state in BUILD_FAILED:
            raise RollbackFailed("vercel build", f"deployment {deployment_id} ended {state}")
        yield Wait(poll, f"deployment {deployment_id} is {state}")


def wait_alias(api: VercelAPI, project_id: str, deployment_id: str, poll: float,
               step: str = "vercel alias") -> Procedure:
    """Poll the project's last alias request until it moved production to
    ``deployment_id``; raises RollbackFailed (named after ``step``) when the alias job
    fails or the project cannot be read."""
    while True:
        try:
            request = api.get_project(project_id, rollback_info=True).get("lastAliasRequest") or {}
        except VendorError as exc:
            raise RollbackFailed(f"{step} status", str(exc)) from exc
        status = request.get("jobStatus")
        if request.get("toDeploymentId") == deployment_id and status == "succeeded":
            return {"deployment_id": deployment_id}
        if status == "failed":
            raise RollbackFailed(step, "alias job failed")
        yield Wait(poll, f"alias job {status}")


def ensure_live(api: VercelAPI, project_id: str, deployment_id: str,
                poll: float = 5.0) -> Procedure:
    """Make sure production serves ``deployment_id``: after an instant rollback Vercel
    stops auto-assigning new production builds until one is promoted (``vercel promote``)."""
    try:
        if production_target(api, project_id).get("id") == deployment_id:
            return {"promoted": False}
        yield Manual(f"vercel promote {deployment_id}")
        api.call("POST", f"/v10/projects/{project_id}/promote/{deployment_id}", json={})
    except VendorError as exc:
        raise RollbackFailed("vercel promote", str(exc)) from exc
    yield from wait_alias(api, project_id, deployment_id, poll)
    return {"promoted": True}
