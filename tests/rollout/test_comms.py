"""The runbook's messages as code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rollout.clients import pagerduty
from rollout.incident import comms
from rollout.incident.decision import Severity

RUNBOOK = Path(__file__).resolve().parents[3] / "shared" / "runbook.md"

# The runbook's "Internal Team Notification (Slack)" block, verbatim.
SLACK_TEMPLATE = """\
🚨 ROLLBACK INITIATED - Contacts Redesign

**Severity:** [Critical / High / Medium]
**Time:** 2026-01-25 14:30 UTC
**Affected Users:** [10% / 50% / 100%]

**Issue:**
[Brief description of the problem]

**Action Taken:**
✅ Feature flag disabled
✅ Rollback to previous version initiated
⏳ ETA: 5 minutes

**Status:** IN PROGRESS

**Incident Lead:** [Name]
**Next Update:** 15 minutes"""

# The runbook's "User-Facing Communication (Status Page)" block, verbatim.
STATUSPAGE_TEMPLATE = """\
Contacts Feature Temporarily Unavailable

We've temporarily disabled the new Contacts interface while we investigate a technical issue.

Your contact data is safe and accessible via the original interface.

We apologize for any inconvenience and expect to restore the feature within [timeframe].

Status: Investigating → Identified → Monitoring → Resolved"""


def _runbook_blocks() -> list[str]:
    text = RUNBOOK.read_text(encoding="utf-8")
    return [block.split("\n", 1)[1].rsplit("\n", 1)[0]
            for block in text.split("```")[1::2] if block.startswith("\n")]


@pytest.mark.skipif(not RUNBOOK.exists(), reason="the shared runbook is not beside the repo")
def test_templates_here_are_the_runbooks_own() -> None:
    """The templates these tests fill in are copied verbatim from the runbook."""
    blocks = _runbook_blocks()
    assert SLACK_TEMPLATE in blocks
    assert STATUSPAGE_TEMPLATE in blocks


def test_rollback_slack_message_is_the_runbook_template_filled_in() -> None:
    """Rule: the Slack notification is the runbook's template with its blanks filled."""
    text = comms.rollback_slack_message(
        "Critical", datetime(2026, 1, 25, 14, 30, 42, tzinfo=UTC), 50,
        "Contacts page crashes on load", [(True, "Feature flag disabled"),
                                          (True, "Rollback to previous version initiated")],
        5, "IN PROGRESS", "Ada Lovelace")
    expected = (SLACK_TEMPLATE.replace("[Critical / High / Medium]", "Critical")
                .replace("[10% / 50% / 100%]", "50%")
                .replace("[Brief description of the problem]", "Contacts page crashes on load")
                .replace("[Name]", "Ada Lovelace"))
    assert text == expected


def test_slack_message_marks_pending_actions_and_rounds_exposure() -> None:
    """Rule: a pending action gets ⏳, done ✅; exposure shows one decimal; time is UTC."""
    text = comms.rollback_slack_message(
        "Medium", datetime(2026, 1, 25, 15, 5, tzinfo=UTC), 12.3456, "slow page",
        [(True, "Rollout reduced to 10%"), (False, "Root cause analysis")], "2 minutes",
        "IN PROGRESS", "Lead", next_update_min=30)
    assert "✅ Rollout reduced to 10%\n⏳ Root cause analysis\n⏳ ETA: 2 minutes" in text
    assert "**Affected Users:** 12.3%" in text
    assert "**Time:** 2026-01-25 15:05 UTC" in text
    assert text.endswith("**Next Update:** 30 minutes")


def test_decision_severity_maps_to_the_templates_words() -> None:
    """Rule: a critical decision is "Critical"; anything else "Medium"."""
    assert comms.slack_severity(Severity.CRITICAL) == "Critical"
    assert comms.slack_severity(Severity.NON_CRITICAL) == "Medium"


def test_rollback_actions_say_what_was_initiated_and_the_eta() -> None:
    """Rule: a path's action is one ✅ line and its ETA the runbook's minutes."""
    action = comms.RollbackAction("Rollback to previous version initiated (vercel rollback)", 5)
    assert comms.rollback_actions(action) == (
        [(True, "Rollback to previous version initiated (vercel rollback)")], "5 minutes")


@pytest.mark.parametrize(("taken", "minutes"), [("", 5), ("  ", 5), ("Flag off", 0),
                                                  ("Flag off", -2)])
def test_rollback_action_without_a_line_or_an_eta_is_refused(taken: str, minutes: float) -> None:
    """Rule: a path's comms description needs its "Action Taken" line and an ETA > 0."""
    with pytest.raises(ValueError):
        comms.RollbackAction(taken, minutes)


def test_statuspage_identified_text_is_the_user_facing_template() -> None:
    """Rule: the "identified" post is the runbook's User-Facing Communication, its
    title the incident's name and its body the template text with the timeframe."""
    body = comms.statuspage_body("identified", timeframe="24 hours")
    expected = STATUSPAGE_TEMPLATE.replace("[timeframe]", "24 hours")
    title, rest = expected.split("\n\n", 1)
    assert title == comms.STATUSPAGE_TITLE
    assert body == rest.rsplit("\n\n", 1)[0]


def test_pagerduty_trigger_is_complete_with_a_timestamp() -> None:
    """Rule: a trigger always carries payload.timestamp (ISO-8601 UTC) and the fields
    the Events API v2 requires."""
    event = pagerduty.trigger_event("k" * 32, "dd", "summary", "sentry", "critical",
                                    datetime(2026, 1, 25, 14, 0, 1, tzinfo=UTC),
                                    custom_details={"a": 1})
    assert event["event_action"] == "trigger" and event["dedup_key"] == "dd"
    assert event["payload"] == {"summary": "summary", "source": "sentry",
                                "severity": "critical", "timestamp": "2026-01-25T14:00:01.000Z",
                                "custom_details": {"a": 1}}
    assert pagerduty.acknowledge_event("k", "dd") == {
        "routing_key": "k", "event_action": "acknowledge", "dedup_key": "dd"}
    assert pagerduty.resolve_event("k", "dd")["event_action"] == "resolve"
    with pytest.raises(ValueError, match="severity"):
        pagerduty.trigger_event("k", "dd", "s", "src", "fatal", "2026-01-25T14:00:00Z")
