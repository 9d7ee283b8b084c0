"""The pre-deployment rollback drill on staging (runbook "Rollback Testing"), timed.

A staging project on the fake Vercel (its own production target, serving the staging
domain) starts on the previous release. The drill runs the runbook's seven steps through
the real control plane, in virtual time, with the responder's step times:

1. deploy the release to staging; 2. ``VITE_FEATURE_CONTACTS_REDESIGN=true`` + build;
3. verify the new page (``GET /contacts?user_id=…`` on the Contacts app, which serves
what staging serves); 4. set it ``false`` + build; 5. verify the old page;
6. ``vercel rollback <staging-deployment-url>``; 7. verify the previous release is back.

Both ways back (step 4, the flag; step 6, the deployment) are timed from the decision (the
step's start) to rollback complete (the build READY and serving, or the alias swapped)
against ``targets.time_to_rollback_s`` (< 5 min). PASS when every verification holds and
both are under it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from fakes.common.descriptor import DAY
from fakes.common.serving import LiveBuild
from rollout.clients.vercel import VercelAPI
from rollout.release.flags import INTERNAL_ENV_FLAG, ROLLOUT_ENV, FlagEnv
from rollout.release.plan import vercel_deploy, vercel_rollback_to
from rollout.rollback.platforms import vercel_instant_rollback, vercel_set_env
from rollout.steps import Manual, Procedure, RollbackFailed
from sim.drills.skeleton import DrillSkeleton
from sim.results.metrics import METRICS, Measure, Metrics
from sim.results.run import SectionedResult
from sim.scenario.model import Scenario, required_section
from sim.world.fakes import CONTACTS
from sim.world.page_loads import TrafficStats

NOT_PART = "the staging drill injects no fault: it measures the two ways back only"


def run_staging(scenario: Scenario, seed: int | None = None) -> SectionedResult:
    """Run the staging rollback drill of ``scenario``; raises ScenarioError when it has
    no ``staging`` section or breaks a rule that spans sections."""
    return StagingDrill(scenario, scenario.seed if seed is None else seed).run_and_close()


class StagingDrill(DrillSkeleton[SectionedResult]):
    """The staging project on the fakes and the drill's steps, on one clock."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.spec = required_section(scenario, "staging")
        super().__init__(scenario, seed)
        self.project_id, self.pre_release_url = self._seed_staging()
        assert self.world.contacts is not None
        self.world.contacts.live_build = self._staging_build  # contacts.drill is staging now
        self.user = self.spec.verify_user or self._verification_user()
        self.steps: list[dict[str, Any]] = []
        self.times: dict[str, float | None] = {"flag": None, "deployment": None}

    def _verification_user(self) -> str:
        """An internal user, else the user in the lowest flag bucket."""
        internal = self.population.internal_ids()
        return internal[0] if internal else self.population.id_of(
            int(np.argmin(self.population.buckets)))

    def _alert(self, payload: dict[str, Any]) -> None:
        """Nothing: no alert rule is evaluated on staging."""

    def _seed_staging(self) -> tuple[str, str]:
        """The staging project as it stands before the drill: the previous release live,
        the flag off (setup talks to the backend directly)."""
        vercel, w, env = self.world.vercel, self.s.world, self.s.flag.env
        project = vercel.create_project(self.spec.project)
        vercel.create_project_env(project.id, INTERNAL_ENV_FLAG, "false", type="plain",
                                  target=["production"])
        if env.VITE_ROLLOUT_PERCENTAGE is not None:
            vercel.create_project_env(project.id, ROLLOUT_ENV, env.VITE_ROLLOUT_PERCENTAGE,
                                      type="plain", target=["production"])
        live = vercel.create_deployment(project.id, target="production", ready_at=-DAY,
                                        meta={"version": w.previous.version,
                                              "hasRedesign": w.previous.has_redesign})
        return project.id, live.url

    def _staging_build(self) -> LiveBuild:
        d = self.world.vercel.production_deployment(self.project_id)
        return LiveBuild(d.id, str(d.meta.get("version", "")),
                         d.meta.get("hasRedesign", True) in (True, "true"),
                         FlagEnv.from_mapping(d.env or {}))

    # --- the drill --------------------------------------------------------------------

    def _start(self) -> None:
        self.journal.add("drill_started", scenario=self.s.name, seed=self.seed, drill="staging",
                         project=self.spec.project, domain=self.spec.domain,
                         verify_user=self.user, flag_mode=self.s.flag.mode)
        self.done = self.env.process(self._drill())

    def _end(self) -> simpy.Event:
        """The drill's last step, or the horizon if it comes first."""
        return self.env.any_of([self.done, self.env.timeout(self.s.horizon)])

    def _finish(self) -> None:
        if not self.done.triggered:
            self.journal.add("horizon_reached", reason="the drill did not finish in time")
        self.verdict = self._outcome(self.done.triggered)
        outcome, reasons = self.verdict
        self.journal.add("drill_ended", outcome=outcome, reasons=reasons)

    def _result(self) -> SectionedResult:
        return SectionedResult(self.s, self.seed, self.journal, TrafficStats(1),
                               self._metrics(), self._facts(), [],
                               {"staging": self._section(*self.verdict)})

    def _drill(self) -> Generator[simpy.Event, Any, None]:
        """The runbook's seven steps; a failed deploy or flag switch-on ends the drill."""
        current, previous = self.s.world.current, self.s.world.previous
        api, pid, poll = self.world.vercel_api(), self.project_id, self.s.responder.poll_interval
        if not (yield from self._step(1, "deploy to staging", vercel_deploy(
                api, self.spec.project, current.version, current.has_redesign, poll))):
            return
        if not (yield from self._step(2, "enable the feature flag", vercel_set_env(
                api, pid, INTERNAL_ENV_FLAG, "true", poll))):
            return
        yield from self._verify(3, "new", current.version)
        yield from self._timed("flag", self._step(4, "disable the feature flag", vercel_set_env(
            api, pid, INTERNAL_ENV_FLAG, "false", poll)))
        yield from self._verify(5, "old", current.version)
        yield from self._timed("deployment", self._step(6, "vercel rollback",
                                                        self._rollback(api, pid)))
        yield from self._verify(7, "old", previous.version)

    def _rollback(self, api: VercelAPI, project_id: str) -> Procedure:
        """Step 6: back to the pre-release deployment, or Vercel's instant rollback."""
        if self.spec.rollback_to == "pre-release":
            return vercel_rollback_to(api, project_id, self.pre_release_url)
        return vercel_instant_rollback(api, project_id)

    def _timed(self, way: str, step: Generator[simpy.Event, Any, bool]
               ) -> Generator[simpy.Event, Any, None]:
        """Run a way back's step; when it completed, record how long it took."""
        start = self.env.now
        if (yield from step):
            self.times[way] = round(self.env.now - start, 3)

    def _step(self, number: int, name: str,
              procedure: Procedure) -> Generator[simpy.Event, Any, bool]:
        """Run one step's procedure; journal it with its duration and result."""
        start = self.env.now
        try:
            done = yield from self.responder.drive(procedure)
        except RollbackFailed as exc:
            self._record(number, name, start, False, f"{exc.where}: {exc.message}")
            return False
        self._record(number, name, start, True, _describe(done or {}))
        return True

    def _verify(self, number: int, variant: str,
                version: str) -> Generator[simpy.Event, Any, bool]:
        """Open /contacts on staging as the verification user: the expected page and
        version, or a failed step saying what was served."""
        start = self.env.now
        yield self.env.timeout(self.responder.step_duration(Manual(
            f"navigate to {self.spec.domain}/contacts")))
        response = self.world.http.get(f"{CONTACTS}/contacts", params={"user_id": self.user})
        body = response.json() if response.is_success else {}
        ok = body.get("variant") == variant and body.get("version") == version
        detail = (f"served {body.get('page')} of {body.get('version')}" if body else
                  f"HTTP {response.status_code}") + f"; expected the {variant} page of {version}"
        self._record(number, f"verify the {variant} page", start, ok, detail)
        return ok

    def _record(self, number: int, name: str, start: float, ok: bool, detail: str) -> None:
        entry = {"step": number, "name": name, "started_s": round(float(start), 3),
                 "ended_s": round(float(self.env.now), 3), "ok": ok, "detail": detail}
        self.steps.append(entry)
        self.journal.add("staging_step", **{k: v for k, v in entry.items() if k != "ended_s"},
                         seconds=round(self.env.now - start, 3))

    # --- results ----------------------------------------------------------------------

    def _outcome(self, finished: bool) -> tuple[str, list[str]]:
        target = self.s.targets.time_to_rollback_s
        reasons = [f"step {s['step']} ({s['name']}) failed: {s['detail']}"
                   for s in self.steps if not s["ok"]]
        if not finished:
            reasons.append("the drill did not finish before the horizon")
        for way, seconds in self.times.items():
            if seconds is not None and seconds >= target:
                reasons.append(f"the {way} rollback took {seconds:.0f} s, not < {target:g} s")
            if seconds is None and finished:
                reasons.append(f"the {way} rollback was not completed")
        return ("FAIL" if reasons else "PASS"), reasons

    def _metrics(self) -> Metrics:
        targets = self.s.targets.model_dump()
        measures = {name: Measure(name, None, targets[name], "not_measured", NOT_PART)
                    for name in METRICS}
        times = [t for t in self.times.values() if t is not None]
        value = max(times) if len(times) == len(self.times) else None
        target = targets["time_to_rollback_s"]
        measures["time_to_rollback_s"] = Measure(
            "time_to_rollback_s", value, target,
            "fail" if value is None or value >= target else "pass",
            None if value is not None else "a rollback step failed or did not finish")
        for m in measures.values():
            if m.value is None:
                self.journal.add("metric_unavailable", metric=m.name, reason=m.reason)
        return Metrics(measures)

    def _facts(self) -> dict[str, Any]:
        return {"detection_bound_s": 0.0, "control_plane_calls": self._control_plane_calls(),
                "fault_onset_s": None, "horizon_s": self.s.horizon,
                "ended_s": round(float(self.env.now), 3)}

    def _section(self, outcome: str, reasons: list[str]) -> dict[str, Any]:
        return {"outcome": outcome, "reasons": reasons, "project": self.spec.project,
                "domain": self.spec.domain, "verify_user": self.user,
                "rollback_to": self.spec.rollback_to,
                "target_s": self.s.targets.time_to_rollback_s,
                "flag_rollback_s": self.times["flag"],
                "deployment_rollback_s": self.times["deployment"], "steps": self.steps}


def _describe(value: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
