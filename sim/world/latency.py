"""What control-plane HTTP calls cost in virtual time: the call meter.

A procedure (``rollout.steps``) makes its HTTP calls between two steps, all at one
SimPy instant. Real calls take a round trip each, so ``drive`` opens a *segment* of the
meter around each stretch of calls; in it every call through ``InProcessTransport``
draws its latency from ``world.api_latency`` (one named stream per vendor, so calls to
one vendor never shift another's draws) and adds it to what the caller owes. The call
is handled at the time it completes — ``env.now`` plus everything owed so far in the
segment, this call included (``SimClock.lead``): its effect (a flag saved, an alias
swap requested) lands then, and its response shows the vendor's state then. When the
procedure yields its next step (or ends, or raises), ``drive`` lets the owed time pass
before the step's own time.

Calls made outside a segment cost nothing: the harness's own calls (Sentry's webhook to
the pager, the incident commander's Slack, Statuspage and PagerDuty posts, the CI's
deployment, the app's Pulse sync job) are other actors' work, and none of them makes the
responder wait. Between a call's landing time and the moment ``drive`` catches up, the
data plane may see the vendor's state up to the owed latency early (under a second at
the defaults, below one tick).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sim.rng import Streams
from sim.scenario.deployment import ApiLatency
from sim.world.clock import SimClock


class CallMeter:
    """Draws each timed call's latency and keeps what its caller owes."""

    def __init__(self, clock: SimClock, spec: ApiLatency, streams: Streams) -> None:
        self.clock = clock
        self.spec = spec
        self.streams = streams
        self.owed = 0.0
        self.timed_calls = 0
        self.paid_s = 0.0
        self._open = False

    @contextmanager
    def segment(self) -> Iterator[None]:
        """The calls a caller makes until its next step: each one is timed."""
        self._open, self.owed = True, 0.0
        try:
            yield
        finally:
            self._open = False
            self.clock.lead = 0.0

    def settle(self) -> float:
        """What the last segment's calls cost (seconds); the debt is then cleared."""
        owed, self.owed = self.owed, 0.0
        self.paid_s += owed
        return owed

    @contextmanager
    def call(self, host: str) -> Iterator[None]:
        """One request to ``host`` (``vercel.drill``): timed inside a segment, free outside."""
        if not self._open:
            yield
            return
        vendor = host.split(".", 1)[0]
        draw = self.spec.of(vendor).sample(self.streams.get(f"api_latency.{vendor}"))
        self.owed += max(0.0, draw)
        self.timed_calls += 1
        self.clock.lead = self.owed
        try:
            yield
        finally:
            self.clock.lead = 0.0
