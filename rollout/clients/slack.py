"""Slack incoming webhooks (httpx, synchronous): where the incident's messages are posted.

The same code talks to Slack or, in a drill, to the fake; a non-2xx answer raises
``VendorError`` with Slack's plain-text error code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from rollout.clients.errors import VendorError


@dataclass
class SlackWebhook:
    """A Slack incoming webhook (the URL is the secret)."""

    http: httpx.Client
    url: str

    def post(self, text: str, **fields: Any) -> None:
        """Post ``text``; raises VendorError with Slack's plain-text error code."""
        response = self.http.post(self.url, json={"text": text, **fields})
        if not response.is_success:
            raise VendorError("slack", "POST", response.request.url.path,
                              response.status_code, response.text.strip())
