"""How errors reach Sentry in a drill and how its alert rules get evaluated.

``SentryPipeline`` plays the SDK: error events are sent as they happen and arrive after
the ingest latency (the fault's under its own issue, the background errors of both pages
under ``BACKGROUND_CULPRIT``, so an error-count alert counts every error, as Sentry's
``count()`` over ``event.type:error`` does). Sessions depend on ``monitoring.sdk``:

- ``browser`` (default; the Contacts app is a Vite SPA, so @sentry/browser): one session
  per page load, sent at init and updated when an error happens, so a tick's sessions
  (its visits, errored when a page view of the visit erred) arrive after the ingest
  latency with no flush; an unhandled error marks the session ``unhandled``, which Relay
  counts errored, never crashed (recorded in ``tests/fakes/browser/test_browser_sdks.py``;
  @sentry/browser's ``browserSessionIntegration``, lifecycle ``'page'`` by default, starts
  one session per page load, not per navigation, and sends it once the browser is idle,
  github:getsentry/sentry-javascript ``packages/browser/src/integrations/browsersession.ts``);
- ``server`` (sentry-python, for what runs on servers): request-mode aggregates, one
  session per request (page view), buffered per minute and flushed every
  ``sdk_flush_interval`` (sentry-python flushes every 60 s).

Sentry's rule evaluation is the backend's own periodic job (an update stamped on every
multiple of the rule's ``resolution``, run Snuba's delay later over ``[T - window, T)``,
see ``fakes.sentry.subscriptions``); the runner hosts it as a SimPy process whose phase
against the fault is drawn from the seed (standing for Snuba's jitter), and delivers its
webhooks over HTTP.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from typing import Any

from sim.scenario.faults import ErrorSpike
from sim.scenario.monitoring import Monitoring
from sim.world.traffic import TickOutcome

Delivery = tuple[float, int, Callable[[], None]]
BACKGROUND_CULPRIT = "app"  # not a Contacts page: never taken for the incident's issue


def session_statuses(sdk: str, visits: int, errored_visits: int, pageviews: int,
                     errored: int, crashed: int) -> tuple[int, int, int]:
    """``(exited, errored, crashed)`` sessions the SDK reports for an interval's traffic:
    ``browser``, one session per visit (page load), errored when a page view of the
    visit erred (``errored_visits``), never crashed (an unhandled error marks the
    session ``unhandled``, which Relay counts errored); ``server``, one per request (page
    view), ``errored`` and ``crashed`` of them by their errors (crash faults crash)."""
    if sdk == "browser":
        return visits - errored_visits, errored_visits, 0
    return pageviews - errored - crashed, errored, crashed


class SentryPipeline:
    """The path from users' browsers to the Sentry backend, with its delays."""

    def __init__(self, backend: Any, monitoring: Monitoring) -> None:
        self.backend = backend
        self.m = monitoring
        self._pending: dict[tuple[str, float], list[int]] = {}
        self._in_flight: list[Delivery] = []
        self._seq = itertools.count()

    def submit(self, outcome: TickOutcome, dt: float, fault: ErrorSpike | None) -> None:
        """Queue one tick's errors (sent at once) and sessions (browser: sent at once;
        server: aggregates sent at the next flush)."""
        sent_at = outcome.t0 + dt
        if outcome.fault_errors and fault is not None:
            self._send(sent_at + self.m.ingest_latency, self._error_events(outcome, dt, fault))
        background = outcome.errored + outcome.crashed - outcome.fault_errors
        if background > 0:
            self._send(sent_at + self.m.ingest_latency,
                       self._background_events(outcome, dt, background))
        minute = math.floor((outcome.t0 + dt / 2) / 60) * 60
        sessions = session_statuses(self.m.sdk, outcome.visits, outcome.errored_visits,
                                    outcome.pageviews, outcome.errored, outcome.crashed)
        if self.m.sdk == "browser":  # a session per page load, sent at once
            if outcome.visits:
                self._send(sent_at + self.m.ingest_latency,
                           self._aggregate(outcome.release, minute, *sessions))
            return
        counts = self._pending.setdefault((outcome.release, minute), [0, 0, 0])
        for i, n in enumerate(sessions):
            counts[i] += n

    def flush(self, now: float) -> None:
        """The SDK's periodic flush: everything buffered leaves now, arrives after latency."""
        pending, self._pending = self._pending, {}
        for (release, minute), (exited, errored, crashed) in sorted(pending.items()):
            self._send(now + self.m.ingest_latency, self._aggregate(release, minute, exited,
                                                                     errored, crashed))

    def deliver_due(self, now: float) -> None:
        """Hand the backend everything that has arrived by ``now``, in arrival order."""
        while self._in_flight and self._in_flight[0][0] <= now:
            heapq.heappop(self._in_flight)[2]()

    def _send(self, arrive_at: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._in_flight, (arrive_at, next(self._seq), action))

    def _error_events(self, outcome: TickOutcome, dt: float,
                      fault: ErrorSpike) -> Callable[[], None]:
        env, backend = self.m.environment, self.backend
        return lambda: backend.record_error_events(
            outcome.release, env, outcome.t0 + dt / 2, outcome.fault_errors,
            exc_type=fault.exc_type, value=fault.message, culprit="ContactsPageNew",
            unhandled=fault.crash)

    def _background_events(self, outcome: TickOutcome, dt: float,
                           count: int) -> Callable[[], None]:
        env, backend = self.m.environment, self.backend
        return lambda: backend.record_error_events(
            outcome.release, env, outcome.t0 + dt / 2, count, exc_type="Error",
            value="background error rate", culprit=BACKGROUND_CULPRIT)

    def _aggregate(self, release: str, minute: float, exited: int, errored: int,
                   crashed: int) -> Callable[[], None]:
        env, backend = self.m.environment, self.backend
        return lambda: backend.record_session_aggregates(
            release, env, minute, exited=exited, errored=errored, crashed=crashed)

    def alert_bound(self) -> float:
        """Latest a sustained breach can take to fire, from the first window full of
        faulty data: the window + SDK flush (session rules under the server SDK only:
        error events, and the browser SDK's sessions, are sent at once) + latency, then
        up to one resolution until an update's timestamp ``T`` closes such a window, Snuba's
        delay before it runs that update, up to one evaluation interval until the host's
        tick runs it (Snuba's jitter), and one evaluation period for each further
        consecutive breach (``fakes.sentry.subscriptions``)."""
        a = self.m.alert
        flush = self.m.sdk_flush_interval if a.is_crash_rate and self.m.sdk == "server" \
            else 0.0
        return (a.time_window + flush + self.m.ingest_latency + a.resolution_s
                + a.subscription_delay_s + self.m.evaluation_interval
                + self.m.evaluation_period * (a.threshold_period - 1))
