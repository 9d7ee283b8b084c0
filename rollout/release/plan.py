"""The gradual rollout as the team runs it: who sees the new page in each phase, the
control-plane calls that change it, what Sentry says between looks, and what each gate's
answer makes the team do next.

- **Exposure** (``Exposure``): internal users only, a percentage (internal users always
  included, as the runbook's phase-2 code does), or off. ``set_exposure_vercel`` sets
  ``VITE_FEATURE_CONTACTS_REDESIGN``/``VITE_ROLLOUT_PERCENTAGE`` and redeploys (Vite bakes
  them into the bundle: nothing changes until the build is READY and aliased);
  ``set_exposure_posthog`` PATCHes the PostHog flag's release conditions (it reaches each
  browser at its next page load). Both are procedures (``rollout.steps``).
- **Monitoring**: what Sentry says, read through ``rollout.clients.sentry.SentryAPI`` (the
  error rate from release health, the issue list): ``new_critical_issues`` and
  ``incident_issue`` pick out what a person looks for in it.
- **Decisions** (``call_look``): the runbook's go/no-go rules turned into a move —
  continue, advance to the next phase, hold, turn the feature off, or the emergency
  rollback (phase 3's "ROLLBACK — follow emergency procedures", a critical bug, or the
  incident's issue coming back after a fix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from rollout.clients.errors import VendorError
from rollout.clients.posthog import PostHogAPI
from rollout.clients.vercel import VercelAPI
from rollout.deploy.vercel import (
    ensure_live,
    production_env,
    production_target,
    wait_alias,
    wait_ready,
)
from rollout.release.flags import INTERNAL_ENV_FLAG, ROLLOUT_ENV
from rollout.release.gates import GateDecision
from rollout.steps import Manual, Procedure, RollbackFailed

NEW_PAGE = "ContactsPageNew"
OLD_PAGE = "ContactsPageOld"


# --- exposure ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Exposure:
    """Who gets the new page: ``internal`` users only, ``percentage`` % (plus internal
    users), or nobody (``off``)."""

    kind: str  # "internal" | "percentage" | "off"
    percentage: float = 0.0

    @classmethod
    def of(cls, spec: str | float) -> Exposure:
        """From a plan's ``exposure``: ``"internal"`` or a percentage (0 is off)."""
        if spec == "internal":
            return cls("internal")
        return cls("percentage", float(spec)) if float(spec) > 0 else cls("off")

    @property
    def label(self) -> str:
        return {"internal": "internal users", "off": "off"}.get(
            self.kind, f"{self.percentage:g} %")

    def env(self) -> dict[str, str]:
        """The ``VITE_*`` values the percentage form of the flag function needs."""
        if self.kind == "off":
            return {INTERNAL_ENV_FLAG: "false"}
        return {INTERNAL_ENV_FLAG: "true", ROLLOUT_ENV: f"{self.percentage:g}"}

    def posthog_filters(self, internal_ids: Sequence[str]) -> dict[str, Any]:
        """PostHog release conditions: the internal users, then the percentage."""
        internal = {"properties": [{"key": "distinct_id", "type": "person",
                                    "operator": "exact", "value": list(internal_ids)}],
                    "rollout_percentage": 100}
        groups = [internal] if internal_ids else []
        if self.kind == "percentage":
            groups.append({"properties": [], "rollout_percentage": self.percentage})
        return {"groups": groups or [{"properties": [], "rollout_percentage": 0}]}


