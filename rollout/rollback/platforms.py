"""The platforms' rollback procedures as code: each a generator of steps
(``rollout.steps``).

Each procedure makes the HTTP calls the runbook's commands make, yields ``Manual`` where a
person works by hand and ``Wait`` where it polls, and returns what it changed. It ends
when its own checks say the rollback is done; whether users really stopped getting the
faulty page is for the caller to observe.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from rollout.clients.errors import VendorError
from rollout.clients.netlify import NetlifyAPI
from rollout.clients.posthog import PostHogAPI
from rollout.clients.vercel import VercelAPI
from rollout.deploy.vercel import production_env, production_target, wait_alias, wait_ready
from rollout.release.flags import INTERNAL_ENV_FLAG
from rollout.steps import Manual, Procedure, RollbackFailed, Step, Wait


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
    return (yield from vercel_set_env(api, project_id, INTERNAL_ENV_FLAG, "false", poll))


def vercel_set_env(api: VercelAPI, project_id: str, key: str, value: str,
                   poll: float = 5.0) -> Procedure:
    """Set a production env var on Vercel, redeploy and wait until the build is READY."""
    yield Manual("open Vercel → Settings → Environment Variables")
    try:
        env_id = _env_id(api, project_id, key)
        yield Manual(f"set {key}={value} and save")
        api.call("PATCH", f"/v10/projects/{project_id}/env/{env_id}",
                 json={"value": value, "target": ["production"], "type": "plain"})
        yield Manual("Deployments → current production → Redeploy")
        current = _current_production(api, project_id)
        created = api.call("POST", "/v13/deployments", json={
            "name": current["name"], "deploymentId": current["uid"], "target": "production"})
    except VendorError as exc:
        raise RollbackFailed("vercel env var + redeploy", str(exc)) from exc
    ready = yield from wait_ready(api, str(created["id"]), poll)
    return {"env_id": env_id, "deployment_id": ready["id"], "from_deployment": current["uid"]}


def _env_id(api: VercelAPI, project_id: str, key: str) -> str:
    env = production_env(api, project_id)
    if key not in env:
        raise RollbackFailed("vercel env var", f"{key} is not set for production")
    return env[key][0]


def _current_production(api: VercelAPI, project_id: str) -> dict[str, Any]:
    live = production_target(api, project_id)
    for deployment in api.list_production_deployments(project_id):
        if deployment["uid"] == live.get("id"):
            return deployment
    raise RollbackFailed("vercel redeploy", "no deployment holds the production alias")


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
    yield from wait_alias(api, project_id, str(deployment["id"]), poll, "vercel rollback")
    return {"deployment_id": deployment["id"], "url": deployment.get("url")}


def _previous_production(api: VercelAPI, project_id: str) -> dict[str, Any]:
    live = production_target(api, project_id)
    candidates = [d for d in api.list_production_deployments(project_id)
                  if d["readyState"] == "READY" and d["uid"] != live.get("id")
                  and d["createdAt"] < live.get("createdAt", float("inf"))]
    if not candidates:
        raise RollbackFailed("vercel rollback", "no earlier READY production deployment")
    return max(candidates, key=lambda d: d["createdAt"])


def netlify_env_var_disable(api: NetlifyAPI, site_id: str, poll: float = 5.0) -> Procedure:
    """Option A on Netlify: ``setEnvVarValue`` to false, "Trigger deploy", wait until the
    new deploy is ready and published (Vite bakes the variable in at build time)."""
    yield Manual("open Netlify → Site configuration → Environment variables")
    try:
        site = api.get_site(site_id)
        yield Manual(f"set {INTERNAL_ENV_FLAG} to false for all deploy contexts and save")
        api.call("PATCH", f"/accounts/{site['account_slug']}/env/{INTERNAL_ENV_FLAG}",
                 json={"context": "all", "value": "false"}, site_id=site_id)
        yield Manual("Deploys → Trigger deploy → Deploy site")
        build = api.call("POST", f"/sites/{site_id}/builds")
    except VendorError as exc:
        raise RollbackFailed("netlify env var + deploy", str(exc)) from exc
    deploy_id = str(build["deploy_id"])
    yield from _wait_netlify_ready(api, deploy_id, poll)
    yield from _wait_published(api, site_id, deploy_id, poll, "netlify deploy")
    return {"deploy_id": deploy_id, "from_deploy": (site.get("published_deploy") or {}).get("id")}


def _wait_netlify_ready(api: NetlifyAPI, deploy_id: str,
                        poll: float) -> Generator[Step, None, None]:
    while True:
        try:
            deploy = api.get_deploy(deploy_id)
        except VendorError as exc:
            raise RollbackFailed("netlify build", str(exc)) from exc
        if deploy["state"] == "ready":
            return
        if deploy["state"] == "error":
            raise RollbackFailed("netlify build", f"deploy {deploy_id} failed: "
                                 f"{deploy.get('error_message')}")
        yield Wait(poll, f"deploy {deploy_id} is {deploy['state']}")


def _wait_published(api: NetlifyAPI, site_id: str, deploy_id: str, poll: float,
                    where: str) -> Generator[Step, None, None]:
    while True:
        try:
            published = (api.get_site(site_id).get("published_deploy") or {}).get("id")
        except VendorError as exc:
            raise RollbackFailed(where, str(exc)) from exc
        if published == deploy_id:
            return
        yield Wait(poll, f"waiting for {deploy_id} to be published")


def netlify_restore_previous(api: NetlifyAPI, site_id: str, poll: float = 1.0) -> Procedure:
    """Option B on Netlify, the dashboard way: Deploys → previous deploy → Publish deploy
    (``restoreSiteDeploy``, 201); done when the site publishes it."""
    yield Manual("open Netlify → Deploys and find the previous production deploy")
    try:
        site = api.get_site(site_id)
        current = (site.get("published_deploy") or {}).get("id")
        previous = [d for d in api.list_production_deploys(site_id) if d["id"] != current
                    and d.get("published_at")]
        if not previous:
            raise RollbackFailed("netlify restore", "no earlier published production deploy")
        target = max(previous, key=lambda d: d["published_at"])
        yield Manual(f"Publish deploy {target['id']}")
        api.call("POST", f"/sites/{site_id}/deploys/{target['id']}/restore")
    except VendorError as exc:
        raise RollbackFailed("netlify restore", str(exc)) from exc
    yield from _wait_published(api, site_id, str(target["id"]), poll, "netlify restore")
    return {"deploy_id": target["id"], "from_deploy": current}


def netlify_rollback(api: NetlifyAPI, site_id: str, poll: float = 1.0) -> Procedure:
    """Option B on Netlify, the runbook's ``netlify rollback``: the CLI has no such command,
    so ``netlify api rollbackSiteDeploy`` (PUT, 204) re-publishes the previous deploy."""
    yield Manual("netlify api rollbackSiteDeploy --data '{\"site_id\": \"…\"}'")
    try:
        current = (api.get_site(site_id).get("published_deploy") or {}).get("id")
        api.call("PUT", f"/sites/{site_id}/rollback")
    except VendorError as exc:
        raise RollbackFailed("netlify rollback", str(exc)) from exc
    while True:
        try:
            published = (api.get_site(site_id).get("published_deploy") or {}).get("id")
        except VendorError as exc:
            raise RollbackFailed("netlify rollback", str(exc)) from exc
        if published != current:
            return {"deploy_id": published, "from_deploy": current}
        yield Wait(poll, "waiting for the previous deploy to be published")


def set_posthog_rollout(api: PostHogAPI, key: str, percentage: float) -> Procedure:
    """Scenario 2 via PostHog: set the flag's rollout percentage (e.g. down to 10 %)."""
    yield Manual(f"PostHog → Feature Flags → {key} → rollout {percentage:g} %")
    try:
        flag = api.flag_by_key(key)
        groups = [dict(g, rollout_percentage=percentage)
                  for g in (flag.get("filters") or {}).get("groups") or [{}]]
        updated = api.patch_flag(int(flag["id"]), {"active": True, "filters": {
            **(flag.get("filters") or {}), "groups": groups}})
    except VendorError as exc:
        raise RollbackFailed("posthog rollout percentage", str(exc)) from exc
    return {"flag_id": updated.get("id"), "rollout_percentage": percentage}


def vercel_hotfix(api: VercelAPI, project_id: str, version: str, poll: float = 5.0) -> Procedure:
    """Deploy a hotfix build to production and wait until it is READY (and aliased)."""
    yield Manual(f"merge the hotfix and deploy {version} to production")
    try:
        current = _current_production(api, project_id)
        created = api.call("POST", "/v13/deployments", json={
            "name": current["name"], "deploymentId": current["uid"], "target": "production",
            "meta": {"version": version}})
    except VendorError as exc:
        raise RollbackFailed("vercel hotfix deploy", str(exc)) from exc
    ready = yield from wait_ready(api, str(created["id"]), poll)
    return {"deployment_id": ready["id"], "version": version}
