"""The incident drill played live: the person's tools, not a model, respond.

``GamedayDrill`` is ``IncidentDrill`` on a ``LiveEnvironment``: the same population,
traffic, faults, Sentry pipeline, alert rule and incident commander (who pages through
PagerDuty, posts to Slack and the status page), so the fault, the alert and the page
happen as in a simulated run. What differs: no modelled responder acts and nobody is
modelled to acknowledge the page (with ``assist`` the scenario's modelled on-call and
responder act as in a simulated run), and what the person does is read back from the
fakes' own state:

* the acknowledgement is the PagerDuty incident's ``acknowledged_at`` (set through the
  PagerDuty fake's Events API, by the person or ``drill gameday ack``);
* the decision is the first accepted control-plane change to a service that decides
  what users get (Vercel, Netlify, PostHog, Docker, or a push to main of the drill's
  repository, which its CI deploys) after the alert: the moment the rollback began; the
  call that rolled back is the last such change before recovery. A push has no HTTP call
  to catch up on: the CI reads its push queue every game-day second, and the push is
  stamped with the pusher's wall clock mapped onto the game day's
  (``GamedayClock.from_wall``), so its journal entry lands within a second of it;
* recovery is measured by the traffic as in every drill: the first tick no user gets
  the faulty page from a healthy build. The traffic reads the fakes every tick, so a
  ``vercel rollback`` moves users exactly as the modelled responder's calls would.

The facilitator's controls (pause, resume, inject the fault now, end) act under the
drill's lock.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import replace
from typing import Any

import simpy

from rollout.incident.decision import decide
from sim.drills.commander import IncidentCommander
from sim.drills.incident import IncidentDrill
from sim.drills.paging import nobody_acks
from sim.gameday.clock import GamedayClock, LiveClock, LiveEnvironment
from sim.gameday.recorder import Call
from sim.scenario.model import Scenario
from sim.world.clock import SimClock
from sim.world.served import ServedState
from sim.world.traffic import TickOutcome

SERVING = frozenset({"vercel", "netlify", "posthog", "docker", "git"})  # what users get
GIT_POLL_S = 1.0  # how often the game day's CI reads its push queue (virtual seconds)
SERIES_MAX = 4000  # points kept for the live view


def _point(series: dict[str, Any], row: int, state: ServedState, faulty: bool
           ) -> dict[str, Any]:
    """One tick of the live view: page views, error rate and exposure per variant."""
    def rate(variant: str) -> float:
        views = float(series[f"pageviews_{variant}"][row])
        return round(float(series[f"errors_{variant}"][row]) / views, 5) if views else 0.0

    return {"t": float(series["t"][row]),
            "pageviews_old": int(series["pageviews_old"][row]),
            "pageviews_new": int(series["pageviews_new"][row]),
            "error_rate_old": rate("old"), "error_rate_new": rate("new"),
            "exposure_new": round(state.exposure, 4),
            "exposure_old": 0.0 if state.build.down else round(1 - state.exposure, 4),
            "release": state.build.version, "down": state.build.down, "faulty": faulty}


def steers_users(call: Call) -> bool:
    """Whether an accepted call is a control-plane change to what users get, the only
    kind that can be a person's decision: any change to Vercel, Netlify or Docker, or a
    push to main; of PostHog only its feature-flag API (``/api/…/feature_flags/``) —
    capture, ``/flags`` and ``/decide`` are what SDKs send, not a responder's change; never
    the facilitator's ``/_fake/`` control plane."""
    if not call.changes or call.service not in SERVING or call.path.startswith("/_fake"):
        return False
    if call.service == "posthog":
        return call.path.startswith("/api/") and "/feature_flags" in call.path
    return True


def path_of(call: Call, default: str) -> str:
    """The runbook option a call starts (for the "ROLLBACK INITIATED" message's steps)."""
    path = call.path.lower()
    if call.service == "posthog":
        return "posthog-flag-disable"
    if call.service == "docker":
        return "docker-compose"
    if call.service == "git":
        return "git-revert"
    if call.service == "vercel":
        return "vercel-rollback" if "/rollback/" in path else "vercel-env-var"
    if call.service == "netlify":
        return "netlify-restore" if "restore" in path else \
            "netlify-rollback" if "rollback" in path else "netlify-env-var"
    return default


