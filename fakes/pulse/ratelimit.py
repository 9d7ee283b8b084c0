"""Per-API-key token buckets on the virtual clock.

A bucket holds at most ``limit`` tokens and refills ``per_second`` tokens a second; each
API call takes one. An empty bucket answers 429 with ``Retry-After`` (whole seconds until
one token is back). Every API response carries ``X-RateLimit-Limit`` (the bucket size),
``X-RateLimit-Remaining`` (whole tokens left) and ``X-RateLimit-Reset`` (whole seconds
until the bucket is full again: a delta, as in the IETF RateLimit header draft, since an
absolute time would mean little on a virtual clock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """A bucket size and refill rate; raises ValueError when either is not positive."""

    limit: int = 100
    per_second: float = 10.0

    def __post_init__(self) -> None:
        if self.limit < 1 or not self.per_second > 0:
            raise ValueError("a rate limit needs limit >= 1 and per_second > 0")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one ``take``: allowed or not, and the headers to send."""

    allowed: bool
    policy: RateLimit
    remaining: int
    reset_after: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        out = {"X-RateLimit-Limit": str(self.policy.limit),
               "X-RateLimit-Remaining": str(self.remaining),
               "X-RateLimit-Reset": str(self.reset_after)}
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


class TokenBucket:
    """One key's bucket; starts full. The policy may change from call to call (a
    tighter limit while a ``rate_limit`` fault is active): tokens are capped to it."""

    def __init__(self, policy: RateLimit, now: float) -> None:
        self.tokens = float(policy.limit)
        self.at = now

    def take(self, policy: RateLimit, now: float) -> Verdict:
        """Refill for the time since the last call, then take one token if there is one."""
        elapsed = max(0.0, now - self.at)
        self.tokens = min(float(policy.limit), self.tokens + elapsed * policy.per_second)
        self.at = max(self.at, now)
        allowed = self.tokens >= 1.0
        if allowed:
            self.tokens -= 1.0
        missing = max(0.0, 1.0 - self.tokens)
        return Verdict(allowed, policy, int(self.tokens),
                       math.ceil((policy.limit - self.tokens) / policy.per_second),
                       max(1, math.ceil(missing / policy.per_second)))
