"""The incident commander against the Slack, Statuspage and PagerDuty fakes, in virtual
time: status lifecycle, 15-minute updates, escalation, resolution."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
import simpy

from fakes.common.clock import DEFAULT_EPOCH, to_datetime
from fakes.common.descriptor import Start
from fakes.sentry.alerts import sign
from rollout.incident import comms
from rollout.incident.decision import Decision, decide
from sim.drills.commander import IncidentCommander
from sim.drills.paging import IncidentSpec, acks_after, nobody_acks
from sim.journal import Journal
from sim.rng import Streams
from sim.scenario.model import Scenario
from sim.scenario.paths import PATHS
from sim.world.clock import SimClock
from sim.world.fakes import CommsFakes
from sim.world.pager import Pager, build_pager_app
from sim.world.transport import InProcessTransport

ALERT = {"action": "critical",
         "data": {"metric_alert": {"id": "42", "title": "Contacts error rate > 5%"}}}
DEDUP = "contacts-redesign-42"


@dataclass
class Harness:
    """One drill's clock, journal, comms fakes over in-process HTTP, and the commander."""

    env: simpy.Environment
    clock: SimClock
    journal: Journal
    fakes: CommsFakes
    commander: IncidentCommander

    def at(self, t: float, hook: Callable[..., None], *args: Any) -> None:
        """Call ``hook(*args)`` at virtual time ``t``."""
        def call() -> Generator[simpy.Event, Any, None]:
            yield self.env.timeout(t - self.env.now)
            hook(*args)

        self.env.process(call())

    def run(self, until: float) -> None:
        self.env.run(until=until)

    def kinds(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(r.t, r.data) for r in self.journal.of(kind)]

    def statuspage_timeline(self) -> list[tuple[float, str]]:
        (incident,) = self.fakes.statuspage.incidents.values()
        return [(u.at, u.status.value) for u in incident.updates]


@pytest.fixture
def drill() -> Iterator[Callable[..., Harness]]:
    """``drill(spec)``: a fresh harness whose commander process is already started."""
    opened: list[tuple[httpx.Client, InProcessTransport]] = []

    def make(spec: IncidentSpec | None = None) -> Harness:
        env = simpy.Environment()
        clock = SimClock(env, DEFAULT_EPOCH)
        journal = Journal(clock)
        fakes = comms_fakes(clock)
        transport = InProcessTransport({host: build(backend) for host, (build, backend, _)
                                        in fakes.app_specs().items()})
        http = httpx.Client(transport=transport, timeout=None)
        opened.append((http, transport))
        commander = IncidentCommander(env, journal, http, fakes.endpoints(), clock,
                                      np.random.default_rng(7), spec)
        env.process(commander.run())
        return Harness(env, clock, journal, fakes, commander)

    yield make
    for http, transport in opened:
        http.close()
        transport.close()


def comms_fakes(clock: SimClock) -> CommsFakes:
    """The incident's three fakes as a drill world creates them."""
    return CommsFakes.create(Start(clock, Scenario(name="incident"), Streams(7).get))


def _rollback(path: str = "vercel-rollback") -> Decision:
    return decide(ALERT, path)


def test_statuspage_goes_investigating_identified_monitoring_resolved(drill: Any) -> None:
    """Rule: alert → investigating, decision → identified, recovery → monitoring, and
    resolved after the monitoring period, each at the hook's virtual time."""
    h = drill(IncidentSpec(monitoring_period=1800.0))
    h.at(100, h.commander.on_alert, ALERT)
    h.at(160, h.commander.on_decision, _rollback())
    h.at(400, h.commander.on_recovered)
    h.run(until=4000)
    statuses = [(t, s) for t, s in h.statuspage_timeline()]
    changes = [(t, s) for n, (t, s) in enumerate(statuses) if n == 0 or statuses[n - 1][1] != s]
    assert changes == [(100, "investigating"), (160, "identified"), (400, "monitoring"),
                       (2200, "resolved")]
    (incident,) = h.fakes.statuspage.incidents.values()
    assert incident.name == comms.STATUSPAGE_TITLE
    assert (incident.monitoring_at, incident.resolved_at) == (400, 2200)
    identified = next(u for u in incident.updates if u.status.value == "identified")
    assert identified.body == comms.statuspage_body("identified", "1 week")


def test_updates_every_15_minutes_while_open(drill: Any) -> None:
    """Rule: while the incident is open, an update (Statuspage + Slack) goes out whenever
    15 minutes passed since the last post; none after it is resolved. Over a one-hour
    incident (alert at 0, decision at 5 min, recovered at 30 min, resolved at 60 min):
    updates at 20 and 45 min, and no gap between posts above 15 minutes."""
    h = drill(IncidentSpec(monitoring_period=1800.0))
    h.at(0, h.commander.on_alert, ALERT)
    h.at(300, h.commander.on_decision, _rollback())
    h.at(1800, h.commander.on_recovered)
    h.run(until=3 * 3600)
    updates = [t for t, d in h.kinds("comms_slack") if d["purpose"] == "update"]
    assert updates == [1200, 2700]
    posts = [t for t, _ in h.statuspage_timeline()]
    assert posts == [0, 300, 1200, 1800, 2700, 3600]
    assert max(b - a for a, b in itertools.pairwise(posts)) <= 900
    assert h.commander.resolved.triggered and h.commander.resolved.value == 3600


