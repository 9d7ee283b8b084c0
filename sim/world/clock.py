"""The simulation's clock: SimPy's ``env.now`` seen through the backends' Clock protocol."""

from __future__ import annotations

from datetime import datetime

import simpy


class SimClock:
    """``now()`` is ``env.now``: virtual seconds since the scenario's start."""

    def __init__(self, env: simpy.Environment, epoch: datetime) -> None:
        self.env = env
        self.epoch = epoch

    def now(self) -> float:
        return float(self.env.now)
