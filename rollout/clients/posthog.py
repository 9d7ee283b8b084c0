"""The PostHog feature-flag management client (personal API key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from rollout.clients.errors import VendorError, check_response


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