def test_silent_hour_gets_four_updates(drill: Any) -> None:
    """Rule: an incident nobody acts on still gets an update every 15 minutes: four in
    its first hour, on both channels."""
    h = drill()
    h.at(0, h.commander.on_alert, ALERT)
    h.run(until=3600.5)
    slack = [t for t, d in h.kinds("comms_slack") if d["purpose"] == "update"]
    statuspage = [t for t, d in h.kinds("comms_statuspage") if d["action"] == "update"]
    assert slack == statuspage == [900, 1800, 2700, 3600]
    text = h.fakes.slack.messages()[0].text or ""
    assert text.startswith("🔄 UPDATE - Contacts Redesign") and "INVESTIGATING" in text


def test_nobody_acks_escalates_to_devops_lead_then_cto(drill: Any) -> None:
    """Rule: nobody acknowledges → PagerDuty pages the DevOps Lead 5 min after the
    Incident Lead, the CTO 5 min later; each escalation is journaled with its reason
    and told on Slack."""
    h = drill(IncidentSpec(ack_delay=nobody_acks, escalated_ack_delay=nobody_acks,
                           devops_lead="Grace", cto="Linus"))
    h.at(100, h.commander.on_alert, ALERT)
    h.run(until=2000)
    pages = [(n.at, n.target, n.reason) for n in h.fakes.pagerduty.notifications(DEDUP)]
    assert pages == [(100, "incident-lead", "triggered"), (400, "devops-lead", "escalated"),
                     (700, "cto", "escalated")]
    escalated = h.kinds("escalated")
    assert [(t, d["role"], d["name"]) for t, d in escalated] == [(400, "devops-lead", "Grace"),
                                                                 (700, "cto", "Linus")]
    assert all("nobody acknowledged" in d["reason"] for _, d in escalated)
    alerts = [m for m in h.fakes.slack.messages() if (m.text or "").startswith("⚠️ ESCALATED")]
    assert [m.at for m in alerts] == [400, 700]
    assert "CTO (Linus)" in (alerts[1].text or "")
    assert not any(d["action"] == "acknowledge" for _, d in h.kinds("comms_pagerduty"))


def test_ack_in_time_stops_escalation(drill: Any) -> None:
    """Rule: the Incident Lead acknowledging within the policy delay stops escalation."""
    h = drill(IncidentSpec(ack_delay=acks_after(120.0)))
    h.at(100, h.commander.on_alert, ALERT)
    h.run(until=2000)
    incident = h.fakes.pagerduty.incident(DEDUP)
    assert (incident.status.value, incident.acknowledged_at) == ("acknowledged", 220)
    assert [n.target for n in h.fakes.pagerduty.notifications(DEDUP)] == ["incident-lead"]
    assert h.kinds("escalated") == []
    ack = [d for _, d in h.kinds("comms_pagerduty") if d["action"] == "acknowledge"]
    assert ack == [{"action": "acknowledge", "dedup_key": DEDUP, "level": 1,
                    "by": "incident-lead", "name": "Incident Lead", "paged_at": 100}]


def test_late_ack_comes_from_the_level_then_paged(drill: Any) -> None:
    """Rule: a first level slower than the escalation timeout never acks; the DevOps Lead,
    paged at the timeout, acks after their own delay; no CTO page."""
    h = drill(IncidentSpec(ack_delay=acks_after(400.0), escalated_ack_delay=acks_after(100.0)))
    h.at(0, h.commander.on_alert, ALERT)
    h.run(until=2000)
    assert [n.target for n in h.fakes.pagerduty.notifications(DEDUP)] == \
        ["incident-lead", "devops-lead"]
    ack = [(t, d["by"], d["paged_at"]) for t, d in h.kinds("comms_pagerduty")
           if d["action"] == "acknowledge"]
    assert ack == [(400, "devops-lead", 300)]
    assert h.commander.acknowledged.value.at == 400


def test_rollback_initiated_notifies_devops_lead_on_slack(drill: Any) -> None:
    """Rule: the decision posts the runbook's ROLLBACK INITIATED message (filled with the
    drill's time and exposure) and notifies the DevOps Lead."""
    h = drill(IncidentSpec(incident_lead="Ada"))
    h.at(100, lambda: h.journal.add("fault_started", exposure_pct=49.87))
    h.at(130, h.commander.on_alert, ALERT)
    h.at(190, h.commander.on_decision, _rollback("posthog-flag-disable"))
    h.run(until=200)
    first, notice = h.fakes.slack.messages()
    actions, eta = comms.rollback_actions(PATHS["posthog-flag-disable"].comms)
    assert first.at == 190
    assert first.text == comms.rollback_slack_message(
        "Critical", to_datetime(h.clock, 190), 49.87,
        "Sentry alert 'Contacts error rate > 5%' fired (critical).", actions, eta,
        "IN PROGRESS", "Ada")
    assert "DevOps Lead" in (notice.text or "")
    (t, notified), = [(t, d) for t, d in h.kinds("notified") if d["role"] == "devops-lead"]
    assert t == 190 and notified["via"] == ["slack"] and "posthog-flag-disable" in \
        notified["reason"]


