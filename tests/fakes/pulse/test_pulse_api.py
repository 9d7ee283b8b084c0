"""The HTTP face: API-key auth, Pulse's error shape, 400s that leave the app serving,
health and account, the token bucket on the clock, and the /_fake control plane."""

from __future__ import annotations

import pytest

from fakes.pulse.backend import DEFAULT_API_KEY
from fakes.pulse.errors import PulseError


def _error(response, status, kind):
    """The error object of a Pulse error response, after checking its common shape."""
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == kind and error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert error["request_id"].startswith("req_")
    return error


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": f"Basic {DEFAULT_API_KEY}"},
                                     {"X-Pulse-Api-Key": "pulse_wrong_key_123"}])
def test_a_missing_or_wrong_key_is_401_authentication_error(api, headers):
    """No key, a wrong bearer, a non-bearer scheme, a wrong X-Pulse-Api-Key: 401 shape."""
    response = api.get("/v1/contacts", key=None, headers=headers)
    error = _error(response, 401, "authentication_error")
    assert "API key" in error["message"] and "pulse_wrong_key_123" not in error["message"]


def test_either_header_carries_the_key(api):
    """Authorization: Bearer and X-Pulse-Api-Key both authenticate."""
    assert api.get("/v1/account").status_code == 200
    by_header = api.get("/v1/account", key=None, headers={"X-Pulse-Api-Key": DEFAULT_API_KEY})
    assert by_header.status_code == 200


@pytest.mark.parametrize("contact_id", ["pc_999999", "pc_000000", "bogus", "pc_241"])
def test_an_unknown_contact_is_404_naming_it(api, contact_id):
    """A well-formed id beyond the directory or a malformed one: 404 not_found_error."""
    error = _error(api.get(f"/v1/contacts/{contact_id}"), 404, "not_found_error")
    assert contact_id in error["message"] and error["param"] == "id"


@pytest.mark.parametrize(("params", "param"), [
    ({"cursor": "garbage"}, "cursor"),
    ({"cursor": "eyJub3QiOiJhIGN1cnNvciJ9"}, "cursor"),
    ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"limit": "-5"}, "limit"), ({"updated_since": "yesterday"}, "updated_since")])
def test_a_bad_query_is_400_naming_the_param_and_the_app_keeps_serving(api, params, param):
    """Garbage cursor, limit out of 1..200, a non-ISO timestamp: 400; the next call works."""
    error = _error(api.get("/v1/contacts", params=params), 400, "invalid_request_error")
    assert error["param"] == param
    assert api.get("/v1/contacts", params={"limit": 5}).status_code == 200


def test_a_tampered_cursor_is_rejected(api):
    """Flipping one character of a real cursor fails its checksum: 400, not a wrong page."""
    cursor = api.get("/v1/contacts", params={"limit": 3}).json()["next_cursor"]
    tampered = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    _error(api.get("/v1/contacts", params={"cursor": tampered}), 400, "invalid_request_error")
    assert api.get("/v1/contacts", params={"cursor": cursor}).status_code == 200


def test_unknown_routes_and_methods_answer_in_pulse_shape(api):
    """404 for no such route, 405 for a wrong method, both with a request id."""
    _error(api.get("/v1/companies"), 404, "not_found_error")
    _error(api.post("/v1/contacts"), 405, "invalid_request_error")


def test_health_needs_no_key_and_account_is_the_connection_test(api, backend):
    """/v1/health: ok/version/time without a key; /v1/account names the account, its plan,
    its rate limit and the contact count a sync can reconcile against."""
    health = api.get("/v1/health", key=None)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "version": "2026.01.3",
                             "time": "2026-01-25T14:00:00.000Z"}
    account = api.get("/v1/account").json()
    assert account["name"] == "Logos Vision" and account["plan"] == "growth"
    assert account["contacts_count"] == backend.size
    assert account["rate_limit"]["limit"] == backend.rate_limit.limit
    _error(api.get("/v1/account", key=None), 401, "authentication_error")


def test_rate_limit_429_with_retry_after_then_recovery_when_the_clock_moves(
        clock, make_backend, make_api):
    """A bucket of 3 refilling 0.5/s: calls 1-3 pass (remaining 2, 1, 0), call 4 is a 429
    with Retry-After 2; one second later still 429; at Retry-After it passes again."""
    api = make_api(make_backend(limit=3, per_second=0.5))
    passed = [api.get("/v1/contacts/pc_000001") for _ in range(3)]
    assert [r.headers["x-ratelimit-remaining"] for r in passed] == ["2", "1", "0"]
    assert all(r.headers["x-ratelimit-limit"] == "3" for r in passed)
    assert passed[-1].headers["x-ratelimit-reset"] == "6"
    limited = api.get("/v1/contacts/pc_000001")
    _error(limited, 429, "rate_limit_error")
    assert limited.headers["retry-after"] == "2"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    clock.advance(1)
    assert api.get("/v1/account").status_code == 429
    clock.advance(2)  # t=3: 1.5 tokens back, one call passes
    assert api.get("/v1/account").status_code == 200


