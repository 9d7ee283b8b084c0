"""The simulation's clock: SimPy's ``env.now`` seen through the backends' Clock protocol."""

from __future__ import annotations

from datetime import datetime

import simpy


class SimClock:
    """``now()`` is ``env.now`` plus ``lead``: virtual seconds since the scenario's start.

    ``lead`` is 0 except while a timed control-plane call is in flight
    (``sim.world.latency.CallMeter``): the vendor then sees the time the call lands at,
    the latency its caller has run up since its last step, which the caller pays before
    that step (``sim.world.procedures.drive``).
    """

    def __init__(self, env: simpy.Environment, epoch: datetime) -> None:
        self.env = env
        self.epoch = epoch
        self.lead = 0.0

    def now(self) -> float:
        return float(self.env.now) + self.lead