def set_exposure_vercel(api: VercelAPI, project_id: str, exposure: Exposure,
                        poll: float = 5.0) -> Procedure:
    """Set the ``VITE_*`` variables for ``exposure`` and redeploy once; done when the new
    build is READY and holds the production alias (promoted if an instant rollback turned
    auto-assignment off). Nothing to change: no build. Raises RollbackFailed."""
    yield Manual("open Vercel → Settings → Environment Variables")
    try:
        current = production_env(api, project_id)
        changes = {k: v for k, v in exposure.env().items()
                   if k not in current or current[k][1] != v}
        for key, value in changes.items():
            yield Manual(f"set {key}={value} and save")
            _put_env(api, project_id, key, value, current[key][0] if key in current else None)
        if not changes:
            return {"changed": [], "deployment_id": None}
        yield Manual("Deployments → current production → Redeploy")
        source = _production_deployment(api, project_id)
        created = api.call("POST", "/v13/deployments", json={
            "name": source["name"], "deploymentId": source["id"], "target": "production"})
    except VendorError as exc:
        raise RollbackFailed("vercel env vars + redeploy", str(exc)) from exc
    deployment_id = str(created["id"])
    yield from wait_ready(api, deployment_id, poll)
    yield from ensure_live(api, project_id, deployment_id, poll)
    return {"changed": sorted(changes), "deployment_id": deployment_id}


def _put_env(api: VercelAPI, project_id: str, key: str, value: str, env_id: str | None) -> None:
    if env_id is None:
        api.call("POST", f"/v10/projects/{project_id}/env", json={
            "key": key, "value": value, "type": "plain", "target": ["production"]})
    else:
        api.call("PATCH", f"/v10/projects/{project_id}/env/{env_id}",
                 json={"value": value, "target": ["production"], "type": "plain"})


def _production_deployment(api: VercelAPI, project_id: str) -> dict[str, Any]:
    live = production_target(api, project_id)
    if not live.get("id"):
        raise RollbackFailed("vercel redeploy", "no deployment holds the production alias")
    return api.get_deployment(str(live["id"]))


def vercel_deploy(api: VercelAPI, project: str, version: str, has_redesign: bool = True,
                  poll: float = 5.0) -> Procedure:
    """Deploy a release to ``project``'s production target (``./deploy-vercel.sh``); done
    when the build is READY and serves. Raises RollbackFailed."""
    yield Manual(f"deploy {version} to {project}")
    try:
        created = api.call("POST", "/v13/deployments", json={
            "name": project, "target": "production",
            "meta": {"version": version, "hasRedesign": "true" if has_redesign else "false"}})
    except VendorError as exc:
        raise RollbackFailed("vercel deploy", str(exc)) from exc
    deployment_id = str(created["id"])
    yield from wait_ready(api, deployment_id, poll)
    yield from ensure_live(api, str(created["projectId"]), deployment_id, poll)
    return {"deployment_id": deployment_id, "url": created.get("url"), "version": version}


def vercel_rollback_to(api: VercelAPI, project_id: str, url: str, poll: float = 0.25) -> Procedure:
    """``vercel rollback <url>``: point production back at the named deployment (no build),
    polled as the CLI does. Raises RollbackFailed when the API refuses or the alias fails."""
    yield Manual("vercel ls --prod")
    try:
        api.call("GET", "/v2/user")
        target = api.get_deployment(url)
        yield Manual(f"vercel rollback {url}")
        api.call("POST", f"/v9/projects/{project_id}/rollback/{target['id']}", json={})
    except VendorError as exc:
        raise RollbackFailed("vercel rollback", str(exc)) from exc
    yield from wait_alias(api, project_id, str(target["id"]), poll)
    return {"deployment_id": target["id"], "url": target.get("url")}


def set_exposure_posthog(api: PostHogAPI, key: str, exposure: Exposure,
                         internal_ids: Sequence[str]) -> Procedure:
    """Set the PostHog flag's release conditions for ``exposure`` (0 % for everyone when
    off: an inactive flag is left out of ``/flags``, posthog-js then answers ``undefined``
    and the runbook's code falls back to the env flag, which may be on). Raises
    RollbackFailed."""
    yield Manual(f"PostHog → Feature Flags → {key} → release conditions: {exposure.label}")
    try:
        flag = api.flag_by_key(key)
        groups = [{"properties": [], "rollout_percentage": 0}] if exposure.kind == "off" \
            else exposure.posthog_filters(internal_ids)["groups"]
        changes: dict[str, Any] = {"active": True,
                                   "filters": {**(flag.get("filters") or {}), "groups": groups}}
        updated = api.patch_flag(int(flag["id"]), changes)
    except VendorError as exc:
        raise RollbackFailed("posthog release conditions", str(exc)) from exc
    return {"flag_id": updated.get("id"), "version": updated.get("version"),
            "active": updated.get("active")}