def test_buckets_are_per_key(clock, make_backend, make_api):
    """Another key of the same account has its own bucket."""
    backend = make_backend(limit=1, per_second=0.01)
    backend.api_keys = frozenset({DEFAULT_API_KEY, "pulse_second_key"})
    api = make_api(backend)
    assert api.get("/v1/account").status_code == 200
    assert api.get("/v1/account").status_code == 429
    assert api.get("/v1/account", key="pulse_second_key").status_code == 200


def test_control_plane_state_seed_and_reset(api, backend, clock):
    """/_fake/seed reseeds (and resizes) the data; /_fake/reset forgets faults and counts;
    /_fake/contacts/{id} is the stored record; /_fake/state says all of it."""
    original = api.get("/v1/contacts/pc_000001").json()
    assert api.get("/_fake/contacts/pc_000001", key=None).json() == original
    reseeded = api.post("/_fake/seed", key=None, json={"seed": 99, "contacts": 50})
    assert reseeded.json() == {"seed": 99, "contacts": 50}
    assert api.get("/v1/contacts/pc_000001").json() != original
    assert api.get("/v1/contacts/pc_000051").status_code == 404
    api.post("/_fake/faults", key=None, json={"faults": [{"kind": "missing", "rate": 0.5}]})
    state = api.get("/_fake/state", key=None).json()
    assert state["seed"] == 99 and state["contacts"] == 50
    assert state["requests"]["get_contact"] == 2 and len(state["faults"]) == 1
    assert api.post("/_fake/reset", key=None).json() == {"reset": True}
    state = api.get("/_fake/state", key=None).json()
    assert state["faults"] == [] and state["requests"] == {} and state["seed"] == 99
    for bad in ({"seed": "x"}, {"seed": 1, "contacts": 0}, [1]):
        _error(api.post("/_fake/seed", key=None, json=bad), 400, "invalid_request_error")


def test_control_plane_sets_lists_and_clears_faults(api, clock):
    """POST /_fake/faults adds (all or none), GET lists them with the log, clear ends them."""
    set_ = api.post("/_fake/faults", key=None, json={"faults": [
        {"kind": "error_rate", "rate": 1.0, "start": 10, "end": 20, "statuses": [502]},
        {"kind": "missing", "rate": 0.1}]}).json()
    assert [f["id"] for f in set_["faults"]] == ["flt_0001", "flt_0002"]
    assert [f["state"] for f in set_["faults"]] == ["scheduled", "active"]
    assert set_["faults"][0]["ops"] == ["list_contacts", "get_contact", "get_account"]
    clock.set(12)
    assert api.get("/v1/account").status_code == 502
    listed = api.get("/_fake/faults", key=None).json()
    assert [e["kind"] for e in listed["injected"]] == ["error_rate"]
    assert listed["injected"][0]["at"] == 12 and listed["injected"][0]["op"] == "get_account"
    cleared = api.post("/_fake/faults", key=None, json={"clear": ["error_rate"]}).json()
    assert cleared["cleared"] == ["flt_0001"]
    assert api.get("/v1/account").status_code == 200
    states = [f["state"] for f in api.get("/_fake/faults", key=None).json()["faults"]]
    assert states == ["ended", "active"]
    assert api.post("/_fake/faults", key=None, json={"clear": True}).json()["cleared"] == \
        ["flt_0002"]


@pytest.mark.parametrize("spec", [
    {"kind": "meteor"}, {"kind": "error_rate", "rate": 1.5},
    {"kind": "error_rate", "statuses": [418]}, {"kind": "timeout", "seconds": 0},
    {"kind": "missing", "start": 10, "end": 5}, {"kind": "missing", "ops": ["get_contact"]},
    {"kind": "malformed", "variants": ["on_fire"]}, {"kind": "mis_mapped", "swaps": [["id"]]},
    {"kind": "rate_limit", "limit": 0}, {"kind": "corruption", "colour": "red"}])
def test_a_bad_fault_spec_is_400_and_nothing_is_added(api, spec):
    """Unknown kind or param, values out of range, an empty window, foreign ops: 400, and
    the valid fault sent beside it is not added either."""
    response = api.post("/_fake/faults", key=None,
                        json={"faults": [{"kind": "missing"}, spec]})
    _error(response, 400, "invalid_request_error")
    assert api.get("/_fake/faults", key=None).json()["faults"] == []


@pytest.mark.parametrize(("status", "kind"), [(503, "api_error"), (500, "api_error"),
                                              (504, "timeout_error"), (429, "rate_limit_error"),
                                              (401, "authentication_error"),
                                              (400, "invalid_request_error")])
def test_an_error_made_from_a_status_alone_gets_the_matching_type(status, kind):
    """PulseError(msg, status=…) — as a generic fault layer builds one — types itself by
    status, so Pulse's shape holds for errors Pulse's code did not raise."""
    body = PulseError("injected", status=status).body()["error"]
    assert body == {"type": kind, "message": "injected", "request_id": None}
