"""Secrets out of a fake's ``/_fake/state``: what it shows is for looking, not for using.

A backend's ``state()`` holds everything, credentials included (the Slack webhook's
secret, which is also the last segment of its URL path; the PagerDuty routing key;
tokens). ``redact`` replaces the value of every field whose name says it is a secret
with ``"<redacted>"``, and that value wherever else it appears inside a string (the
Slack path), so the state can be shown to anyone who can reach the control plane.
"""

from __future__ import annotations

from typing import Any

REDACTED = "<redacted>"
# Field names that hold a credential, as the backends name them.
SECRET_FIELDS = frozenset({"secret", "webhook_secret", "routing_key", "integration_key",
                           "token", "auth_token", "access_token", "api_key",
                           "project_api_key", "personal_api_key", "password",
                           "bot_token", "slack_token"})


def redact(state: Any) -> Any:
    """A copy of ``state`` (JSON-ready data) with every secret replaced by ``"<redacted>"``."""
    secrets = sorted(_secrets(state), key=len, reverse=True)
    return _scrub(state, secrets)


def secrets_in(state: Any) -> set[str]:
    """Every secret value ``state`` holds (to scrub it from what else is shown)."""
    return _secrets(state)


def scrub(text: str, secrets: set[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``"<redacted>"``."""
    return _scrub(text, sorted(secrets, key=len, reverse=True))


def _secrets(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.lower() in SECRET_FIELDS and isinstance(value, str) \
                    and value:
                found.add(value)
            found |= _secrets(value)
    elif isinstance(node, list):
        for item in node:
            found |= _secrets(item)
    return found


def _scrub(node: Any, secrets: list[str]) -> Any:
    if isinstance(node, dict):
        return {key: REDACTED if isinstance(key, str) and key.lower() in SECRET_FIELDS
                and isinstance(value, str) and value else _scrub(value, secrets)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_scrub(item, secrets) for item in node]
    if isinstance(node, str):
        for secret in secrets:
            node = node.replace(secret, REDACTED)
        return node
    return node
