"""The gradual-rollout drill: the runbook's three phases in virtual weeks, gate by gate.

``RolloutDrill`` stands on the drill skeleton (``sim.drills.skeleton``: the fakes, the
population and the responder on one SimPy clock), adds the rollout traffic and runs the
team's plan (``rollout.release.plan``): each phase changes the exposure through the real
control plane (Vercel env + build in ``percentage`` mode, the PostHog flag in ``remote``
mode), then looks on schedule; each look reads the fakes (``sim.drills.rollout_gates``),
asks the phase's gate, journals the decision with its reasons and acts on it —
continue, advance, or the runbook's NO-GO action. After a rollback, a
``fix`` section deploys the fix release and re-rolls it out 10 → 50 → 100 %, watching
Sentry for the incident's issue coming back (repeat incidents:
``sim.drills.rollout_repeats``).

Traffic is drawn per interval: a tick, cut short whenever the team changes something or
reads the fakes, so every read sees exactly what has happened so far. Its browsers are
the incident drill's (``sim.drills.rollout_traffic``): a load's first render may show the
flag posthog-js persisted, so recovery is declared when the fresh answer stops serving the
faulty page, and stale faulty renders after it are impact (``sim.drills.stale_renders``).
Detection here is the gates' (a look every day, or every 2 h in phase 3): the Sentry
alert pipeline of ``sim.drills.incident`` is not run.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from rollout.deploy.vercel import ensure_live
from rollout.release.flags import FlagMode
from rollout.release.plan import (
    Exposure,
    LookCall,
    Move,
    call_look,
    set_exposure_posthog,
    set_exposure_vercel,
)
from rollout.rollback.platforms import vercel_hotfix
from rollout.steps import Procedure
from sim.drills.paths import start
from sim.drills.rollout_gates import GateReader, PhaseWatch, gate_record
from sim.drills.rollout_repeats import RepeatWatch
from sim.drills.rollout_traffic import NEW, OLD, RolloutTraffic
from sim.drills.skeleton import DrillSkeleton
from sim.drills.stale_renders import journal_stale_renders, stale_facts
from sim.results.metrics import Metrics, measure
from sim.results.run import SectionedResult
from sim.scenario.faults import ErrorSpike
from sim.scenario.model import Scenario, required_section
from sim.scenario.rollout import Phase
from sim.world.activity import mark_stale_after_run, mark_window
from sim.world.served import ServedState, ServedStateCache

Faults = tuple[ErrorSpike | None, ErrorSpike | None]


def run_rollout(scenario: Scenario, seed: int | None = None) -> SectionedResult:
    """Run the rollout drill of ``scenario`` with ``seed`` (default: the scenario's).

    Raises ScenarioError when the scenario has no ``rollout`` section or breaks a rule
    that spans sections.
    """
    return RolloutDrill(scenario, scenario.seed if seed is None else seed).run_and_close()


class RolloutDrill(DrillSkeleton[SectionedResult]):
    """The traffic and the team of one rollout drill, on one clock."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.plan = required_section(scenario, "rollout")
        super().__init__(scenario, seed)
        rows = math.ceil(scenario.horizon / scenario.tick) + 1
        self.traffic = RolloutTraffic(scenario, self.plan, self.population,
                                      self.streams.get("traffic"), self.streams.get("sessions"),
                                      rows, self.streams.get("flags.persisted"),
                                      self.flag_eval)
        self.served = ServedStateCache(self.population, FlagMode(scenario.flag.mode),
                                       persisted=lambda: self.traffic.flags.persisted,
                                       evaluator=self.flag_eval)
        self.reader = GateReader(self.world, self.traffic.store, self.population.is_internal,
                                 self.plan, scenario.monitoring.environment)
        self.t0, self.state = 0.0, self._served(0.0)
        self.exposure_pct: float | None = None
        self.incident: str | None = None  # "first" | "repeat" while users get a faulty page
        self.incidents = 0
        self.repeats = RepeatWatch(self.reader, self.plan.fix, self.journal)
        self.gates: list[dict[str, Any]] = []
        self.phases: list[dict[str, Any]] = []
        self.outcome = {"rollout": "unfinished", "fix": "not deployed"}
        self.failed = False  # a control-plane procedure of the plan failed
        self._residual: dict[int, ErrorSpike] = {}

    # --- the run ------------------------------------------------------------------------

    def _start(self) -> None:
        self.journal.add("drill_started", scenario=self.s.name, seed=self.seed,
                         users=self.population.size, flag_mode=self.s.flag.mode,
                         drill="rollout", phases=[ph.name for ph in self.plan.phases])
        self._watch(0.0)
        for process in (self._traffic(), self._team(), self._horizon()):
            self.env.process(process)

    def _finish(self) -> None:
        self.flush()
        self.traffic.close_series()
        self.repeats.check(self.env.now, self.exposure_pct)  # one no look saw still counts
        if self.incident == "first":
            self.journal.add("horizon_reached_unrecovered")
        journal_stale_renders(self.journal, self.traffic.stats)
        self.journal.add("drill_ended", outcome=self.outcome["rollout"])

    def _result(self) -> SectionedResult:
        onset = self.journal.first("fault_started")
        if onset is not None:
            mark_window(self.s, self.population, self.traffic.stats, onset.t,
                        self.streams.get("traffic.window"))
            mark_stale_after_run(self.s, self.population, self.traffic.stats, onset.t,
                                 self.env.now, self._stale_users(),
                                 self.streams.get("traffic.window.stale"))
        metrics = self._metrics(measure(self.s, self.journal, self.traffic.stats,
                                        onset.t if onset else None))
        return SectionedResult(self.s, self.seed, self.journal, self.traffic.stats, metrics,
                               self._facts(), self._samples(self.traffic.stats.served_faulty),
                               self._sections())

    def _traffic(self) -> Generator[simpy.Event, Any, None]:
        tick = self.s.tick
        while True:
            yield self.env.timeout((math.floor(self.env.now / tick + 1e-9) + 1) * tick
                                   - self.env.now)
            self.flush()

    def flush(self) -> None:
        """Draw and record the traffic since the last flush, under the state served then;
        then read the served state anew (the team may just have changed it)."""
        t1 = self.env.now
        if t1 > self.t0:
            self._draw(self.t0, t1)
        self.t0, self.state = t1, self._served(t1)
        self._watch(t1)

    def _draw(self, t0: float, t1: float) -> None:
        """Draw ``[t0, t1)`` under the state served then: during the first incident mark
        who was served the faulty page; after its recovery, who still rendered it from a
        stale persisted flag (impact, as in the incident drill)."""
        release, faults = self.state.build.version, self._faults(t0)
        draw = self.traffic.draw(t0, t1, release, self.state, faults)
        hit = self._faulty(faults, self.state)
        present = (faults[OLD] is not None, faults[NEW] is not None)
        if self.incident == "first":
            self.traffic.mark_incident(draw, present)
        elif self.incidents:
            self.traffic.mark_stale(draw, present)
        self.traffic.record(draw, self.world.posthog, self.world.sentry,
                            self.s.monitoring.environment, self.state.exposure, any(hit))

    # --- what is served, and the incident ----------------------------------------------

    def _stale_users(self) -> np.ndarray | None:
        """Users whose next load would still render the faulty page from a persisted flag,
        under what is served now (``RolloutTraffic.stale_faulty_users``): the run ends
        right after the team's last change, which no interval has drawn yet."""
        faults = self._faults(self.env.now)
        return self.traffic.stale_faulty_users(self.state, (faults[OLD] is not None,
                                                            faults[NEW] is not None))

    def _served(self, t: float) -> ServedState:
        return self.served.current(self.world.live_build(), self.world.flag_version(),
                                   self.world.flag_definition,
                                   remote_reachable=self.faults.posthog_reachable(t))

    def _faults(self, t: float) -> Faults:
        """The fault hitting each variant (old, new) of what is served at ``t``: the
        scenario's, or on the fix release what an incomplete fix left of it."""
        release = self.state.build.version
        out = []
        for variant in ("old", "new"):
            fault = self.faults.active(t, release, variant)
            fix = self.plan.fix
            if fault is None and fix is not None and release == fix.release \
                    and fix.fix_completeness < 1:
                original = self.faults.active(t, self.s.world.current.version, variant)
                fault = self._left_over(original) if original is not None else None
            out.append(fault)
        return out[0], out[1]

    def _left_over(self, fault: ErrorSpike) -> ErrorSpike:
        assert self.plan.fix is not None
        if id(fault) not in self._residual:
            rate = fault.error_rate * (1 - self.plan.fix.fix_completeness)
            self._residual[id(fault)] = fault.model_copy(update={"error_rate": rate})
        return self._residual[id(fault)]

    @staticmethod
    def _faulty(faults: Faults, state: ServedState) -> tuple[bool, bool]:
        return (faults[OLD] is not None and state.exposure < 1,
                faults[NEW] is not None and state.exposure > 0)

    def _watch(self, t: float) -> None:
        """Journal exposure changes, and the start and end of each incident."""
        pct = round(100 * self.state.exposure, 3)
        if pct != self.exposure_pct:
            self.exposure_pct = pct
            self.journal.add("exposure_served", exposure_pct=pct,
                             release=self.state.build.version,
                             deployment_id=self.state.build.deployment_id)
        faulty = any(self._faulty(self._faults(t), self.state))
        if faulty and self.incident is None:
            self.incident = "first" if self.incidents == 0 else "repeat"
            self.incidents += 1
            self.journal.add("fault_started" if self.incident == "first" else "fault_recurred",
                             exposure_pct=pct, release=self.state.build.version)
        elif not faulty and not self.state.build.down and self.incident is not None:
            # A stopped app serves nobody the faulty page, and nobody at all: never
            # recovery (the rollout drill deploys on Vercel, whose alias always serves).
            kind = "recovered" if self.incident == "first" else "recovered_again"
            if self.incident == "repeat":
                self.repeats.episode_over(t)
            self.incident = None
            self.journal.add(kind, release=self.state.build.version, exposure_pct=pct,
                             deployment_id=self.state.build.deployment_id)

    def _alert(self, payload: dict[str, Any]) -> None:
        self.journal.add("sentry_alert", action=payload.get("action"))

    # --- the team -------------------------------------------------------------------------

    def _team(self) -> Generator[simpy.Event, Any, None]:
        move = yield from self._phases(self.plan.phases)
        self.outcome["rollout"] = "failed" if self.failed else _OUTCOME[move]
        fix = self.plan.fix
        if fix is not None and move in (Move.TURN_OFF, Move.ROLL_BACK):
            deployed = yield from self._deploy_fix()
            if deployed:
                move = yield from self._phases(fix.phases)
                self.outcome["fix"] = "re-rollout " + ("failed" if self.failed
                                                       else _OUTCOME[move])
        self.journal.add("rollout_finished", **self.outcome)
        if self.incident is None and not self.stop.triggered:
            self.stop.succeed()  # users still served a faulty page: run on to the horizon

    def _phases(self, phases: tuple[Phase, ...]) -> Generator[simpy.Event, Any, Move]:
        for phase in phases:
            move = yield from self._phase(phase)
            if move is not Move.ADVANCE:
                return move
        return Move.ADVANCE

    def _phase(self, phase: Phase) -> Generator[simpy.Event, Any, Move]:
        exposure = Exposure.of(phase.exposure)
        entry = {"name": phase.name, "gate": phase.gate, "exposure": exposure.label,
                 "started_s": round(float(self.env.now), 3)}
        self.phases.append(entry)
        self.journal.add("phase_started", phase=phase.name, gate=phase.gate,
                         exposure=exposure.label)
        if not (yield from self._run("exposure_changed", self._expose(exposure))):
            entry |= {"live_s": None, "ended_s": round(self.env.now, 3), "result": "failed"}
            self.failed = True
            return Move.HOLD
        watch = PhaseWatch(phase, self.env.now)
        entry["live_s"] = round(self.env.now, 3)
        if phase.gate == "phase2":
            self.traffic.store.start_experiment(self.env.now)
        move = yield from self._looks(watch)
        entry |= {"ended_s": round(self.env.now, 3), "result": move.value}
        return move

    def _looks(self, watch: PhaseWatch) -> Generator[simpy.Event, Any, Move]:
        phase = watch.phase
        for k in range(1, phase.looks + 1):
            yield self.env.timeout(max(0.0, watch.since + k * phase.look_every - self.env.now))
            self.flush()
            call = self._look(watch, k)
            if call.move is Move.ADVANCE:
                return Move.ADVANCE
            if call.move is not Move.CONTINUE:
                yield from self._no_go(call, watch)
                return call.move
        return Move.ADVANCE  # unreachable: the last look always decides

    def _look(self, watch: PhaseWatch, k: int) -> LookCall:
        now, release = self.env.now, self.state.build.version
        critical = self.reader.critical_bugs(watch.since, now)
        decision = self.reader.decide(watch, now, release, critical)
        call = call_look(watch.phase.gate, decision, final=k == watch.phase.looks,
                         advance_early=watch.phase.advance_early, critical=critical,
                         repeat=self.repeats.check(now, self.exposure_pct),
                         on_no_go=self.plan.on_no_go)
        record = {**gate_record(watch, k, decision), "decision": call.decision,
                  "action": call.move.value, "reasons": list(call.reasons)}
        self.journal.add("gate", **record)
        self.gates.append({"t_s": round(now, 3), **record})
        if call.decision == "NO-GO":  # the gate is this drill's detector
            self.journal.add("alert", action="critical", title=call.reasons[0],
                             source=f"{watch.phase.gate} gate")
        return call

    def _no_go(self, call: LookCall, watch: PhaseWatch) -> Generator[simpy.Event, Any, None]:
        r = self.s.responder
        yield self.env.timeout(self.responder.decision_delay())
        self.repeats.identify(watch.since, self.env.now)
        if call.move is Move.HOLD:
            self.journal.add("rollout_held", reason=call.reasons[0])
            return
        emergency = call.move is Move.ROLL_BACK
        path = r.path if emergency else "exposure-off"
        self.journal.add("decision", action="rollback" if emergency else "turn-off",
                         severity="critical" if emergency else "non-critical",
                         reason=call.reasons[0], path=path, responder=r.mode)
        self.journal.add("rollback_started", path=path)
        procedure = start(path, self.world, r) if emergency else self._expose(Exposure("off"))
        yield from self._run("rollback_completed", procedure, failed="rollback_failed",
                             path=path)

    def _expose(self, exposure: Exposure) -> Procedure:
        if self.world.flag_mode is FlagMode.REMOTE:
            return set_exposure_posthog(self.world.posthog_api(), self.world.flag_key,
                                        exposure, self.world.internal_ids)
        return set_exposure_vercel(self.world.vercel_api(), self.world.project_id, exposure,
                                   self.s.responder.poll_interval)

    def _deploy_fix(self) -> Generator[simpy.Event, Any, bool]:
        fix = self.plan.fix
        assert fix is not None
        yield self.env.timeout(fix.deploy_after)
        self.journal.add("fix_deploy_started", release=fix.release,
                         fix_completeness=fix.fix_completeness)
        ok = yield from self._run("fix_deployed", self._fix_procedure(fix.release),
                                  failed="fix_deploy_failed", release=fix.release)
        if ok:
            self.repeats.fix_since = self.env.now
            self.outcome["fix"] = "deployed"
        return ok

    def _fix_procedure(self, release: str) -> Procedure:
        api, pid, poll = self.world.vercel_api(), self.world.project_id, \
            self.s.responder.poll_interval
        done = yield from vercel_hotfix(api, pid, release, poll)
        yield from ensure_live(api, pid, str(done["deployment_id"]), poll)
        return done

    def _run(self, kind: str, procedure: Procedure, failed: str | None = None,
             **extra: Any) -> Generator[simpy.Event, Any, bool]:
        """Run a procedure at the responder's pace, journaling ``kind`` with its result or
        ``failed`` when it raised RollbackFailed; then draw the traffic up to now."""
        ok = yield from self.responder.perform(kind, procedure, failed, **extra)
        self.flush()
        return ok

    # --- results ----------------------------------------------------------------------------

    def _metrics(self, metrics: Metrics) -> Metrics:
        repeat = self.repeats.measure(self.s.targets.repeat_incidents)
        return Metrics({**metrics.measures, "repeat_incidents": repeat}, impact=metrics.impact)

    def _facts(self) -> dict[str, Any]:
        looks = [ph.look_every for ph in (*self.plan.phases,
                                          *(self.plan.fix.phases if self.plan.fix else ()))]
        onset = self.journal.first("fault_started")
        return {"detection_bound_s": max(looks),
                "control_plane_calls": self._control_plane_calls(),
                "fault_onset_s": round(onset.t, 3) if onset else None,
                **stale_facts(self.traffic.stats, self._stale_users()),
                "horizon_s": self.s.horizon, "ended_s": round(self.env.now, 3),
                "builds": sum(1 for d in self.world.vercel.deployments.values()
                              if d.created >= 0)}

    def _sections(self) -> dict[str, Any]:
        fix, since = self.plan.fix, self.repeats.fix_since
        return {"gates": self.gates, "rollout": {
            "flag_mode": self.s.flag.mode, "outcome": self.outcome["rollout"],
            "final_exposure_pct": self.exposure_pct, "phases": self.phases,
            "fix": None if fix is None else {
                "release": fix.release, "fix_completeness": fix.fix_completeness,
                "deployed_s": None if since is None else round(since, 3),
                "outcome": self.outcome["fix"], "repeat_incidents": self.repeats.section()}}}


_OUTCOME = {Move.ADVANCE: "completed", Move.TURN_OFF: "turned off", Move.ROLL_BACK: "rolled back",
            Move.HOLD: "held", Move.CONTINUE: "unfinished"}
