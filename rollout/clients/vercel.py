"""The Vercel REST client: the calls the Vercel CLI and SDK make, with the CLI's versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from rollout.clients.errors import check_response


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