def test_rollback_failed_notifies_the_cto_with_the_reason(drill: Any) -> None:
    """Rule: rollback failed → the CTO is paged through PagerDuty at once and told on
    Slack, with where and why it failed."""
    h = drill(IncidentSpec(ack_delay=acks_after(60.0), cto="Linus"))
    h.at(100, h.commander.on_alert, ALERT)
    h.at(150, h.commander.on_decision, _rollback())
    h.at(250, h.commander.on_rollback_failed, "vercel rollback", "alias job failed")
    h.run(until=1000)
    cto = [n for n in h.fakes.pagerduty.notifications(DEDUP) if n.target == "cto"]
    assert [(n.at, n.reason, n.level) for n in cto] == [(250, "manual", 3)]
    (t, escalated), = h.kinds("escalated")
    assert t == 250 and escalated["role"] == "cto" and escalated["name"] == "Linus"
    assert "vercel rollback: alias job failed" in escalated["reason"]
    assert set(escalated["via"]) == {"slack", "pagerduty"}
    slack = [m for m in h.fakes.slack.messages() if m.at == 250]
    assert len(slack) == 1 and "alias job failed" in (slack[0].text or "")
    assert "CTO (Linus)" in (slack[0].text or "")


def test_pagerduty_resolved_at_the_end_of_monitoring(drill: Any) -> None:
    """Rule: PagerDuty is resolved once the monitoring period after recovery ends, with
    Statuspage "resolved" and a Slack note at the same time; nothing is sent after."""
    h = drill(IncidentSpec(monitoring_period=1800.0))
    h.at(0, h.commander.on_alert, ALERT)
    h.at(60, h.commander.on_decision, _rollback())
    h.at(300, h.commander.on_recovered)
    h.run(until=10_000)
    incident = h.fakes.pagerduty.incident(DEDUP)
    assert (incident.status.value, incident.resolved_at) == ("resolved", 2100)
    last = h.journal.records[-1]
    assert last.t == 2100 and last.kind == "comms_slack" and last.data["purpose"] == "resolved"
    assert h.statuspage_timeline()[-1] == (2100, "resolved")
    assert max(r.t for r in h.journal.records) == 2100


def test_a_refused_send_is_journaled_and_the_incident_goes_on(drill: Any) -> None:
    """Rule: a vendor refusing a message (archived Slack channel) is a ``comms_failed``
    record; Statuspage and PagerDuty still get theirs."""
    h = drill()
    h.fakes.slack.update_channel("#incidents", archived=True)
    h.at(0, h.commander.on_alert, ALERT)
    h.at(60, h.commander.on_decision, _rollback())
    h.run(until=100)
    failed = h.kinds("comms_failed")
    assert failed and all(d["channel"] == "slack" and "410" in d["error"] for _, d in failed)
    assert [s for _, s in h.statuspage_timeline()] == ["investigating", "identified"]


def test_hooks_may_be_called_from_inside_the_pagers_webhook_handler() -> None:
    """Rule: the runner hears alerts inside an in-process ASGI handler (the pager); a hook
    called there must not make a nested HTTP call, so the incident still opens, at the
    alert's virtual time."""
    env = simpy.Environment()
    clock = SimClock(env, DEFAULT_EPOCH)
    journal = Journal(clock)
    fakes = comms_fakes(clock)
    commanders: list[IncidentCommander] = []
    apps = {host: build(backend) for host, (build, backend, _) in fakes.app_specs().items()}
    apps["pager.drill"] = build_pager_app(Pager("secret", lambda p: commanders[0].on_alert(p),
                                                lambda why: None))
    transport = InProcessTransport(apps)
    with httpx.Client(transport=transport) as http:
        commanders.append(IncidentCommander(env, journal, http, fakes.endpoints(), clock,
                                            np.random.default_rng(0)))
        env.process(commanders[0].run())
        body = json.dumps(ALERT).encode()

        def sentry() -> Generator[simpy.Event, Any, None]:
            yield env.timeout(50)
            response = http.post("http://pager.drill/sentry-webhook", content=body,
                                 headers={"sentry-hook-signature": sign(body, "secret")})
            assert response.status_code == 200

        env.process(sentry())
        env.run(until=60)
    transport.close()
    assert [(r.t, r.kind) for r in journal.records][:2] == [(50, "comms_pagerduty"),
                                                            (50, "notified")]
    assert fakes.pagerduty.incident(DEDUP).triggered_at == 50
    assert journal.first("comms_failed") is None


def test_endpoints_are_checked() -> None:
    """Rule: a commander without every endpoint is refused, naming what is missing."""
    env = simpy.Environment()
    clock = SimClock(env, DEFAULT_EPOCH)
    with pytest.raises(KeyError, match="pagerduty_routing_key"):
        IncidentCommander(env, Journal(clock), httpx.Client(), {"slack_webhook_url": "x"},
                          clock, np.random.default_rng(0))
