"""The fake PostHog backend: flag lifecycle, versions, evaluation, capture, control plane."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fakes.common.clock import ManualClock
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.errors import HardDeleteForbidden, InvalidApiKey, NotFound, ValidationError
from fakes.posthog.evaluation import posthog_hash

USERS = [f"user-{i}" for i in range(10_000)]


def rollout(percentage: float | None, properties: list[dict[str, Any]] | None = None
            ) -> dict[str, Any]:
    return {"groups": [{"properties": properties or [], "rollout_percentage": percentage}]}


# --- lifecycle ---------------------------------------------------------------------------

def test_flags_get_sequential_ids_and_start_at_version_one(backend: PostHogBackend) -> None:
    a = backend.create_feature_flag("a", "A", True, rollout(10))
    b = backend.create_feature_flag("b")
    assert (a.id, b.id) == (1, 2)
    assert a.version == b.version == 1
    assert b.filters == {"groups": [], "multivariate": None, "payloads": {}}


def test_every_change_bumps_the_flag_version_updated_at_and_definitions_etag(
        backend: PostHogBackend, clock: ManualClock) -> None:
    flag = backend.create_feature_flag("f", filters=rollout(10))
    etag = backend.definitions_etag
    clock.advance(60)
    backend.patch_feature_flag(flag.id, {"filters": rollout(50)})
    assert flag.version == 2 and flag.updated_at == 60
    assert backend.definitions_etag != etag
    backend.patch_feature_flag(flag.id, {"active": False})
    assert flag.version == 3 and flag.active is False


def test_a_live_key_is_unique_but_reusable_after_soft_delete(backend: PostHogBackend) -> None:
    old = backend.create_feature_flag("f")
    with pytest.raises(ValidationError) as info:
        backend.create_feature_flag("f")
    assert info.value.attr == "key"
    backend.patch_feature_flag(old.id, {"deleted": True})
    new = backend.create_feature_flag("f")
    assert backend.flag_by_key("f") is new
    with pytest.raises(ValidationError):  # undeleting would make two live "f"
        backend.patch_feature_flag(old.id, {"deleted": False})


def test_soft_delete_hides_a_flag_everywhere_but_get_by_id(backend: PostHogBackend) -> None:
    flag = backend.create_feature_flag("f", filters=rollout(100))
    backend.patch_feature_flag(flag.id, {"deleted": True})
    assert backend.list_feature_flags() == (0, [])
    assert backend.flag_definitions()[1] == {"flags": [], "group_type_mapping": {},
                                             "cohorts": {}}
    assert backend.evaluate_flags("u") == {}
    assert backend.flag_by_key("f") is None
    assert backend.get_feature_flag(flag.id).deleted is True


def test_hard_delete_is_forbidden_and_unknown_flags_are_not_found(
        backend: PostHogBackend) -> None:
    flag = backend.create_feature_flag("f")
    with pytest.raises(HardDeleteForbidden):
        backend.delete_feature_flag(flag.id)
    with pytest.raises(NotFound):
        backend.get_feature_flag(99)
    with pytest.raises(NotFound):
        backend.patch_feature_flag("nope", {"active": False})


@pytest.mark.parametrize("bad", [150, -1, "50", True, [50]])
def test_rollout_percentage_must_be_a_number_from_0_to_100(
        backend: PostHogBackend, bad: Any) -> None:
    flag = backend.create_feature_flag("f", filters=rollout(10))
    with pytest.raises(ValidationError):
        backend.patch_feature_flag(flag.id, {"filters": rollout(bad)})
    with pytest.raises(ValidationError):
        backend.create_feature_flag("g", filters=rollout(bad))
    assert flag.version == 1 and flag.filters["groups"][0]["rollout_percentage"] == 10


@pytest.mark.parametrize("filters", [
    rollout(10, [{"key": "x", "operator": "is_date_before", "value": "-7d"}]),
    rollout(10, [{"key": "id", "type": "cohort", "value": 3}]),
    rollout(10, [{"key": "plan", "operator": "exact"}]),
    {"groups": [], "multivariate": {"variants": [{"key": "a", "rollout_percentage": 60}]}},
    {"groups": [{"properties": [], "variant": "nope"}]},
])
def test_definitions_the_fake_cannot_evaluate_are_rejected(
        backend: PostHogBackend, filters: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        backend.create_feature_flag("f", filters=filters)


def test_list_is_newest_first_and_paginates(backend: PostHogBackend, clock: ManualClock) -> None:
    for key in "abcde":
        backend.create_feature_flag(key)
        clock.advance(1)
    count, page = backend.list_feature_flags(limit=2, offset=1)
    assert count == 5 and [f.key for f in page] == ["d", "c"]


# --- evaluation ---------------------------------------------------------------------------

def test_a_30_percent_rollout_enables_the_users_hashed_at_or_below_0_3(
        backend: PostHogBackend) -> None:
    backend.create_feature_flag("contacts_redesign", filters=rollout(30))
    enabled = [u for u in USERS
               if backend.evaluate_flags(u)["contacts_redesign"].enabled]
    assert 0.28 < len(enabled) / len(USERS) < 0.32
    assert set(enabled) == {u for u in USERS if posthog_hash("contacts_redesign", u) <= 0.3}


def test_an_inactive_flag_is_left_out_of_evaluation(backend: PostHogBackend) -> None:
    backend.create_feature_flag("off", active=False, filters=rollout(100))
    backend.create_feature_flag("on", filters=rollout(100))
    assert set(backend.evaluate_flags("u")) == {"on"}


def test_flag_keys_limit_what_is_evaluated_and_every_call_is_counted(
        backend: PostHogBackend) -> None:
    backend.create_feature_flag("a", filters=rollout(100))
    backend.create_feature_flag("b", filters=rollout(100))
    assert set(backend.evaluate_flags("u", flag_keys=["b", "zzz"])) == {"b"}
    backend.evaluate_flags("u")
    assert backend.flag_requests == 2


def test_multivariate_variants_split_matching_users_by_cumulative_ranges(
        backend: PostHogBackend) -> None:
    backend.create_feature_flag("ab", filters={
        "groups": [{"properties": [], "rollout_percentage": 100}],
        "multivariate": {"variants": [{"key": "control", "rollout_percentage": 50},
                                      {"key": "test", "rollout_percentage": 30},
                                      {"key": "other", "rollout_percentage": 20}]},
        "payloads": {"test": "{\"color\": \"blue\"}"}})
    results = [backend.evaluate_flags(u)["ab"] for u in USERS]
    shares = {v: sum(r.variant == v for r in results) / len(USERS)
              for v in ("control", "test", "other")}
    assert shares == pytest.approx({"control": 0.5, "test": 0.3, "other": 0.2}, abs=0.02)
    for user, result in zip(USERS, results, strict=True):
        h = posthog_hash("ab", user, salt="variant")
        assert result.variant == ("control" if h < 0.5 else "test" if h < 0.8 else "other")
        assert result.payload == ("{\"color\": \"blue\"}" if result.variant == "test" else None)


def test_first_matching_group_wins_and_its_index_is_reported(backend: PostHogBackend) -> None:
    backend.create_feature_flag("f", filters={"groups": [
        {"properties": [{"key": "email", "operator": "icontains", "value": "@ACME.com"}]},
        {"properties": [], "rollout_percentage": 100}]})
    staff = backend.evaluate_flags("u1", {"email": "bo@acme.COM"})["f"]
    other = backend.evaluate_flags("u2", {"email": "al@example.com"})["f"]
    assert (staff.reason_code, staff.condition_index, staff.description) == (
        "condition_match", 0, "Matched condition set 1")
    assert (other.reason_code, other.condition_index) == ("condition_match", 1)


def test_a_group_with_no_properties_and_no_rollout_matches_everyone(
        backend: PostHogBackend) -> None:
    backend.create_feature_flag("all", filters=rollout(None))
    assert all(backend.evaluate_flags(u)["all"].enabled for u in USERS[:500])


def test_no_match_reports_out_of_rollout_bound_over_no_condition_match(
        backend: PostHogBackend) -> None:
    backend.create_feature_flag("f", filters={"groups": [
        {"properties": [], "rollout_percentage": 0},
        {"properties": [{"key": "plan", "value": "pro"}]}]})
    result = backend.evaluate_flags("u", {"plan": "free"})["f"]
    assert (result.enabled, result.reason_code, result.condition_index) == (
        False, "out_of_rollout_bound", 0)


@pytest.mark.parametrize(("prop", "props", "expected"), [
    ({"key": "plan", "value": "PRO"}, {"plan": "pro"}, True),
    ({"key": "plan", "value": ["team", "pro"]}, {"plan": "pro"}, True),
    ({"key": "distinct_id", "value": ["u", "v"]}, {}, True),
    ({"key": "plan", "operator": "is_not", "value": "pro"}, {"plan": "pro"}, False),
    ({"key": "plan", "operator": "is_not", "value": ["free"]}, {"plan": "pro"}, True),
    ({"key": "email", "operator": "regex", "value": r"@acme\.com$"}, {"email": "a@acme.com"},
     True),
    ({"key": "email", "operator": "is_set"}, {"email": None}, True),
    ({"key": "email", "operator": "is_set"}, {}, False),
    ({"key": "plan", "value": "pro"}, {}, False),
    ({"key": "beta", "value": ["true"]}, {"beta": True}, True),
    ({"key": "seats", "operator": "gt", "value": "5"}, {"seats": 12}, True),
])
def test_person_property_operators(backend: PostHogBackend, prop: dict[str, Any],
                                   props: dict[str, Any], expected: bool) -> None:
    backend.create_feature_flag("f", filters=rollout(None, [prop]))
    assert backend.evaluate_flags("u", props)["f"].enabled is expected


# --- capture -------------------------------------------------------------------------------

def test_capture_stores_events_and_counts_them_per_name(
        backend: PostHogBackend, clock: ManualClock) -> None:
    clock.advance(5)
    stored = backend.capture("phc_drill", [
        {"event": "page_view", "distinct_id": "u1", "properties": {"path": "/contacts"},
         "timestamp": "2026-01-25T14:00:05.000Z", "uuid": "e1"},
        {"event": "page_view", "properties": {"distinct_id": "u2"}},
        {"event": "$exception", "distinct_id": "u1", "api_key": "phc_drill"}])
    assert stored == 3
    assert backend.event_counts() == {"page_view": 2, "$exception": 1}
    first = backend.events("page_view")[0]
    assert (first.distinct_id, first.properties, first.uuid, first.received_at) == (
        "u1", {"path": "/contacts"}, "e1", 5)
    assert backend.event_time(first) == 5


def test_capture_checks_every_events_key_and_is_all_or_nothing(
        backend: PostHogBackend) -> None:
    with pytest.raises(InvalidApiKey):
        backend.capture("phc_drill", [{"event": "ok", "distinct_id": "u"},
                                      {"event": "bad", "distinct_id": "u", "token": "phc_x"}])
    with pytest.raises(InvalidApiKey):
        backend.capture(None, [{"event": "no key", "distinct_id": "u"}])
    with pytest.raises(ValidationError):
        backend.capture("phc_drill", [{"event": "no id"}])
    assert backend.event_counts() == {} and backend.events() == []


def test_record_events_counts_without_storing_payloads(backend: PostHogBackend) -> None:
    backend.record_events("page_view", 1_000, at=30.0)
    backend.record_events("page_view", 500)
    assert backend.event_counts() == {"page_view": 1_500}
    assert backend.events() == []
    assert backend.last_event_at("page_view") == 30.0


# --- control plane --------------------------------------------------------------------------

def test_state_is_json_and_reset_forgets_all_but_never_reuses_an_etag(
        backend: PostHogBackend) -> None:
    backend.create_feature_flag("f", filters=rollout(50))
    backend.record_events("x", 3)
    etag = backend.definitions_etag
    state = json.loads(json.dumps(backend.state()))
    assert state["flags"][0]["key"] == "f" and state["event_counts"] == {"x": 3}
    backend.reset()
    assert backend.state()["flags"] == [] and backend.event_counts() == {}
    assert backend.definitions_etag != etag
    assert backend.create_feature_flag("g").id == 1


def test_a_custom_project_has_its_own_keys() -> None:
    backend = PostHogBackend(ManualClock(), project_api_key="phc_a", personal_api_key="phx_a",
                             project_id=7)
    backend.check_project_key("phc_a")
    backend.check_project("7")
    with pytest.raises(InvalidApiKey):
        backend.check_project_key("phc_drill")
    with pytest.raises(NotFound):
        backend.check_project(1)
    flag = backend.create_feature_flag("f")
    assert flag.to_dict() == flag.definition() and flag.definition()["team_id"] == 7
