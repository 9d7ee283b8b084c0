"""The JSON bodies Netlify's clients read, built from the backend's records.

Field names and shapes follow Netlify's OpenAPI definitions (``deploy``, ``site``,
``build``, ``envVar``, ``accountMembership`` in @netlify/open-api as shipped with
netlify-cli 26): snake_case, ISO-8601 times with a ``Z``, nulls kept (Netlify sends
them). A deploy's ``meta`` (the simulation's notes) is not a Netlify field and stays out.
"""

from __future__ import annotations

from typing import Any

from fakes.common.clock import to_iso
from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.lifecycle import FINAL_STATES
from fakes.netlify.models import DOMAIN, Account, Build, Deploy, EnvVar, Site

REGION = "us-east-2"


def _iso(backend: NetlifyBackend, t: float | None) -> str | None:
    return None if t is None else to_iso(backend.clock, t)


def user(backend: NetlifyBackend) -> dict[str, Any]:
    u = backend.user
    return {"id": u.id, "uid": None, "full_name": u.full_name, "avatar_url": None,
            "email": u.email, "affiliate_id": "", "site_count": len(backend.directory.sites),
            "created_at": _iso(backend, u.created), "last_login": _iso(backend, u.created),
            "login_providers": ["email"], "onboarding_progress": {"slides": "done"}}


def account(backend: NetlifyBackend, a: Account) -> dict[str, Any]:
    u = backend.user
    return {"id": a.id, "name": a.name, "slug": a.slug, "type": "team",
            "type_name": "Pro", "type_id": "pro", "capabilities": {},
            "billing_name": u.full_name, "billing_email": u.email, "billing_details": "",
            "billing_period": "monthly", "payment_method_id": None, "owner_ids": [u.id],
            "roles_allowed": ["Owner", "Developer", "Reviewer"],
            "created_at": _iso(backend, a.created), "updated_at": _iso(backend, a.created)}


def deploy(backend: NetlifyBackend, d: Deploy) -> dict[str, Any]:
    """A deploy as ``getDeploy``, ``listSiteDeploys`` and ``restoreSiteDeploy`` send it."""
    site = backend.directory.sites[d.site_id]
    permalink = f"https://{d.id}--{site.host}"
    return {
        "id": d.id, "site_id": d.site_id, "build_id": d.build_id, "user_id": backend.user.id,
        "state": d.state.value, "name": d.name,
        "url": f"http://{site.host}", "ssl_url": f"https://{site.host}",
        "admin_url": site.admin_url,
        "deploy_url": f"http://{d.id}--{site.host}", "deploy_ssl_url": permalink,
        "screenshot_url": None, "review_id": None, "review_url": None, "draft": d.draft,
        "required": backend.required_files(d.id), "required_functions": [],
        "error_message": d.error_message,
        "branch": d.branch, "commit_ref": d.commit_ref,
        "commit_url": (f"https://github.com/drill/{site.name}/commit/{d.commit_ref}"
                       if d.commit_ref else None),
        "skipped": None, "locked": d.locked,
        "created_at": _iso(backend, d.created), "updated_at": _iso(backend, d.updated),
        "published_at": _iso(backend, d.published_at),
        "title": d.title, "context": d.context, "framework": "vite",
        "deploy_time": d.deploy_time, "manual_deploy": False, "plugin_state": "none",
        "function_schedules": [], "functions_region": REGION,
        "links": {"permalink": permalink, "alias": permalink,
                  "branch": f"https://{d.branch}--{site.host}"
                  if d.context == "branch-deploy" else None},
    }


def site(backend: NetlifyBackend, s: Site) -> dict[str, Any]:
    """A site as ``getSite`` and ``listSites`` send it, with its published deploy."""
    a = backend.directory.accounts[s.account_id]
    published = backend.directory.deploys.get(s.published_deploy_id or "")
    return {
        "id": s.id, "site_id": s.id, "state": "current", "plan": "nf_team_pro",
        "name": s.name, "custom_domain": None, "domain_aliases": [],
        "url": f"http://{s.host}", "ssl_url": f"https://{s.host}", "admin_url": s.admin_url,
        "deploy_url": (f"http://{published.id}--{s.host}" if published
                       else f"http://{s.host}"),
        "screenshot_url": None, "created_at": _iso(backend, s.created),
        "updated_at": _iso(backend, s.updated), "user_id": backend.user.id,
        "ssl": True, "force_ssl": True, "managed_dns": True,
        "published_deploy": deploy(backend, published) if published else None,
        "account_id": a.id, "account_name": a.name, "account_slug": a.slug,
        "git_provider": "github", "deploy_hook": None, "capabilities": {},
        "processing_settings": {"html": {"pretty_urls": True}},
        "build_settings": {"provider": "github", "repo_url": f"https://github.com/drill/{s.name}",
                           "repo_branch": s.repo_branch, "cmd": "npm run build",
                           "dir": "dist", "env": {}, "stop_builds": False},
        "id_domain": f"{s.id}.{DOMAIN}", "build_image": "noble",
        "functions_region": REGION, "prevent_non_git_prod_deploys": False,
        "use_envelope": True, "feature_flags": {},
    }


def build(backend: NetlifyBackend, b: Build) -> dict[str, Any]:
    d = backend.directory.deploys[b.deploy_id]
    return {"id": b.id, "deploy_id": b.deploy_id, "sha": b.sha,
            "done": d.state in FINAL_STATES, "error": d.error_message,
            "created_at": _iso(backend, b.created)}


def env_var(backend: NetlifyBackend, v: EnvVar) -> dict[str, Any]:
    """A variable as ``getEnvVars`` sends it; ``context_parameter`` is "" unless branch."""
    u = backend.user
    return {"key": v.key, "scopes": list(v.scopes),
            "values": [{"id": x.id, "value": x.value, "context": x.context,
                        "context_parameter": x.context_parameter or ""} for x in v.values],
            "is_secret": v.is_secret, "updated_at": _iso(backend, v.updated),
            "updated_by": {"id": u.id, "full_name": u.full_name, "email": u.email,
                           "avatar_url": None}}
