"""The team's side of the gradual rollout (``rollout.release.plan``): exposure through the
control plane, Sentry reads, and the moves the gates' answers lead to. Procedures run
against the fakes over in-process HTTP, stepped by hand on a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock, to_datetime
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.router import build_app as build_posthog_app
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app as build_sentry_app
from fakes.vercel.backend import VercelBackend
from fakes.vercel.router import build_app as build_vercel_app
from rollout.clients.posthog import PostHogAPI
from rollout.clients.sentry import SentryAPI
from rollout.clients.vercel import VercelAPI
from rollout.release.gates import GateDecision
from rollout.release.plan import (
    Exposure,
    Move,
    call_look,
    incident_issue,
    new_critical_issues,
    set_exposure_posthog,
    set_exposure_vercel,
    vercel_rollback_to,
)
from rollout.release.samples import Counts
from rollout.steps import Manual, Procedure
from sim.world.transport import InProcessTransport

BUILD, QUEUE = 120.0, 5.0


@dataclass
class Fakes:
    clock: ManualClock
    vercel: VercelBackend
    posthog: PostHogBackend
    sentry: SentryBackend
    http: httpx.Client
    project_id: str

    def vercel_api(self) -> VercelAPI:
        return VercelAPI(self.http, "http://vercel.drill", "tok", self.vercel.team.id)

    def posthog_api(self) -> PostHogAPI:
        return PostHogAPI(self.http, "http://posthog.drill", self.posthog.personal_api_key)

    def env_served(self) -> dict[str, str]:
        return dict(self.vercel.production_deployment(self.project_id).env or {})

    def run(self, procedure: Procedure, seen: list[dict[str, str]] | None = None) -> Any:
        """Step ``procedure``: 10 s a manual step, each wait its seconds; ``seen`` gets what
        production bakes in after every step."""
        try:
            step = next(procedure)
            while True:
                self.clock.advance(10.0 if isinstance(step, Manual) else step.seconds)
                if seen is not None:
                    seen.append(self.env_served())
                step = procedure.send(None)
        except StopIteration as done:
            return done.value


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    clock = ManualClock()
    vercel = VercelBackend(clock, token="tok", build_time=lambda: BUILD,
                           queue_time=lambda: QUEUE, alias_propagation=3.0)
    project = vercel.create_project("contacts-web")
    for key, value in (("VITE_FEATURE_CONTACTS_REDESIGN", "false"),
                       ("VITE_ROLLOUT_PERCENTAGE", "0")):
        vercel.create_project_env(project.id, key, value, type="plain", target=["production"])
    vercel.create_deployment(project.id, target="production", ready_at=-86400.0,
                             meta={"version": "2.0.0", "hasRedesign": True})
    posthog = PostHogBackend(clock)
    posthog.create_feature_flag("contacts_redesign", "Contacts redesign", False,
                                {"groups": [{"properties": [], "rollout_percentage": 0}]})
    sentry = SentryBackend(clock, auth_token="sntrys_test")
    transport = InProcessTransport({"vercel.drill": build_vercel_app(vercel),
                                    "posthog.drill": build_posthog_app(posthog),
                                    "sentry.drill": build_sentry_app(sentry)})
    with httpx.Client(transport=transport) as http:
        yield Fakes(clock, vercel, posthog, sentry, http, project.id)
    transport.close()


def test_exposure_maps_the_plan_to_env_values_and_posthog_conditions() -> None:
    """Internal users only is the env flag on with 0 %; a percentage keeps the internal
    group first in PostHog; 0 % is off."""
    assert Exposure.of("internal").env() == {"VITE_FEATURE_CONTACTS_REDESIGN": "true",
                                             "VITE_ROLLOUT_PERCENTAGE": "0"}
    assert Exposure.of(50).env()["VITE_ROLLOUT_PERCENTAGE"] == "50"
    assert Exposure.of(0).kind == "off"
    filters = Exposure.of(10).posthog_filters(["usr_a", "usr_b"])
    assert filters["groups"][0]["properties"][0]["value"] == ["usr_a", "usr_b"]
    assert filters["groups"][1] == {"properties": [], "rollout_percentage": 10.0}


def test_a_new_exposure_is_served_only_once_its_build_is_ready(fakes: Fakes) -> None:
    """Vite bakes VITE_* at build time: while the redeploy queues and builds, production
    still serves the old values; the procedure ends when the new build serves."""
    seen: list[dict[str, str]] = []
    done = fakes.run(set_exposure_vercel(fakes.vercel_api(), fakes.project_id,
                                         Exposure.of(50)), seen)
    assert done["changed"] == ["VITE_FEATURE_CONTACTS_REDESIGN", "VITE_ROLLOUT_PERCENTAGE"]
    assert fakes.clock.now() >= QUEUE + BUILD
    before = [s for s in seen[:-1]]
    assert all(s.get("VITE_ROLLOUT_PERCENTAGE") == "0" for s in before)
    assert fakes.env_served()["VITE_ROLLOUT_PERCENTAGE"] == "50"
    assert len(fakes.vercel.deployments) == 2  # one build for both variables


def test_an_unchanged_exposure_needs_no_build(fakes: Fakes) -> None:
    """Setting what is already set changes nothing and builds nothing."""
    fakes.run(set_exposure_vercel(fakes.vercel_api(), fakes.project_id, Exposure.of(0)))
    assert len(fakes.vercel.deployments) == 1


def test_after_an_instant_rollback_the_new_build_is_promoted(fakes: Fakes) -> None:
    """Vercel stops auto-assigning production after an instant rollback: the procedure
    promotes its build, or the exposure would never change."""
    api = fakes.vercel_api()
    fakes.run(set_exposure_vercel(api, fakes.project_id, Exposure.of("internal")))
    first = fakes.vercel.production_deployment(fakes.project_id)
    fakes.run(set_exposure_vercel(api, fakes.project_id, Exposure.of(50)))
    fakes.run(vercel_rollback_to(api, fakes.project_id, first.url))
    assert fakes.vercel.production_deployment(fakes.project_id).id == first.id
    done = fakes.run(set_exposure_vercel(api, fakes.project_id, Exposure.of(100)))
    assert fakes.vercel.production_deployment(fakes.project_id).id == done["deployment_id"]
    assert fakes.env_served()["VITE_ROLLOUT_PERCENTAGE"] == "100"


def test_posthog_exposure_is_one_patch_and_off_is_zero_percent_for_everyone(fakes: Fakes) -> None:
    """In the remote form the flag's release conditions carry the exposure, with no build;
    off keeps the flag active at 0 % for everyone (internal users too): an inactive flag is
    left out of /flags, posthog-js answers undefined and the runbook's code would fall back
    to the env flag."""
    api = fakes.posthog_api()
    fakes.run(set_exposure_posthog(api, "contacts_redesign", Exposure.of(50), ["usr_a"]))
    flag = fakes.posthog.flag_by_key("contacts_redesign")
    assert flag is not None and flag.active
    assert [g["rollout_percentage"] for g in flag.definition()["filters"]["groups"]] == [100, 50]
    fakes.run(set_exposure_posthog(api, "contacts_redesign", Exposure("off"), ["usr_a"]))
    off = fakes.posthog.flag_by_key("contacts_redesign")
    assert off is not None and off.active
    assert off.definition()["filters"]["groups"] == [{"properties": [], "rollout_percentage": 0}]
    assert fakes.posthog.evaluate_flags("usr_a", flag_keys=["contacts_redesign"])[
        "contacts_redesign"].enabled is False
    assert not fakes.vercel.deployments.keys() - {fakes.vercel.production_deployment(
        fakes.project_id).id}


def test_sentry_reads_give_the_window_error_rate_and_new_crash_issues(fakes: Fakes) -> None:
    """Release health over the last period, and crash issues (unhandled errors, found by
    ``error.unhandled:true``) on the new page first seen since a time, read as a person
    would through the API; a handled error's issue is not a crash."""
    s, clock = fakes.sentry, fakes.clock
    clock.set(3600.0)
    s.record_session_aggregates("2.0.0", "production", 600.0, exited=1000, errored=5)
    s.record_session_aggregates("2.0.0", "production", 3000.0, exited=900, errored=10, crashed=2)
    s.record_error_events("2.0.0", "production", 3000.0, 2, exc_type="TypeError",
                          value="boom", culprit="ContactsPageNew", unhandled=True)
    s.record_error_events("2.0.0", "production", 3000.0, 1, exc_type="Error",
                          value="handled", culprit="ContactsPageNew")
    clock.set(3660.0)
    api = SentryAPI(fakes.http, "http://sentry.drill", "sntrys_test", s.org)
    assert Counts(*api.session_counts(1800.0, query="release:2.0.0")) == Counts(12, 912)
    issues = api.issues("is:unresolved error.unhandled:true", 7200.0)
    assert [i["title"] for i in issues] == ["TypeError: boom"] and issues[0]["isUnhandled"]
    since = to_datetime(clock, 1200.0)
    assert [c.split()[0] for c in new_critical_issues(issues, since)] == [issues[0]["shortId"]]
    assert new_critical_issues(issues, to_datetime(clock, 3500.0)) == []
    found = incident_issue(api.issues("is:unresolved", 7200.0), since)
    assert found is not None and found["title"] == "TypeError: boom"


