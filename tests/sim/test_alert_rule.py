"""Every scenario's alert rule is one Sentry accepts (created over the fake's HTTP API),
and a scenario keeping a rule Sentry refuses fails to load with Sentry's message."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.common.clock import ManualClock
from fakes.sentry.backend import SentryBackend
from fakes.sentry.router import build_app
from sim.errors import ScenarioError
from sim.scenario.loader import load_scenario
from sim.scenario.monitoring import AlertRule, Monitoring
from tests.fakes.clients import InProcessClient

SCENARIOS = sorted(Path("scenarios").glob("*.yaml"))
TOKEN = {"Authorization": "Bearer sntrys_drill"}
RULES = "/api/0/organizations/logos-vision/alert-rules/"
OLD_DEFAULT = """\
name: old-default
faults: [{kind: error_spike, at: 1h, error_rate: 0.6}]
monitoring:
  alert: {aggregate: "percentage(sessions_errored, sessions)", time_window: 5m, threshold: 5}
"""


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenarios_rule_is_created_by_the_fakes_alert_rule_api(path: Path) -> None:
    scenario = load_scenario(path)
    backend = SentryBackend(ManualClock())
    http = InProcessClient(build_app(backend), "http://sentry.test").request
    m = scenario.monitoring
    response = http("POST", RULES, json=m.alert.payload(m.environment, backend.project_slug),
                    headers=TOKEN)
    assert response.status_code == 201, response.text


def test_a_scenario_with_the_errored_session_rule_fails_with_sentrys_message(
        tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(OLD_DEFAULT)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: field 'monitoring.alert.aggregate': Sentry refuses")
    assert "Only crash free percentage queries are supported for crash rate alerts" in message


def test_a_crash_rate_rule_over_5_minutes_names_sentrys_allowed_windows(tmp_path: Path) -> None:
    path = tmp_path / "crash5.yaml"
    path.write_text(OLD_DEFAULT.replace(
        'aggregate: "percentage(sessions_errored, sessions)"',
        'aggregate: "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate", '
        'query: "", threshold_type: below'))
    with pytest.raises(ScenarioError, match=r"field 'monitoring\.alert\.time_window': Sentry "
                       r"refuses this rule: Invalid Time Window: Allowed time windows for "
                       r"crash rate alerts are: 30min, 1h, 2h, 4h, 12h and 24h"):
        load_scenario(path)


def test_the_default_rule_counts_error_events_and_is_evaluated_every_minute() -> None:
    """The default: count() of error events over 5 min (Sentry's resolution: 1 min); a
    30-minute crash-rate rule is evaluated every 2 minutes on a 60-second tick."""
    rule = AlertRule()
    assert (rule.aggregate, rule.dataset, rule.query) == ("count()", "events",
                                                          "event.type:error")
    assert Monitoring().evaluation_period == 60.0
    crash = AlertRule(aggregate="percentage(sessions_crashed, sessions) AS "
                                "_crash_rate_alert_aggregate", query="", time_window=1800,
                      threshold=95, threshold_type="below")
    assert Monitoring(alert=crash).evaluation_period == 120.0
