"""The Netlify API client: the calls @netlify/api makes (operation names in the docstrings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from rollout.clients.errors import check_response


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
