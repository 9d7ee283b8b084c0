"""The fake PostHog over HTTP (in-process): shapes, auth, ETags, errors, control plane."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from fakes.posthog.backend import PostHogBackend

PERSONAL = {"Authorization": "Bearer phx_drill"}
NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Not found.",
             "attr": None}


def rollout(percentage: float | None) -> dict[str, Any]:
    return {"groups": [{"properties": [], "rollout_percentage": percentage}]}


def event(name: str = "page_view", distinct_id: str = "u1") -> dict[str, Any]:
    return {"event": name, "distinct_id": distinct_id, "properties": {"$lib": "test"}}


def assert_posthog_error(response: Any, status: int, type_: str, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"}
    assert (body["type"], body["code"]) == (type_, code)
    assert isinstance(body["detail"], str) and body["detail"]


# --- capture ---------------------------------------------------------------------------

def test_a_gzipped_batch_is_accepted_and_counted(api: Any, backend: PostHogBackend) -> None:
    body = {"batch": [event(), event(), event("$exception")], "api_key": "phc_drill",
            "historical_migration": False}
    response = api.post("/batch/", content=gzip.compress(json.dumps(body).encode()),
                        headers={"Content-Encoding": "gzip",
                                 "Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (200, {"status": "Ok"})
    assert backend.event_counts() == {"page_view": 2, "$exception": 1}


@pytest.mark.parametrize("path", ["/batch", "/capture/", "/capture", "/e/", "/e", "/i/v0/e/",
                                  "/i/v0/e", "/track/", "/track"])
def test_every_ingestion_path_takes_a_single_event_with_or_without_slash(
        api: Any, backend: PostHogBackend, path: str) -> None:
    response = api.post(path, json={**event(), "token": "phc_drill"})
    assert (response.status_code, response.json()) == (200, {"status": "Ok"})
    assert backend.event_counts() == {"page_view": 1}


def test_posthog_js_wrappings_gzip_js_and_base64_form_are_undone(
        api: Any, backend: PostHogBackend) -> None:
    batch = json.dumps([{**event(), "properties": {"token": "phc_drill"}}]).encode()
    assert api.post("/e/?compression=gzip-js", content=gzip.compress(batch)).status_code == 200
    form = {"data": base64.b64encode(batch).decode()}
    assert api.post("/e/", data=form).status_code == 200
    assert backend.event_counts() == {"page_view": 2}


def test_capture_v1_takes_the_key_as_bearer_and_replies_results(
        api: Any, backend: PostHogBackend) -> None:
    body = {"created_at": "2026-01-25T14:00:00Z", "batch": [{**event(), "uuid": "x"}]}
    response = api.post("/i/v1/analytics/events", json=body,
                        headers={"Authorization": "Bearer phc_drill"})
    assert (response.status_code, response.json()) == (200, {"results": {}})
    bad = api.post("/i/v1/analytics/events", json=body)
    assert_posthog_error(bad, 401, "authentication_error", "invalid_api_key")
    assert backend.event_counts() == {"page_view": 1}


def test_capture_with_a_wrong_or_missing_key_is_401_and_stores_nothing(
        api: Any, backend: PostHogBackend) -> None:
    wrong = api.post("/batch/", json={"batch": [event()], "api_key": "phc_other"})
    assert_posthog_error(wrong, 401, "authentication_error", "invalid_api_key")
    missing = api.post("/batch/", json={"batch": [event()]})
    assert_posthog_error(missing, 401, "authentication_error", "invalid_api_key")
    assert backend.event_counts() == {}


# --- remote evaluation ----------------------------------------------------------------------

def test_flags_answers_the_v4_shape(api: Any, backend: PostHogBackend) -> None:
    flag = backend.create_feature_flag("contacts_redesign", filters=rollout(100))
    backend.create_feature_flag("dark", active=False, filters=rollout(100))
    response = api.post("/flags/?v=4", json={
        "api_key": "phc_drill", "distinct_id": "user-1", "person_properties": {},
        "groups": {}, "flag_keys_to_evaluate": ["contacts_redesign", "dark"]})
    assert response.status_code == 200
    body = response.json()
    assert body["flags"] == {"contacts_redesign": {
        "key": "contacts_redesign", "enabled": True, "variant": None, "failed": False,
        "reason": {"code": "condition_match", "condition_index": 0,
                   "description": "Matched condition set 1"},
        "metadata": {"id": flag.id, "version": 1, "payload": None, "description": None}}}
    assert body["errorsWhileComputingFlags"] is False and body["quotaLimited"] == []
    assert isinstance(body["requestId"], str) and isinstance(body["evaluatedAt"], int)
    assert backend.flag_requests == 1


def test_decide_answers_the_legacy_shape(api: Any, backend: PostHogBackend) -> None:
    backend.create_feature_flag("on", filters={**rollout(100), "payloads": {"true": "{}"}})
    backend.create_feature_flag("none", filters=rollout(0))
    response = api.post("/decide/?v=3", json={"token": "phc_drill", "distinct_id": "u"})
    assert response.json() == {"featureFlags": {"on": True, "none": False},
                               "featureFlagPayloads": {"on": "{}"},
                               "errorsWhileComputingFlags": False}


@pytest.mark.parametrize("path", ["/flags/?v=4", "/flags", "/decide/"])
def test_flag_evaluation_with_a_bad_project_key_is_401(api: Any, path: str) -> None:
    for body in ({"api_key": "phc_nope", "distinct_id": "u"}, {"distinct_id": "u"}):
        assert_posthog_error(api.post(path, json=body), 401, "authentication_error",
                             "invalid_api_key")


def test_flag_evaluation_without_a_distinct_id_is_400(api: Any) -> None:
    response = api.post("/flags/", json={"api_key": "phc_drill"})
    assert_posthog_error(response, 400, "validation_error", "invalid_input")


# --- local evaluation ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/flags/definitions?token=phc_drill&send_cohorts",
                                  "/api/feature_flag/local_evaluation/?token=phc_drill",
                                  "/api/feature_flag/local_evaluation?token=phc_drill"])
def test_definitions_carry_an_etag_answer_304_until_a_flag_changes(
        api: Any, backend: PostHogBackend, path: str) -> None:
    flag = backend.create_feature_flag("f", filters=rollout(30))
    first = api.get(path, headers=PERSONAL)
    assert first.status_code == 200
    assert first.json()["flags"][0] | {"filters": None} == {
        "id": flag.id, "team_id": 1, "key": "f", "name": "", "active": True, "deleted": False,
        "ensure_experience_continuity": False, "filters": None, "version": 1,
        "has_encrypted_payloads": False, "evaluation_runtime": "all"}
    assert first.json()["group_type_mapping"] == {} and first.json()["cohorts"] == {}
    etag = first.headers["etag"]
    again = api.get(path, headers={**PERSONAL, "If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    backend.patch_feature_flag(flag.id, {"active": False})
    changed = api.get(path, headers={**PERSONAL, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["flags"][0]["active"] is False


def test_definitions_need_the_personal_key(api: Any) -> None:
    missing = api.get("/flags/definitions?token=phc_drill")
    assert_posthog_error(missing, 401, "authentication_error", "not_authenticated")
    wrong = api.get("/flags/definitions", headers={"Authorization": "Bearer phx_nope"})
    assert_posthog_error(wrong, 401, "authentication_error", "authentication_failed")
    token = api.get("/flags/definitions?token=phc_nope", headers=PERSONAL)
    assert_posthog_error(token, 401, "authentication_error", "invalid_api_key")


# --- management API --------------------------------------------------------------------------

def test_a_patch_via_current_changes_what_flags_answers(api: Any) -> None:
    created = api.post("/api/projects/@current/feature_flags/", headers=PERSONAL, json={
        "key": "contacts_redesign", "name": "Contacts", "active": True,
        "filters": {"groups": [{"properties": [], "rollout_percentage": 100}],
                    "multivariate": None, "payloads": {}}})
    assert created.status_code == 201
    flag_id = created.json()["id"]

    def enabled() -> bool:
        body = {"api_key": "phc_drill", "distinct_id": "user-1"}
        return bool(api.post("/flags/", json=body).json()["flags"]["contacts_redesign"][
            "enabled"])

    assert enabled()
    patched = api.patch(f"/api/projects/@current/feature_flags/{flag_id}/", headers=PERSONAL,
                        json={"filters": {"groups": [{"properties": [],
                                                      "rollout_percentage": 0}]}})
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert patched.json()["rollout_percentage"] == 0
    assert not enabled()


def test_list_is_paginated_and_environments_alias_projects(
        api: Any, backend: PostHogBackend) -> None:
    for key in ("a", "b", "c"):
        backend.create_feature_flag(key)
    for prefix in ("/api/projects/1", "/api/environments/@current"):
        page = api.get(f"{prefix}/feature_flags/?limit=2", headers=PERSONAL).json()
        assert page["count"] == 3 and len(page["results"]) == 2
        assert "offset=2" in page["next"] and page["previous"] is None
        last = api.get(f"{prefix}/feature_flags?limit=2&offset=2", headers=PERSONAL).json()
        assert last["next"] is None and "offset=0" in last["previous"]


def test_get_and_soft_delete_by_patch(api: Any, backend: PostHogBackend) -> None:
    flag = backend.create_feature_flag("f")
    url = f"/api/projects/1/feature_flags/{flag.id}/"
    assert api.get(url, headers=PERSONAL).json()["key"] == "f"
    assert api.patch(url, headers=PERSONAL, json={"deleted": True}).json()["deleted"] is True
    assert api.get("/api/projects/1/feature_flags/", headers=PERSONAL).json()["count"] == 0


def test_hard_delete_is_405_without_a_body(api: Any, backend: PostHogBackend) -> None:
    flag = backend.create_feature_flag("f")
    response = api.delete(f"/api/projects/1/feature_flags/{flag.id}/", headers=PERSONAL)
    assert (response.status_code, response.content) == (405, b"")
    assert backend.flag_by_key("f") is flag


@pytest.mark.parametrize("url", ["/api/projects/1/feature_flags/99/",
                                 "/api/projects/1/feature_flags/f/",
                                 "/api/projects/2/feature_flags/1/"])
def test_unknown_flags_and_projects_are_404(api: Any, backend: PostHogBackend,
                                            url: str) -> None:
    backend.create_feature_flag("f")
    response = api.get(url, headers=PERSONAL)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_management_needs_the_personal_key(api: Any) -> None:
    missing = api.get("/api/projects/@current/feature_flags/")
    assert_posthog_error(missing, 401, "authentication_error", "not_authenticated")
    project_key = api.get("/api/projects/@current/feature_flags/",
                          headers={"Authorization": "Bearer phc_drill"})
    assert_posthog_error(project_key, 401, "authentication_error", "authentication_failed")


def test_invalid_patches_are_400_with_the_field_and_change_nothing(
        api: Any, backend: PostHogBackend) -> None:
    flag = backend.create_feature_flag("f", filters=rollout(10))
    url = f"/api/projects/1/feature_flags/{flag.id}/"
    response = api.patch(url, headers=PERSONAL, json={"filters": rollout(150)})
    assert_posthog_error(response, 400, "validation_error", "invalid_input")
    assert response.json()["attr"] == "filters"
    query = api.get("/api/projects/1/feature_flags/?limit=abc", headers=PERSONAL)
    assert_posthog_error(query, 400, "validation_error", "invalid_input")
    assert flag.version == 1


def test_remote_config_serves_the_true_payload(api: Any, backend: PostHogBackend) -> None:
    backend.create_feature_flag("cfg", filters={**rollout(100),
                                                "payloads": {"true": "{\"a\": 1}"}})
    response = api.get("/api/projects/@current/feature_flags/cfg/remote_config?token=phc_drill",
                       headers=PERSONAL)
    assert (response.status_code, response.json()) == (200, "{\"a\": 1}")


# --- malformed input, control plane ----------------------------------------------------------

@pytest.mark.parametrize(("path", "headers", "content"), [
    ("/flags/", {"Content-Type": "application/json"}, b"{not json"),
    ("/batch/", {"Content-Type": "application/json"}, b"[1, 2"),
    ("/batch/", {"Content-Encoding": "gzip"}, b"not gzip at all"),
    ("/api/projects/1/feature_flags/", {**PERSONAL}, b"\xff\xfe"),
])
def test_malformed_bodies_are_400_in_posthog_shape_and_the_app_keeps_serving(
        api: Any, backend: PostHogBackend, path: str, headers: dict[str, str],
        content: bytes) -> None:
    response = api.post(path, content=content, headers=headers)
    assert_posthog_error(response, 400, "validation_error", "parse_error")
    ok = api.post("/batch/", json={"api_key": "phc_drill", "batch": [event()]})
    assert ok.status_code == 200 and backend.event_counts() == {"page_view": 1}


def test_fake_state_and_reset(api: Any, backend: PostHogBackend) -> None:
    backend.create_feature_flag("f", filters=rollout(50))
    backend.record_events("page_view", 7)
    state = api.get("/_fake/state").json()
    assert state["flags"][0]["key"] == "f" and state["event_counts"] == {"page_view": 7}
    assert api.post("/_fake/reset").status_code == 200
    assert api.get("/_fake/state").json()["flags"] == []
