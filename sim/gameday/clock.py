"""The game day's clock: a scaled, pausable wall clock, and a SimPy environment on it.

``GamedayClock`` is what the fakes read: the drill's ``env.now``, onto which what real
clients stamp by the wall is mapped as under ``drill serve``.

``LiveClock`` runs ``speed`` virtual seconds per wall second and can be paused and
resumed (the facilitator's controls). ``LiveEnvironment`` is SimPy's environment with
``step`` changed only to wait until the live clock reaches the next event, as
``simpy.rt.RealtimeEnvironment`` does (simpy/rt.py: ``step`` sleeps until
``env_start + (t - initial_time) * factor`` on the wall clock) — but on a clock that a
facilitator can pause, and waiting in short slices so that a call a person makes between
two events (it may schedule a process at ``now``) is run without waiting for the next
tick. Before a person's call is served, ``catch_up`` runs every event already due and
moves ``now`` to the live clock's time (as ``Environment.run(until=…)`` leaves ``now`` at
``until``), so the fakes stamp the call with the time it really landed at.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

import simpy

from fakes.common.clock import WallClock
from sim.world.clock import SimClock

SLICE_S = 0.02  # how long the runner sleeps at most between two looks at the queue


class LiveClock:
    """Virtual seconds since the start: ``speed`` per wall second, frozen while paused."""

    def __init__(self, speed: float, epoch: datetime) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self.epoch = epoch
        self._base = 0.0  # virtual seconds run up before the last resume
        self._since: float | None = time.monotonic()  # None while paused
        self._anchor = (time.time(), 0.0)  # (Unix wall, virtual) at the last pause/resume

    @property
    def paused(self) -> bool:
        return self._since is None

    def now(self) -> float:
        if self._since is None:
            return self._base
        return self._base + (time.monotonic() - self._since) * self.speed

    def pause(self) -> None:
        """Freeze virtual time (idempotent)."""
        if self._since is not None:
            self._base, self._since = self.now(), None
            self._anchor = (time.time(), self._base)

    def resume(self) -> None:
        """Let virtual time run again from where it was frozen (idempotent)."""
        if self._since is None:
            self._since = time.monotonic()
            self._anchor = (time.time(), self._base)

    def from_wall(self, unix_s: float) -> float:
        """Virtual seconds of the wall instant ``unix_s``, as ``now`` maps the wall since
        the last pause or resume (an instant inside a pause is the pause's time)."""
        wall, virtual = self._anchor
        mapped = virtual + (unix_s - wall) * self.speed
        return min(mapped, virtual) if self._since is None else mapped

    def wall_s(self, virtual_s: float) -> float:
        """Wall seconds until virtual second ``virtual_s`` (inf while paused)."""
        if self._since is None:
            return float("inf")
        return max(0.0, (virtual_s - self.now()) / self.speed)


class GamedayClock(SimClock, WallClock):
    """The drill's clock (``env.now``, a ``SimClock``: the modelled parts run as in any
    drill) that real clients stamping the wall are mapped onto, as under ``drill serve``
    (``fakes.common.clock.from_client_time`` maps a ``WallClock``'s clients through
    ``from_wall``): sentry-sdk's events and sessions land in the windows they were sent in.
    """

    def __init__(self, env: simpy.Environment, live: LiveClock) -> None:
        SimClock.__init__(self, env, live.epoch)
        self.live = live
        self.speed = live.speed

    def now(self) -> float:
        return SimClock.now(self)

    def from_wall(self, unix_s: float) -> float:
        return self.live.from_wall(unix_s)


class LiveEnvironment(simpy.Environment):
    """A SimPy environment whose ``step`` waits for ``live`` to reach the next event.

    ``lock`` is held while an event is processed: whoever else touches the drill's state
    (the servers answering a person's calls) takes it too.
    """

    def __init__(self, live: LiveClock, lock: threading.Lock) -> None:
        super().__init__()
        self.live = live
        self.lock = lock
        self.stopping = threading.Event()
        self._raised: BaseException | None = None  # by an event ``catch_up`` processed

    def catch_up(self) -> None:
        """With ``lock`` held by the caller: process the events due by the live clock's
        now, then stand at that time (never earlier than the current ``now``)."""
        target = self.live.now()
        while self._raised is None and self.peek() <= target:
            try:
                super().step()
            except BaseException as exc:  # the end of the run, or a bug: the runner's
                self._raised = exc  # thread raises it at its next step, as run() expects
        if self._raised is None:
            self._now = max(self._now, target)

    def step(self) -> None:
        """Process the next event once the live clock has reached it."""
        while True:
            if self._raised is not None:
                raised, self._raised = self._raised, None
                raise raised
            with self.lock:
                due = self.peek()
                if self.stopping.is_set() or self.live.now() >= due:
                    super().step()
                    return
            time.sleep(min(SLICE_S, self.live.wall_s(due)))
