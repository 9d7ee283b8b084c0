"""Statuspage's REST API v1 (httpx, synchronous): the public status page of an incident.

The same code talks to Statuspage or, in a drill, to the fake; a non-2xx answer raises
``VendorError``. The incident bodies it sends are ``rollout.incident.comms`` texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from rollout.clients.errors import check_response


@dataclass
class StatuspageAPI:
    """Statuspage's REST API v1 (``Authorization: OAuth <key>``); ``base_url`` is the API
    root, ``/v1`` added when missing."""

    http: httpx.Client
    base_url: str
    api_key: str

    def call(self, method: str, path: str, json: Any = None) -> Any:
        root = self.base_url.rstrip("/")
        root = root if root.endswith("/v1") else root + "/v1"
        response = self.http.request(method, root + path, json=json,
                                     headers={"Authorization": f"OAuth {self.api_key}"})
        return check_response("statuspage", response)

    def list_components(self, page_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/pages/{page_id}/components"))

    def create_incident(self, page_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.call("POST", f"/pages/{page_id}/incidents", json=body))

    def update_incident(self, page_id: str, incident_id: str,
                        body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.call("PATCH", f"/pages/{page_id}/incidents/{incident_id}", json=body))
