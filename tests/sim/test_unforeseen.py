"""Failures the runbook does not foresee: each scenario shows what really happens."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from sim.drills.run import run_drill
from sim.results.run import RunResult
from sim.results.writer import summary
from sim.scenario.model import Scenario

Load = Callable[..., Scenario]


def run(scenario: Load, name: str, *overrides: str
        ) -> tuple[RunResult, dict]:  # type: ignore[type-arg]
    result = run_drill(scenario(name, *overrides, fast=False))
    return result, summary(result)


def test_posthog_outage_leaves_persisted_answers_and_exposes_browsers_with_none(
        scenario: Load) -> None:
    """While PostHog is down, a browser renders the flag its posthog-js persisted (nothing
    replaces it), so exposure widens only by the browsers with nothing persisted, which
    fall back to the env flag ("true"): above the 10 % rollout, below 10 % + their 20 %
    share. With every browser persisted, the outage changes nobody's page."""
    result, _ = run(scenario, "posthog-outage")
    started = result.journal.first("fault_started")
    down = result.journal.first("posthog_unreachable")
    assert started is not None and down is not None
    assert 8 < started.data["exposure_pct"] < 12
    assert started.data["exposure_pct"] < down.data["exposure_pct"] < \
        started.data["exposure_pct"] + 20
    everyone = run_drill(scenario("posthog-outage", "flag.client.persisted_share=1",
                                  fast=False))
    unchanged = everyone.journal.first("posthog_unreachable")
    assert unchanged is not None
    assert unchanged.data["exposure_pct"] == started.data["exposure_pct"]


def test_browsers_with_nothing_persisted_render_the_env_fallback_first(scenario: Load) -> None:
    """The runbook's fallback reads the env flag ("true") whenever posthog-js answers
    undefined, which a browser with nothing persisted does at each load's first render
    until a /flags answer reaches it, PostHog up or down: the latent bug reaches far more
    users than the 10 % rollout (same seed, same traffic)."""
    _, with_gaps = run(scenario, "posthog-outage")
    _, all_persisted = run(scenario, "posthog-outage", "flag.client.persisted_share=1")
    assert with_gaps["metrics"]["affected_users_pct"] > \
        2 * all_persisted["metrics"]["affected_users_pct"]


def test_failing_rollback_api_escalates_to_the_cto_and_falls_back(scenario: Load) -> None:
    """A 503 from Vercel's rollback endpoint fails the rollback (the drill says where), the
    CTO is paged, and the fallback path recovers, too late for the 5-minute target."""
    result, doc = run(scenario, "failing-rollback-api")
    failed = result.journal.first("rollback_failed")
    assert failed is not None and failed.data["where"] == "vercel rollback"
    assert "503" in failed.data["error"]
    escalated = result.journal.first("escalated")
    assert escalated is not None and escalated.data["role"] == "cto"
    assert escalated.t >= failed.t
    fallback = result.journal.first("fallback_decision")
    recovered = result.journal.first("recovered")
    assert fallback is not None and recovered is not None and recovered.t > fallback.t
    assert doc["metrics"]["time_to_rollback_s"] > 300
    assert doc["status"]["time_to_rollback_s"] == "fail"


def test_communications_follow_the_runbook(scenario: Load) -> None:
    """The alert pages PagerDuty and opens the status page, the decision posts the runbook's
    Slack message, the status page goes identified -> monitoring, updates every 15 min."""
    result, _ = run(scenario, "failing-rollback-api")
    slack = [r for r in result.journal.of("comms_slack")]
    initiated = next(r for r in slack if r.data["purpose"] == "rollback_initiated")
    assert initiated.data["text"].startswith("🚨 ROLLBACK INITIATED - Contacts Redesign")
    assert "**Next Update:** 15 minutes" in initiated.data["text"]
    statuses = [r.data.get("status") for r in result.journal.of("comms_statuspage")]
    for status in ("investigating", "identified", "monitoring"):
        assert status in statuses
    pages = [r.data["action"] for r in result.journal.of("comms_pagerduty")]
    assert pages[0] == "trigger" and "acknowledge" in pages
    updates = [r.t for r in slack if r.data["purpose"] == "update"]
    assert updates and all(b - a <= 900 for a, b in itertools.pairwise(updates))


def test_fault_in_old_version_rollback_completes_but_does_not_recover(scenario: Load) -> None:
    """Rolling back to a release with the same fault completes, yet users keep failing:
    every user active from the onset to the horizon was impacted. (Rule changed on
    purpose: affected users are a share of the users active over the affected-users
    window, the day from the onset, no longer of those active during the incident, so
    it is below 100 % though everyone who came got the faulty page.)"""
    result, doc = run(scenario, "fault-in-old-version")
    assert result.journal.first("rollback_completed") is not None
    assert result.journal.first("recovered") is None
    assert doc["status"]["time_to_rollback_s"] == "fail"
    impact = doc["impact"]
    assert impact["users_impacted"] == doc["facts"]["users_active_in_incident"] > 0
    assert doc["metrics"]["affected_users_pct"] == pytest.approx(
        100 * impact["users_impacted"] / impact["users_active_in_window"], abs=1e-3)