def _gate(go: bool | None) -> GateDecision:
    return GateDecision(go, ["the gate's reason"])


@pytest.mark.parametrize(("gate", "go", "final", "early", "on_no_go", "decision", "move"), [
    ("phase1", None, False, False, "off", "CONTINUE", Move.CONTINUE),
    ("phase1", True, False, False, "off", "GO", Move.CONTINUE),
    ("phase1", True, True, False, "off", "GO", Move.ADVANCE),
    ("phase2", True, False, True, "off", "GO", Move.ADVANCE),
    ("phase2", False, False, False, "off", "NO-GO", Move.TURN_OFF),
    ("phase2", False, False, False, "hold", "NO-GO", Move.HOLD),
    ("phase1", None, True, False, "off", "NO-GO", Move.TURN_OFF),
    ("phase3", False, False, False, "off", "NO-GO", Move.ROLL_BACK),
    ("phase3", None, True, False, "off", "NO-GO", Move.ROLL_BACK),
])
def test_each_gate_answer_leads_to_the_runbooks_move(gate: str, go: bool | None, final: bool,
                                                      early: bool, on_no_go: str,
                                                      decision: str, move: Move) -> None:
    """GO advances at the last look (or at once with advance_early); a NO-GO in phases 1-2
    stops the rollout (off or hold), in phase 3 is the emergency rollback; undecided at the
    last look is a NO-GO."""
    call = call_look(gate, _gate(go), final=final, advance_early=early, on_no_go=on_no_go)
    assert (call.decision, call.move) == (decision, move)
    assert "the gate's reason" in call.reasons


def test_a_critical_bug_or_a_repeat_incident_overrides_a_go() -> None:
    """A new crash issue, or the incident's issue back after the fix, is an immediate
    rollback whatever the gate says, and the first reason names it."""
    call = call_look("phase1", _gate(True), final=True, critical=["WEB-2 TypeError"])
    assert call.move is Move.ROLL_BACK and "critical bug: WEB-2" in call.reasons[0]
    call = call_look("phase2", _gate(None), final=False, repeat="WEB-2 (TypeError)")
    assert call.move is Move.ROLL_BACK and "repeat incident" in call.reasons[0]
