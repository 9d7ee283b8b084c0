"""The fault model of any fake: rules, the seeded injector that applies them, its log.

A rule says which operation (the route's endpoint name, which is also the backend
method's: ``rollback_deployment``; or ``*``) fails how: a probability of answering with an
error status, an outage window in the fake's own clock time (every call fails), and an
added latency. Draws come from the injector's own seeded generator, so a run with the
same seed and the same calls fails the same calls. Injected errors take the vendor's
error shape (the app's error class).

This module is pure (no web framework); ``fakes.common.fault_router`` puts the injector
in front of an app and serves its control plane.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from fakes.common.clock import Clock


@dataclass(frozen=True)
class FaultRule:
    """How one operation (or ``*``) misbehaves."""

    operation: str = "*"
    error_rate: float = 0.0
    status: int = 503
    message: str = "injected fault: service unavailable"
    outage_start: float | None = None
    outage_end: float | None = None
    latency: float = 0.0
    active_from: float | None = None
    active_until: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be within 0..1")
        if not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400..599)")
        if self.latency < 0 or not math.isfinite(self.latency):
            raise ValueError("latency must be >= 0 seconds")
        if (self.outage_start is None) != (self.outage_end is None):
            raise ValueError("give both outage_start and outage_end, or neither")
        if self.outage_start is not None and self.outage_end is not None \
                and self.outage_end <= self.outage_start:
            raise ValueError("outage_end must be after outage_start")

    def matches(self, operation: str) -> bool:
        return self.operation in ("*", operation)

    def active(self, t: float) -> bool:
        """Whether the rule applies at ``t`` (its ``active_from``/``active_until`` window)."""
        return (self.active_from is None or t >= self.active_from) and \
            (self.active_until is None or t < self.active_until)

    def in_outage(self, t: float) -> bool:
        return self.outage_start is not None and self.outage_end is not None \
            and self.outage_start <= t < self.outage_end


@dataclass
class Injection:
    """One fault that was injected: when, on which operation, what."""

    t: float
    operation: str
    kind: str  # "error" | "outage" | "latency"
    status: int | None = None


@dataclass
class FaultInjector:
    """The rules of one fake and the record of what they did."""

    clock: Clock
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    log: list[Injection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def set_rules(self, rules: list[FaultRule]) -> None:
        self.rules = list(rules)

    def decide(self, operation: str) -> tuple[FaultRule | None, float]:
        """The rule that fails this call now (or None) and the latency to add."""
        now = self.clock.now()
        latency = 0.0
        for rule in self.rules:
            if not rule.matches(operation) or not rule.active(now):
                continue
            latency += rule.latency
            if rule.in_outage(now):
                self.log.append(Injection(now, operation, "outage", rule.status))
                return rule, latency
            if rule.error_rate and self._rng.random() < rule.error_rate:
                self.log.append(Injection(now, operation, "error", rule.status))
                return rule, latency
        if latency:
            self.log.append(Injection(now, operation, "latency"))
        return None, latency

    def state(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [asdict(r) for r in self.rules],
                "injected": [asdict(i) for i in self.log]}
