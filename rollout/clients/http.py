"""Thin clients for the vendor APIs the rollback procedures call (httpx, synchronous).

They send what the vendors' own tools send (paths, versions, auth headers) and raise
``VendorError`` with the vendor's status and message on any non-2xx answer. The same
code talks to the real services, to ``drill serve`` or, in a drill, to in-process fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class VendorError(Exception):
    """A vendor API answered with an error status."""

    def __init__(self, vendor: str, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{vendor} {method} {path} -> {status}: {message}")
        self.vendor = vendor
        self.status = status
        self.message = message


def check_response(vendor: str, response: httpx.Response) -> Any:
    """The JSON body of a 2xx answer; raises VendorError with the vendor's message otherwise."""
    if response.is_success:
        return response.json() if response.content else None
    try:
        body = response.json()
    except ValueError:
        body = response.text
    message = body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") or inner.get("detail") or body if isinstance(inner, dict) \
            else inner
    raise VendorError(vendor, response.request.method, response.request.url.path,
                      response.status_code, str(message))


@dataclass
class VercelAPI:
    """The Vercel REST calls the CLI and SDK make, with the CLI's version numbers."""

    http: httpx.Client
    base_url: str
    token: str
    team_id: str | None = None

    def call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        if self.team_id:
            params.setdefault("teamId", self.team_id)
        response = self.http.request(method, self.base_url.rstrip("/") + path, json=json,
                                     params={k: v for k, v in params.items() if v is not None},
                                     headers={"Authorization": f"Bearer {self.token}"})
        return check_response("vercel", response)

    def list_production_deployments(self, project_id: str) -> list[dict[str, Any]]:
        body = self.call("GET", "/v6/deployments", projectId=project_id, target="production",
                         limit=20)
        return list(body["deployments"])

    def get_deployment(self, id_or_url: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/v13/deployments/{id_or_url}"))

    def get_project(self, project_id: str, rollback_info: bool = False) -> dict[str, Any]:
        extra = {"rollbackInfo": "true"} if rollback_info else {}
        return dict(self.call("GET", f"/v9/projects/{project_id}", **extra))


@dataclass
class PostHogAPI:
    """The PostHog feature-flag management API (personal API key)."""

    http: httpx.Client
    base_url: str
    personal_api_key: str
    project: str = "@current"

    def call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        response = self.http.request(
            method, self.base_url.rstrip("/") + path, json=json, params=params,
            headers={"Authorization": f"Bearer {self.personal_api_key}"})
        return check_response("posthog", response)

    def flag_by_key(self, key: str) -> dict[str, Any]:
        """The flag named ``key``; raises VendorError 404 when there is none."""
        offset = 0
        while True:
            page = self.call("GET", f"/api/projects/{self.project}/feature_flags/",
                             limit=100, offset=offset)
            for flag in page["results"]:
                if flag["key"] == key and not flag.get("deleted"):
                    return dict(flag)
            if not page.get("next"):
                raise VendorError("posthog", "GET", "feature_flags", 404, f"no flag {key!r}")
            offset += len(page["results"])

    def patch_flag(self, flag_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        return dict(self.call("PATCH", f"/api/projects/{self.project}/feature_flags/{flag_id}/",
                              json=changes))


@dataclass
class NetlifyAPI:
    """The Netlify API calls @netlify/api makes (operation names in the docstrings)."""

    http: httpx.Client
    base_url: str
    token: str

    def call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        response = self.http.request(
            method, self.base_url.rstrip("/") + "/api/v1" + path, json=json,
            params={k: v for k, v in params.items() if v is not None},
            headers={"Authorization": f"Bearer {self.token}"})
        return check_response("netlify", response)

    def get_site(self, site_id: str) -> dict[str, Any]:
        """getSite"""
        return dict(self.call("GET", f"/sites/{site_id}", feature_flags="cli"))

    def list_production_deploys(self, site_id: str) -> list[dict[str, Any]]:
        """listSiteDeploys?production=true&state=ready"""
        return list(self.call("GET", f"/sites/{site_id}/deploys", production="true",
                              state="ready", per_page=100))

    def get_deploy(self, deploy_id: str) -> dict[str, Any]:
        """getDeploy"""
        return dict(self.call("GET", f"/deploys/{deploy_id}"))
