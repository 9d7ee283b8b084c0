"""The runbook's rollback procedures as code: each a generator of steps (``rollout.steps``).

Each procedure makes the HTTP calls the runbook's commands make, yields ``Manual`` where a
person works by hand and ``Wait`` where it polls, and returns what it changed. It ends
when its own checks say the rollback is done; whether users really stopped getting the
faulty page is for the caller to observe.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from rollout.flags import INTERNAL_ENV_FLAG
from rollout.steps import Manual, Procedure, RollbackFailed, Step, Wait
from rollout.vendors import PostHogAPI, VendorError, VercelAPI

BUILD_FAILED = ("ERROR", "CANCELED")


def disable_posthog_flag(api: PostHogAPI, key: str, how: str = "inactive") -> Procedure:
    """Option A via PostHog: set ``key`` inactive, or its rollout to 0 %."""
    yield Manual("open PostHog → Feature Flags → " + key)
    try:
        flag = api.flag_by_key(key)
        changes: dict[str, Any] = {"active": False} if how == "inactive" else \
            {"filters": _zero_rollout(flag.get("filters") or {})}
        yield Manual(f"set the flag {'inactive' if how == 'inactive' else 'to 0 %'} and save")
        updated = api.patch_flag(int(flag["id"]), changes)
    except VendorError as exc:
        raise RollbackFailed("posthog flag update", str(exc)) from exc
    return {"flag_id": updated.get("id"), "active": updated.get("active"),
            "version": updated.get("version")}


def _zero_rollout(filters: dict[str, Any]) -> dict[str, Any]:
    groups = [dict(g, rollout_percentage=0) for g in filters.get("groups") or [{}]]
    return {**filters, "groups": groups}


def vercel_env_var_disable(api: VercelAPI, project_id: str, poll: float = 5.0) -> Procedure:
    """Option A via Vercel: ``VITE_FEATURE_CONTACTS_REDESIGN=false``, then redeploy and wait.

    Vite bakes the variable into the bundle, so nothing changes for users until a new
    production build is READY and aliased.
    """
    yield Manual("open Vercel → Settings → Environment Variables")
    try:
        env_id = _env_id(api, project_id, INTERNAL_ENV_FLAG)
        yield Manual(f"change {INTERNAL_ENV_FLAG} from true to false and save")
        api.call("PATCH", f"/v10/projects/{project_id}/env/{env_id}",
                 json={"value": "false", "target": ["production"], "type": "plain"})
        yield Manual("Deployments → current production → Redeploy")
        current = _current_production(api, project_id)
        created = api.call("POST", "/v13/deployments", json={
            "name": current["name"], "deploymentId": current["uid"], "target": "production"})
    except VendorError as exc:
        raise RollbackFailed("vercel env var + redeploy", str(exc)) from exc
    ready = yield from _wait_ready(api, str(created["id"]), poll)
    return {"env_id": env_id, "deployment_id": ready["id"], "from_deployment": current["uid"]}


def _env_id(api: VercelAPI, project_id: str, key: str) -> str:
    body = api.call("GET", f"/v10/projects/{project_id}/env", source="vercel-cli:env:ls")
    for env in body["envs"]:
        if env["key"] == key and "production" in env.get("target", []):
            return str(env["id"])
    raise RollbackFailed("vercel env var", f"{key} is not set for production")


def _current_production(api: VercelAPI, project_id: str) -> dict[str, Any]:
    project = api.get_project(project_id)
    live = (project.get("targets") or {}).get("production") or {}
    for deployment in api.list_production_deployments(project_id):
        if deployment["uid"] == live.get("id"):
            return deployment
    raise RollbackFailed("vercel redeploy", "no deployment holds the production alias")


def _wait_ready(api: VercelAPI, deployment_id: str, poll: float) -> Procedure:
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


def vercel_instant_rollback(api: VercelAPI, project_id: str, poll: float = 0.25) -> Procedure:
    """Option B on Vercel: ``vercel ls`` then ``vercel rollback <previous>``, polled as the CLI.

    Raises RollbackFailed when there is no earlier READY production deployment, when the
    API refuses, or when the alias job fails.
    """
    yield Manual("vercel ls --prod")
    try:
        api.call("GET", "/v2/user")
        target = _previous_production(api, project_id)
        yield Manual(f"vercel rollback {target['url']}")
        deployment = api.get_deployment(target["uid"])
        api.get_project(project_id)
        api.call("POST", f"/v9/projects/{project_id}/rollback/{deployment['id']}", json={})
    except VendorError as exc:
        raise RollbackFailed("vercel rollback", str(exc)) from exc
    yield from _wait_alias(api, project_id, str(deployment["id"]), poll)
    return {"deployment_id": deployment["id"], "url": deployment.get("url")}


def _previous_production(api: VercelAPI, project_id: str) -> dict[str, Any]:
    live = (api.get_project(project_id).get("targets") or {}).get("production") or {}
    candidates = [d for d in api.list_production_deployments(project_id)
                  if d["readyState"] == "READY" and d["uid"] != live.get("id")
                  and d["createdAt"] < live.get("createdAt", float("inf"))]
    if not candidates:
        raise RollbackFailed("vercel rollback", "no earlier READY production deployment")
    return max(candidates, key=lambda d: d["createdAt"])


def _wait_alias(api: VercelAPI, project_id: str, deployment_id: str,
                poll: float) -> Generator[Step, None, None]:
    while True:
        try:
            request = api.get_project(project_id, rollback_info=True).get("lastAliasRequest") or {}
        except VendorError as exc:
            raise RollbackFailed("vercel rollback status", str(exc)) from exc
        status = request.get("jobStatus")
        if request.get("toDeploymentId") == deployment_id and status == "succeeded":
            return
        if status == "failed":
            raise RollbackFailed("vercel rollback", "alias job failed")
        yield Wait(poll, f"alias job {status}")