class GamedayDrill(IncidentDrill):
    """An incident drill on the live clock, responded to by people."""

    def __init__(self, scenario: Scenario, seed: int, live: LiveClock,
                 assist: bool = False) -> None:
        self.live, self.lock, self.assist = live, threading.Lock(), assist
        super().__init__(scenario, seed, full_horizon=True)
        self.calls: list[Call] = []
        self.series: list[dict[str, Any]] = []
        self.state = "running"
        self._alert_payload: dict[str, Any] | None = None
        self._decision_call: Call | None = None
        self._tick, self._rows = self.traffic.tick, 0
        self.traffic.tick = self._observed_tick  # type: ignore[method-assign]
        if not assist:
            self.oncall.hear = lambda payload: None  # type: ignore[method-assign]

    def _environment(self) -> simpy.Environment:
        return LiveEnvironment(self.live, self.lock)

    def _clock(self) -> SimClock:
        return GamedayClock(self.env, self.live)

    def catch_up(self) -> None:
        """Bring the drill to the live clock's time (the caller holds the lock); nothing
        while paused or ending, nor once the run has stopped (a late client call must not
        run the simulation on while the results are measured)."""
        if self.state == "running" and not self.stop.triggered:
            assert isinstance(self.env, LiveEnvironment)
            self.env.catch_up()

    def _commander(self) -> IncidentCommander:
        commander = super()._commander()
        if not self.assist:  # the page waits for a person to acknowledge it
            commander.spec = replace(commander.spec, ack_delay=nobody_acks,
                                     escalated_ack_delay=nobody_acks)
        return commander

    def _ci_poll_s(self) -> float:
        return min(GIT_POLL_S, self.s.tick)

    def _ci_event(self, event: Any) -> None:
        """A push to main from a person's shell (stamped by the wall: no drill clock set
        its date) is a call like any other: on the timeline and, after the alert, the
        decision; what it deploys reaches users through the drill's CI."""
        super()._ci_event(event)
        if event.kind == "ci_queued" and event.build.get("wall_stamped"):
            # post-receive runs only for a push the remote accepted
            call = Call(event.at, "git", "PUSH", f"{event.build['ref']} {event.build['sha']}",
                        200, "git push", "git")
            self.calls.append(call)
            self.on_call(call)

    def _start_processes(self) -> None:
        super()._start_processes()
        self.env.process(self._end_when_resolved())

    def _end_when_resolved(self) -> Generator[simpy.Event, Any, None]:
        """The game day is over once the incident is resolved (after recovery and the
        runbook's monitoring period)."""
        yield self.commander.resolved
        if not self.stop.triggered:
            self.journal.add("gameday_over", reason="incident resolved")
            self.stop.succeed()

    # ---- what the person does, read back from the fakes ------------------------------

    def on_call(self, call: Call) -> None:
        """A served fake accepted a state-changing call (under the drill's lock)."""
        self.journal.add("responder_call", **call.as_dict())
        if call.service == "pagerduty":
            self._check_ack(call)
        elif steers_users(call) and self._decision_call is None \
                and self._alert_payload is not None:
            self._decided(call)

    def _check_ack(self, call: Call) -> None:
        if self.journal.first("acknowledged") is not None:
            return
        acked = [i for i in self.world.pagerduty.incidents()
                 if i.acknowledged_at is not None]
        if acked:
            incident = acked[0]
            self.journal.add("acknowledged", dedup_key=incident.dedup_key,
                             level=incident.level, source=call.source,
                             at_s=round(float(incident.acknowledged_at or 0.0), 3))

    def _decided(self, call: Call) -> None:
        """The first change to what users get after the alert: the rollback began."""
        assert self._alert_payload is not None
        self._decision_call = call
        decision = decide(self._alert_payload, self.s.responder.path)
        ack = self.journal.first("acknowledged")
        self.journal.add("decision", action="rollback", severity=decision.severity.value,
                         reason=decision.reason, path=f"{call.service} {call.method} "
                         f"{call.path}", responder="person", source=call.source,
                         **({"acknowledged_at": round(ack.t, 3)} if ack else {}))
        self.journal.add("rollback_started", path=call.service, source=call.source,
                         call=f"{call.method} {call.path}")
        self.commander.on_decision(replace(decision, action="rollback",
                                           path=path_of(call, self.s.responder.path)))

    def ended(self) -> str:
        """How the game day ended: ``resolved`` (the incident, after the monitoring
        period), ``facilitator`` (End, or the first Ctrl-C) or ``horizon``."""
        if self.journal.first("gameday_over") is not None:
            return "resolved"
        return "facilitator" if self.journal.first("gameday_ended") is not None \
            else "horizon"

    def rollback_call(self) -> Call | None:
        """The last accepted change to what users get at or before recovery."""
        recovered = self.journal.first("recovered")
        if recovered is None:
            return None
        done = [c for c in self.calls if steers_users(c) and c.t <= recovered.t + 1e-9]
        return done[-1] if done else None

    def _alert(self, payload: dict[str, Any]) -> None:
        paged = payload.get("action") == "critical" or "report" in payload
        if paged and self._alert_payload is None:
            self._alert_payload = payload
        super()._alert(payload)

    def _report(self, i: int, report: Any) -> Generator[simpy.Event, Any, None]:
        yield from super()._report(i, report)
        if self._alert_payload is None:
            self._alert_payload = {"action": "report", "report": {"trigger": report.trigger}}

    # ---- the live series --------------------------------------------------------------

    def _observed_tick(self, t0: float, dt: float, state: ServedState, hits: Any,
                       incident_open: bool) -> TickOutcome:
        outcome = self._tick(t0, dt, state, hits, incident_open)
        row, self._rows = self._rows, self._rows + 1
        series = self.traffic.stats.series
        if row < self.traffic.stats.ticks:  # the row the tick wrote (TrafficModel._record)
            self.series.append(_point(series, row, state, bool(hits.any())))
            if len(self.series) > SERIES_MAX:
                del self.series[: len(self.series) - SERIES_MAX]
        return outcome

    # ---- the facilitator's controls ---------------------------------------------------

    def pause(self) -> None:
        with self.lock:
            self.live.pause()
            self.state = "paused"
            self.journal.add("gameday_paused")

    def resume(self) -> None:
        with self.lock:
            self.live.resume()
            self.state = "running"
            self.journal.add("gameday_resumed")

    def inject_now(self) -> bool:
        """Start the scenario's first error spike at the next tick (False: none, or it
        has begun already)."""
        with self.lock:
            if not self.faults.spikes or (self.onset is not None and
                                          self.env.now >= self.onset):
                return False
            (start, end), fault = self.faults.spikes[0]
            at = self.faults._grid(self.env.now + 1e-9, self.s.tick)
            self.faults.spikes[0] = ((at, end if end == float("inf") else at + end - start),
                                     fault)
            self.onset = self.faults.first_onset()
            self.journal.add("fault_injected_now", at_s=at, scheduled_s=start)
            return True

    def end(self) -> None:
        with self.lock:
            self.state = "ending"
            if not self.stop.triggered:  # not the incident's resolution: its own record
                self.journal.add("gameday_ended", reason="ended by the facilitator")
                self.stop.succeed()
            self.live.resume()
