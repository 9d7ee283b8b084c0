"""Receiving vendor webhooks as the on-call integration does: verify, then parse."""

from __future__ import annotations

import hashlib
import hmac


def verify_sentry_signature(body: bytes, signature: str, secret: str) -> bool:
    """True when ``signature`` is the HMAC-SHA256 hex digest of ``body`` keyed by ``secret``."""
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature or "")
