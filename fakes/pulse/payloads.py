"""The JSON bodies Pulse sends, and their encoding (cut short when a fault says so).

Bodies are built as plain dicts so that faults can tamper with the wire shape; key
order is fixed, so one seed gives the same bytes in any process.
"""

from __future__ import annotations

import json
from typing import Any

from fakes.pulse.models import Reply
from fakes.pulse.ratelimit import RateLimit

SERVICE_VERSION = "2026.01.3"
API_VERSION = "2025-10-01"


def page(records: list[dict[str, Any]], has_more: bool, next_cursor: str | None
         ) -> dict[str, Any]:
    return {"object": "list", "data": records, "has_more": has_more, "next_cursor": next_cursor}


def account(account_id: str, name: str, plan: str, contacts: int, policy: RateLimit,
            remaining: int, time: str) -> dict[str, Any]:
    return {"object": "account", "id": account_id, "name": name, "plan": plan,
            "api_version": API_VERSION, "contacts_count": contacts,
            "rate_limit": {"limit": policy.limit, "per_second": policy.per_second,
                           "remaining": remaining},
            "time": time}


def health(status: str, time: str) -> dict[str, Any]:
    return {"status": status, "version": SERVICE_VERSION, "time": time}


def encode(reply: Reply) -> bytes:
    """The body's bytes; with ``truncate_at`` only that leading fraction of them.

    Any proper prefix of a JSON object is invalid JSON, so a cut body never parses.
    """
    raw = json.dumps(reply.body, separators=(",", ":"), ensure_ascii=False).encode()
    if reply.truncate_at is None:
        return raw
    return raw[:max(1, min(len(raw) - 1, int(len(raw) * reply.truncate_at)))]
