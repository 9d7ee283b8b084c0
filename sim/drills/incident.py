"""The incident drill: a fault, its detection, the decision and the rollback, timed.

``IncidentDrill`` stands on the drill skeleton (``sim.drills.skeleton``: streams, clock,
journal, population, faults, world, responder) and adds the incident's own parts: the
app's git repository and database when the scenario has them, the traffic, the Sentry
pipeline and alert evaluation, the incident commander, the on-call responder, CI, flag
migrations, user reports and the Pulse sync. It runs to the scenario's horizon (or, for
sweeps, until the incident is over) and measures the run against its targets. Same
scenario and seed, same result, in any process.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from fakes.common.clock import from_iso
from fakes.pagerduty.escalation import RUNBOOK_POLICY, EscalationPolicy
from rollout.incident.escalation import CHAIN
from rollout.release.flags import FlagMode
from sim.drills.commander import IncidentCommander
from sim.drills.paging import AckDelay, IncidentSpec, nobody_acks
from sim.drills.paths import GIT_PATHS
from sim.drills.responder import OnCall
from sim.drills.skeleton import DrillSkeleton
from sim.drills.stale_renders import journal_stale_renders, stale_facts
from sim.results.metrics import measure
from sim.results.run import RunResult
from sim.scenario.model import Scenario
from sim.world.activity import mark_stale_after_run, mark_window
from sim.world.faults import Hits
from sim.world.monitoring import SentryPipeline
from sim.world.served import ServedState, ServedStateCache
from sim.world.traffic import TickOutcome, TrafficModel


class IncidentDrill(DrillSkeleton[RunResult]):
    """The SimPy processes of one incident run and the incident state they share."""

    def __init__(self, scenario: Scenario, seed: int, full_horizon: bool = True) -> None:
        super().__init__(scenario, seed)
        self.full_horizon = full_horizon
        self.onset = self.faults.first_onset()
        self.recovered_at: float | None = None
        self._fault_journaled = False
        self._posthog_reachable = True
        self._down_since: float | None = None
        self.downtime = 0.0
        self.write_rng = self.streams.get("writes")
        self.evaluations: dict[bool, int] = {True: 0, False: 0}
        self._journal_exposure_change = False
        self._last_tick: tuple[ServedState, Hits] | None = None
        self._attach_app_parts()
        self.pipeline = SentryPipeline(self.world.sentry, scenario.monitoring)
        self.traffic = TrafficModel(scenario, self.population, self.streams.get("traffic"),
                                    self.streams.get("sessions"),
                                    self.streams.get("flags.persisted"), self.flag_eval)
        self.served = ServedStateCache(self.population, FlagMode(scenario.flag.mode),
                                       persisted=lambda: self.traffic.flags.persisted,
                                       evaluator=self.flag_eval)
        self.commander = self._commander()
        self.oncall = OnCall(self.responder, self.world, self.commander)

    def _attach_app_parts(self) -> None:
        """The app's git repository (for a git path) and its database, when the scenario
        has them."""
        if self.s.responder.path in GIT_PATHS:
            self.world.attach_git(self.s, self.streams)
        if self.s.database is not None:
            from sim.world.database import AppDatabase

            self.world.database = AppDatabase(self.s.database, self.clock,
                                              self.streams.get("database"))

    def _commander(self) -> IncidentCommander:
        """The commander, with the scenario's paging: the PagerDuty service gets the
        runbook's chain with the scenario's escalation timeout."""
        c = self.s.incident
        self.world.pagerduty.set_escalation_policy(EscalationPolicy.chain(
            RUNBOOK_POLICY.name, [role.value for role in CHAIN], c.escalation_timeout))
        spec = IncidentSpec(ack_delay=_sampler(c.level_ack_delay(1)),
                            escalated_ack_delay=_sampler(c.level_ack_delay(2)),
                            escalation_timeout=c.escalation_timeout,
                            update_interval=c.update_interval,
                            monitoring_period=c.monitoring_period,
                            incident_lead=c.incident_lead, devops_lead=c.devops_lead, cto=c.cto)
        return IncidentCommander(self.env, self.journal, self.world.http,
                                 self.world.comms.endpoints(), self.clock,
                                 self.streams.get("incident"), spec)

    def _start(self) -> None:
        self.journal.add("drill_started", scenario=self.s.name, seed=self.seed,
                         users=self.population.size, path=self.s.responder.path,
                         flag_mode=self.s.flag.mode)
        self._start_processes()

    def _finish(self) -> None:
        self._close_incident()
        self.journal.add("drill_ended")

    def _result(self) -> RunResult:
        loss = self._data_loss()
        if self.onset is not None:
            mark_window(self.s, self.population, self.traffic.stats, self.onset,
                        self.streams.get("traffic.window"))
            mark_stale_after_run(self.s, self.population, self.traffic.stats, self.onset,
                                 self.env.now, self._stale_users(),
                                 self.streams.get("traffic.window.stale"))
        metrics = measure(self.s, self.journal, self.traffic.stats, self.onset, loss)
        return RunResult(self.s, self.seed, self.journal, self.traffic.stats, metrics,
                         self._facts(), self._samples(self.traffic.stats.served_faulty))

    def _start_processes(self) -> None:
        """Every process of the run, in the order their first events are scheduled."""
        for process in (self._traffic(), self._sdk_flush(), self._evaluate(),
                        self.commander.run()):
            self.env.process(process)
        if self.world.ci is not None:
            self.env.process(self._ci())
        for migration in self.faults.migrations:
            self.env.process(self._migrate_flag(migration.at))
        for i, report in enumerate(self.faults.reports):
            self.env.process(self._report(i, report))
        if self.s.pulse is not None:
            from sim.world.sync import SyncHost

            host = SyncHost(self.env, self.world, self.s.pulse, self.journal, self._alert)
            self.env.process(host.run())
        self.oncall_done = self.env.process(self.oncall.run())
        self.env.process(self._horizon())

    def _traffic(self) -> Generator[simpy.Event, Any, None]:
        dt = self.s.tick
        while True:
            t0 = self.env.now
            state = self._served_state(t0)
            hits = self.faults.hits(t0, state.build.version)
            self._watch_downtime(t0, state)
            self._watch_incident(t0, state, hits)
            outcome = self.traffic.tick(t0, dt, state, hits, self._incident_open(t0))
            self._last_tick = (state, hits)
            if not state.build.down:
                self.pipeline.submit(outcome, dt, hits.any())
                self._write(t0 + dt / 2, outcome)
            if self._over():
                return
            yield self.env.timeout(dt)

    def _write(self, t: float, outcome: TickOutcome) -> None:
        """Users' contact writes in this tick: the visits that did not fail write."""
        database = self.world.database
        if database is None or outcome.visits == 0:
            return
        ok = max(0, outcome.visits - outcome.failed_visits)
        database.write(t, int(self.write_rng.binomial(ok, database.spec.write_rate)))

    def _watch_downtime(self, t: float, state: ServedState) -> None:
        """Journal the app going down (stopped, or no healthy container) and coming back
        up healthy, with how long users got nothing (``down_s``)."""
        if state.build.down and self._down_since is None:
            self._down_since = t
            self.journal.add("app_down")
        elif not state.build.down and self._down_since is not None:
            down_s = t - self._down_since
            self.downtime += down_s
            self._down_since = None
            self.journal.add("app_up", version=state.build.version, down_s=round(down_s, 3))

    def _over(self) -> bool:
        """True when a shortened run may end: recovered, the responder finished, and no
        browser would still render the faulty page from its persisted flags (those loads
        are impact, so a shortened run counts them as the full run does)."""
        if self.full_horizon or self.recovered_at is None or not self.oncall_done.triggered:
            return False
        stale = self._stale_users()
        if stale is not None and stale.any():
            return False
        self.journal.add("run_shortened", horizon_s=self.s.horizon)
        self.stop.succeed()
        return True

    def _stale_users(self) -> np.ndarray | None:
        """Users whose next load would still render the faulty page from a persisted flag,
        as of the last tick (``TrafficModel.stale_faulty_users``)."""
        if self._last_tick is None:
            return None
        return self.traffic.stale_faulty_users(*self._last_tick)

    def _served_state(self, t: float) -> ServedState:
        reachable = self.faults.posthog_reachable(t)
        if reachable != self._posthog_reachable:
            self._posthog_reachable = reachable
            self._journal_exposure_change = True
        state = self.served.current(self.world.live_build(), self.world.flag_version(),
                                    self.world.flag_definition, remote_reachable=reachable)
        if self._journal_exposure_change:
            self._journal_exposure_change = False
            self.journal.add("posthog_reachable" if reachable else "posthog_unreachable",
                             exposure_pct=round(100 * state.exposure, 3))
        return state

    def _incident_open(self, t: float) -> bool:
        return self.onset is not None and t >= self.onset and self.recovered_at is None

    def _watch_incident(self, t: float, state: ServedState, hits: Hits) -> None:
        """Journal the fault's start, and recovery: the first tick at which a build that
        is up (for Docker: a healthy container) serves and nobody gets the faulty page.
        A stopped app serves nobody the faulty page but serves nobody at all: that is
        downtime, part of the incident, never recovery."""
        if self.onset is None or t < self.onset or self.recovered_at is not None:
            return
        if not self._fault_journaled:
            self._fault_journaled = True
            self.journal.add("fault_started", exposure_pct=round(100 * state.exposure, 3),
                             release=state.build.version)
        if state.build.down or self._faulty(t, state, hits):
            return
        self.recovered_at = t
        self.commander.on_recovered()
        self.journal.add("recovered", deployment_id=state.build.deployment_id,
                         release=state.build.version,
                         exposure_pct=round(100 * state.exposure, 3))

    def _faulty(self, t: float, state: ServedState, hits: Hits) -> bool:
        """Whether some user would get the faulty page (or the failing sync runs) now."""
        faulty = (hits.new is not None and state.exposure > 0) or \
            (hits.old is not None and state.exposure < 1)
        if self.world.sync is not None and t >= (self.faults.pulse_onset or math.inf):
            faulty = faulty or self.world.sync.enabled()  # the failing sync still runs
        return faulty

    def _close_incident(self) -> None:
        if self._incident_open(self.env.now):
            self.journal.add("horizon_reached_unrecovered")
        journal_stale_renders(self.journal, self.traffic.stats)
        silent, total = self.evaluations[True], sum(self.evaluations.values())
        if silent and self.journal.first("alert") is None:
            self.journal.add("alert_silent", no_data_evaluations=silent, evaluations=total,
                             rule=self.s.monitoring.alert.name,
                             reason="the alert rule saw no data during the incident: "
                                    "a mistyped metric or query keeps it silent")

    def _report(self, i: int, report: Any) -> Generator[simpy.Event, Any, None]:
        """A person pages on-call about a problem ``delay`` after it starts."""
        delay = report.delay.sample(self.streams.get(f"report.{i}"))
        yield self.env.timeout(report.at + delay)
        text = report.text or report.trigger.replace("_", " ")
        self.journal.add("report", trigger=report.trigger, by=report.by, text=text)
        payload = {"action": "report", "report": {"trigger": report.trigger, "text": text,
                                                  "by": report.by},
                   "data": {"metric_alert": {"title": f"Report by {report.by}: {text}",
                                             "id": f"report-{i}"}}}
        self.commander.on_alert(payload)
        self.oncall.hear(payload)

    def _migrate_flag(self, at: float) -> Generator[simpy.Event, Any, None]:
        """Deploy the remote form of the flag function with the PostHog flag at the env's
        percentage; the flips it causes are counted by the traffic."""
        yield self.env.timeout(at)
        percentage = self.s.flag.env.VITE_ROLLOUT_PERCENTAGE or "0"
        api, ph = self.world.vercel_api(), self.world.posthog_api()
        flag = ph.flag_by_key(self.world.flag_key)
        ph.patch_flag(int(flag["id"]), {"active": True, "filters": {"groups": [
            {"properties": [], "rollout_percentage": float(percentage)}]}})
        live = self.world.vercel.production_deployment(self.world.project_id)
        created = api.call("POST", "/v13/deployments", json={
            "name": "contacts-web", "deploymentId": live.id, "target": "production",
            "meta": {"flagMode": "remote"}})
        self.journal.add("flag_migration_started", deployment_id=created["id"],
                         posthog_rollout_pct=float(percentage),
                         exposure_before_pct=round(100 * self.served_exposure(), 3))

    def served_exposure(self) -> float:
        return self._served_state(self.env.now).exposure

    def _ci(self) -> Generator[simpy.Event, Any, None]:
        """Host the CI pipeline: poll it every tick, or right when its next build is due."""
        ci = self.world.ci
        assert ci is not None, "started only when the world has CI"
        every = self._ci_poll_s()
        while True:
            for event in ci.poll():
                self._ci_event(event)
            due = ci.next_event_at()
            wait = every if due is None else max(0.0, min(every, due - self.env.now))
            yield self.env.timeout(wait or every)

    def _ci_poll_s(self) -> float:
        """How often the CI reads its push queue: every tick (a game day reads it more
        often, since a person's push lands at any time)."""
        return self.s.tick

    def _ci_event(self, event: Any) -> None:
        """Journal one CI event (a game day also reads a person's push from it)."""
        self.journal.add(event.kind, at=round(event.at, 3),
                         **{k: v for k, v in event.build.items() if k != "at"})

    def _sdk_flush(self) -> Generator[simpy.Event, Any, None]:
        if self.s.monitoring.sdk == "browser":  # sessions are sent per page load, no flush
            return
        interval = self.s.monitoring.sdk_flush_interval
        yield self.env.timeout(float(self.streams.get("sdk.phase").uniform(0, interval)))
        while True:
            self.pipeline.flush(self.env.now)
            yield self.env.timeout(interval)

    def _evaluate(self) -> Generator[simpy.Event, Any, None]:
        jobs = {name: (interval, job) for name, interval, job in
                self.world.sentry.periodic_jobs()}
        interval, job = jobs["evaluate_alert_rules"]
        yield self.env.timeout(float(self.streams.get("sentry.phase").uniform(0, interval)))
        while True:
            self.pipeline.deliver_due(self.env.now)
            self._count_evaluations(job())
            self._deliver_webhooks()
            yield self.env.timeout(interval)

    def _count_evaluations(self, results: list[dict[str, Any]]) -> None:
        """Tally evaluations during the incident, to flag an alert rule that sees nothing."""
        if self.onset is None or self.env.now < self.onset or self.recovered_at is not None:
            return
        for result in results:
            self.evaluations[result.get("status") == "no_data"] += 1

    def _deliver_webhooks(self) -> None:
        for hook in self.world.sentry.drain_webhooks():
            response = self.world.http.post(hook.url, content=hook.body, headers=hook.headers)
            self.journal.add("webhook_delivered", url=hook.url, status=response.status_code)

    def _alert(self, payload: dict[str, Any]) -> None:
        alert = (payload.get("data") or {}).get("metric_alert") or {}
        # date_detected is the update's timestamp: the end of the window the rule read
        # (fakes.sentry.subscriptions), tens of seconds before the alert fires
        detected = alert.get("date_detected")
        window_end = None if not detected else round(from_iso(self.clock, detected), 3)
        self.journal.add("alert", action=payload.get("action"), title=alert.get("title"),
                         alert_id=alert.get("id"), window_end_s=window_end)
        before_fault = self.onset is None or self.env.now < self.onset or \
            (window_end is not None and window_end <= self.onset)  # read pre-fault data only
        if payload.get("action") == "critical" and before_fault and \
                self.journal.first("false_positive") is None:
            self.journal.add("false_positive", title=alert.get("title"),
                             alert_id=alert.get("id"), fault_onset_s=self.onset,
                             reason="a critical alert fired on data from before any fault "
                                    "began")
        self.commander.on_alert(payload)
        self.oncall.hear(payload)

    def _data_loss(self) -> int | None:
        """Acknowledged writes the database lost, checked against the ledger (None: no
        database in this scenario)."""
        database = self.world.database
        if database is None:
            return None
        report = database.verify()
        self.journal.add("ledger_checked", entries=len(database.ledger), checked=report.checked,
                         missing=len(report.missing), altered=len(report.altered),
                         refused_writes=database.refused)
        return report.data_loss

    def _facts(self) -> dict[str, Any]:
        bound = self.pipeline.alert_bound() + self.s.tick
        stale = self._stale_users()
        return {"detection_bound_s": round(bound, 3),
                "control_plane_calls": self._control_plane_calls(),
                "fault_onset_s": self.onset,
                "alert_evaluations_in_incident": sum(self.evaluations.values()),
                "alert_no_data_evaluations": self.evaluations[True],
                **stale_facts(self.traffic.stats, stale),
                "downtime_s": round(self.downtime + (self.env.now - self._down_since
                                                     if self._down_since is not None else 0), 3),
                "horizon_s": self.s.horizon}


def _sampler(dist: Any) -> AckDelay:
    """An acknowledgement-delay sampler for ``dist`` (None: that level never acks)."""
    if dist is None:
        return nobody_acks
    return lambda rng: float(dist.sample(rng))