def test_alert_with_no_data_is_flagged_not_passed(scenario: Load) -> None:
    """A rule whose query matches nothing stays silent; the drill flags it and fails detection."""
    result, doc = run(scenario, "alert-no-data")
    silent = result.journal.first("alert_silent")
    assert silent is not None and silent.data["no_data_evaluations"] > 0
    assert doc["status"]["time_to_detect_s"] == "fail"
    assert "no data" in doc["reasons"]["time_to_detect_s"]
    assert doc["facts"]["alert_no_data_evaluations"] == doc["facts"][
        "alert_evaluations_in_incident"]


def test_slow_build_breaks_the_env_var_rollback_target(scenario: Load) -> None:
    """A ~12 minute build makes the env-var path miss the < 5 min rollback target."""
    _, doc = run(scenario, "slow-build")
    assert doc["metrics"]["time_to_rollback_s"] > 600
    assert doc["status"]["time_to_rollback_s"] == "fail"


def test_git_revert_deploys_the_revert_through_ci(scenario: Load) -> None:
    """Option C: the pushed revert passes CI, deploys without the redesign and recovers;
    the rollback takes at least the CI build."""
    result, doc = run(scenario, "critical-bug-git-revert")
    deployed = result.journal.first("ci_deployed")
    assert deployed is not None and deployed.data["has_redesign"] is False
    completed = result.journal.first("rollback_completed")
    assert completed is not None and completed.data["revert_sha"] == deployed.data["sha"]
    assert doc["metrics"]["time_to_rollback_s"] >= deployed.data["build_s"]
    assert result.journal.first("recovered") is not None


def test_runbook_force_push_as_written_does_nothing(scenario: Load) -> None:
    """`git checkout <tag>; git push origin main --force` pushes an unchanged main: the
    drill reports the no-op instead of a rollback."""
    result, doc = run(scenario, "git-force-push-as-written")
    failed = result.journal.first("rollback_failed")
    assert failed is not None and failed.data["where"] == "git push"
    assert "Everything up-to-date" in failed.data["error"]
    assert result.journal.first("ci_queued") is None
    assert doc["status"]["time_to_rollback_s"] == "fail"


def test_rejected_push_is_reported_with_the_remote_message(scenario: Load) -> None:
    """A protected main rejects the revert push; the drill names the step and the reason."""
    result, _ = run(scenario, "git-push-rejected")
    failed = result.journal.first("rollback_failed")
    assert failed is not None and failed.data["where"] == "git push"
    assert "protected" in failed.data["error"]


def test_database_rollback_in_runbook_order_loses_nothing(scenario: Load) -> None:
    """Stop, back up, roll back 003-001, verify, restart: the ledger finds every
    acknowledged write in the real database; the app was down while it was stopped."""
    result, doc = run(scenario, "database-rollback")
    checked = result.journal.first("ledger_checked")
    assert checked is not None and checked.data["entries"] > 100
    assert (checked.data["missing"], checked.data["altered"]) == (0, 0)
    down, up = result.journal.first("app_down"), result.journal.first("app_up")
    assert down is not None and up is not None and up.data["version"] == "1.9.0"
    assert doc["metrics"]["data_loss"] == 0 and doc["status"]["data_loss"] == "pass"
    completed = result.journal.first("rollback_completed")
    assert completed is not None and completed.data["rolled_back"] == ["003", "002", "001"]


def test_backup_before_stop_then_restore_loses_the_writes_in_between(scenario: Load) -> None:
    """Backing up before stopping, then restoring, loses exactly the writes acknowledged
    in between: the ledger counts them against the real database."""
    result, doc = run(scenario, "database-rollback-backup-first")
    checked = result.journal.first("ledger_checked")
    assert checked is not None
    assert doc["metrics"]["data_loss"] == checked.data["missing"] + checked.data["altered"] > 0
    assert doc["status"]["data_loss"] == "fail"


def test_rollback_without_the_backup_restores_last_night(scenario: Load) -> None:
    """Without the emergency backup, the restore falls back to last night's backup: every
    write acknowledged before the restore is lost, far more than with the backup."""
    _, doc = run(scenario, "database-rollback-no-backup")
    _, backup_first = run(scenario, "database-rollback-backup-first")
    assert doc["metrics"]["data_loss"] > 10 * backup_first["metrics"]["data_loss"] > 0