# --- monitoring ---------------------------------------------------------------------------


def new_critical_issues(issues: Sequence[Mapping[str, Any]], since: datetime) -> list[str]:
    """The crash issues on the new page (unhandled errors: Sentry's ``isUnhandled``,
    github:getsentry/sentry ``src/sentry/api/serializers/models/group.py``) first seen at
    or after ``since``."""
    return [f"{i['shortId']} {i['title']}" for i in issues
            if i.get("isUnhandled") and i.get("culprit") == NEW_PAGE
            and _parse_iso(str(i["firstSeen"])) >= since]


def incident_issue(issues: Sequence[Mapping[str, Any]], since: datetime) -> dict[str, Any] | None:
    """The issue behind an incident: the most frequent one raised by a Contacts page and
    first seen at or after ``since`` (None when nothing new appeared)."""
    fresh = [i for i in issues if i.get("culprit") in (NEW_PAGE, OLD_PAGE)
             and _parse_iso(str(i["firstSeen"])) >= since]
    return dict(max(fresh, key=lambda i: int(i["count"]))) if fresh else None


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- decisions --------------------------------------------------------------------------


class Move(StrEnum):
    """What the team does after a look."""

    CONTINUE = "continue"  # keep collecting (phases 1, 2) or monitoring (phase 3)
    ADVANCE = "advance"  # the phase passed: next exposure, or the rollout is complete
    HOLD = "hold"  # NO-GO: stop the rollout where it is
    TURN_OFF = "turn-off"  # NO-GO: nobody gets the new page (phases 1, 2)
    ROLL_BACK = "roll-back"  # the emergency procedure, by the responder's path


@dataclass(frozen=True)
class LookCall:
    """The team's call at one look: the gate's answer (GO, NO-GO, CONTINUE), the move and
    every reason."""

    decision: str
    move: Move
    reasons: tuple[str, ...]


def call_look(gate: str, decision: GateDecision, *, final: bool, advance_early: bool = False,
              critical: Sequence[str] = (), repeat: str | None = None,
              on_no_go: str = "off") -> LookCall:
    """Turn a gate's answer into the team's move.

    A critical bug (a new crash issue on the new page) or the incident's issue back after
    a fix is a NO-GO and an immediate rollback whatever the gate says (runbook Scenario 1;
    "monitor closely for repeat issues"). A NO-GO in phase 3 is the runbook's ROLLBACK; in
    phases 1 and 2 the rollout stops (``on_no_go``: ``off`` turns the feature off, ``hold``
    stays). GO advances at the phase's last look, or at once with ``advance_early`` (the
    A/B test has stopped). A gate still undecided at the last look is a NO-GO: the
    criteria were not established within the phase.
    """
    why = tuple(decision.reasons)
    if repeat or critical:
        found = ([f"repeat incident: {repeat} is back after the fix"] if repeat else []) + \
            [f"critical bug: {c}" for c in critical]
        return LookCall("NO-GO", Move.ROLL_BACK,
                        (f"NO-GO: {'; '.join(found)}: immediate rollback", *why))
    if decision.go is None and final:
        why = (f"NO-GO ({gate.replace('phase', 'phase ')}): the criteria were not established "
               "by the phase's last look", *why)
    if decision.go is False or (decision.go is None and final):
        move = Move.ROLL_BACK if gate == "phase3" else \
            (Move.HOLD if on_no_go == "hold" else Move.TURN_OFF)
        return LookCall("NO-GO", move, why)
    if decision.go:
        move = Move.ADVANCE if final or advance_early else Move.CONTINUE
        return LookCall("GO", move, why if move is Move.ADVANCE else
                        (*why, "GO so far: the phase runs to its last look"))
    return LookCall("CONTINUE", Move.CONTINUE, why)