def test_docker_compose_rollback_has_downtime_between_down_and_up(scenario: Load) -> None:
    """`docker-compose down` stops the faulty page at once but users get nothing until the
    previous image is pulled and healthy: the downtime is reported. (Rule changed on
    purpose: the stop is no longer "rollback done"; ``test_downtime`` checks that the
    rollback ends only once the previous version serves, healthy.)"""
    result, doc = run(scenario, "critical-bug-docker-compose")
    down, up = result.journal.first("app_down"), result.journal.first("app_up")
    assert down is not None and up is not None and up.t > down.t
    assert up.data["version"] == "1.9.0"
    assert doc["facts"]["downtime_s"] == pytest.approx(up.t - down.t)
    assert doc["status"]["time_to_rollback_s"] == "pass"


@pytest.mark.parametrize(("name", "branch", "actions"), [
    ("pulse-sync-api-errors", "api", ["disable_sync", "use_mock_data", "contact_pulse"]),
    ("pulse-sync-mis-mapped", "mapping", None),
    ("pulse-sync-corruption", "corruption", None),
])
def test_pulse_sync_drill_takes_the_runbook_branch(scenario: Load, name: str, branch: str,
                                                   actions: list[str] | None) -> None:
    """Scenario 3: the sync's failures trigger the response, which disables sync with a
    redeploy (the live build stops syncing) and takes the branch the diagnosis names."""
    result, doc = run(scenario, name)
    assert result.journal.first("scenario3_triggered") is not None
    completed = result.journal.first("rollback_completed")
    assert completed is not None and completed.data["branch"] == branch
    assert completed.data["actions"][0] == "disable_sync"
    if actions is not None:
        assert completed.data["actions"] == actions
    recovered = result.journal.first("recovered")
    assert recovered is not None and doc["metrics"]["time_to_rollback_s"] is not None


def test_moving_control_to_posthog_flips_about_half_the_ab_users(scenario: Load) -> None:
    """Env percentage (hashCode buckets) -> PostHog flag at the same 50 % (sha1 buckets):
    the users who come back after the switch land on a page chosen by an independent hash,
    so about half of them flip; none flip before the switch."""
    result, doc = run(scenario, "flag-migration-flips")
    started = result.journal.first("flag_migration_started")
    assert started is not None and started.data["exposure_before_pct"] == pytest.approx(50, abs=2)
    flipped, seen = doc["facts"]["users_flipped"], doc["facts"]["users_seen"]
    assert 0.05 * seen < flipped < 0.5 * seen
    before = run_drill(scenario("flag-migration-flips", "horizon=2h", "faults.0.at=1h59m",
                                fast=False))
    assert summary(before)["facts"]["users_flipped"] == 0


def test_security_report_is_critical_and_rolls_back_at_once(scenario: Load) -> None:
    """A person's security report (no metric moves) is a Scenario 1 trigger: detection is
    the report, the decision is an immediate rollback, no alert ever fired."""
    result, doc = run(scenario, "security-vulnerability")
    report = result.journal.first("report")
    decision = result.journal.first("decision")
    assert report is not None and report.data["trigger"] == "security"
    assert decision is not None and decision.data["action"] == "rollback"
    assert result.journal.first("alert") is None
    assert doc["metrics"]["time_to_detect_s"] == pytest.approx(report.t - 7200, abs=0.01)
    assert result.journal.first("recovered") is not None


def test_slow_page_load_follows_scenario_2(scenario: Load) -> None:
    """A performance complaint is non-critical: reduce to 10 %, investigate 1-2 h, deploy
    the hotfix (recovery), then restore the rollout — in that order."""
    result, _ = run(scenario, "slow-page-load")
    kinds = [r.kind for r in result.journal.records]
    order = ["report", "decision", "scenario2_reduce", "investigation_done", "hotfix",
             "recovered", "rollout_restored"]
    assert [k for k in kinds if k in order] == order
    decision = result.journal.first("decision")
    assert decision is not None and decision.data["action"] == "investigate"
    reduce, investigated = result.journal.first("scenario2_reduce"), \
        result.journal.first("investigation_done")
    assert reduce is not None and investigated is not None
    assert 3600 <= investigated.t - reduce.t <= 7200
    p95_new = result.stats.series["p95_ms_new"]
    assert float(max(x for x in p95_new if x == x)) > 5000


def test_database_migration_failing_halfway_is_reported_and_loses_nothing(
        scenario: Load) -> None:
    """002's down script fails at its last statement: the drill names the step and the
    migration, pages the CTO, leaves the app stopped (downtime), loses no acknowledged
    write, and does not count the outage as a rollback."""
    result, doc = run(scenario, "database-rollback-migration-fails")
    failed = result.journal.first("rollback_failed")
    assert failed is not None and failed.data["where"] == "rollback migrations"
    assert "002" in failed.data["error"] and "as it was before 002" in failed.data["error"]
    escalated = result.journal.first("escalated")
    assert escalated is not None and escalated.data["role"] == "cto"
    assert doc["metrics"]["data_loss"] == 0
    assert doc["status"]["time_to_rollback_s"] == "fail"
    assert doc["facts"]["downtime_s"] > 3600
