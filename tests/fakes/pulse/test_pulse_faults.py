"""Failure modes: each hits at its configured rate, only inside its window, only on its
operations, deterministically for a seed, and every hit is in the fault log."""

from __future__ import annotations

import json
import time

import pytest

from fakes.common.clock import to_iso
from fakes.pulse import router
from fakes.pulse.backend import DEFAULT_API_KEY as KEY
from fakes.pulse.errors import ApiError, PulseTimeout


def _outcomes(backend, calls, op="get_account"):
    """Status of ``calls`` calls of ``op`` made now, straight on the backend."""
    out = []
    for n in range(calls):
        try:
            if op == "get_account":
                backend.get_account(KEY)
            else:
                backend.get_contact(KEY, f"pc_{n % backend.size + 1:06d}")
            out.append(200)
        except (ApiError, PulseTimeout) as exc:
            out.append(exc.status)
    return out


def test_error_rate_fails_its_fraction_inside_its_window_only(clock, backend):
    """rate 0.3 in [100, 200): none before, ~30 % of 2,000 inside (500/502/503 all seen),
    none from 200 on; one log entry per failed call, with time, op and status."""
    backend.set_fault("error_rate", rate=0.3, start=100, end=200)
    assert set(_outcomes(backend, 300)) == {200}
    clock.set(150)
    inside = _outcomes(backend, 2000)
    failed = [s for s in inside if s != 200]
    assert 0.27 < len(failed) / 2000 < 0.33
    assert set(failed) == {500, 502, 503}
    log = backend.injected_faults("error_rate")
    assert len(log) == len(failed)
    assert {(e.at, e.op, e.kind) for e in log} == {(150.0, "get_account", "error_rate")}
    assert [e.detail["status"] for e in log] == failed
    clock.set(200)
    assert set(_outcomes(backend, 300)) == {200}


def test_an_injected_5xx_has_pulse_error_shape(api, backend):
    """A 503 from error_rate: api_error body with the request id, Retry-After: 5."""
    backend.set_fault("error_rate", statuses=[503])
    response = api.get("/v1/contacts")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    body = response.json()["error"]
    assert body["type"] == "api_error" and body["request_id"] == backend.injected_faults()[0]\
        .request_id == response.headers["x-request-id"]


def test_faults_hit_only_their_ops(clock, backend):
    """An error_rate fault on get_contact leaves get_account and listings alone."""
    backend.set_fault("error_rate", ops=["get_contact"])
    assert set(_outcomes(backend, 20)) == {200}
    assert backend.list_contacts(KEY, limit=5).body["data"]
    assert set(_outcomes(backend, 20, op="get_contact")) == {500, 502, 503}


def test_timeout_fails_its_fraction_as_504_with_the_simulated_latency(clock, backend, api):
    """rate 0.5, 45 s: about half the calls raise PulseTimeout(45); over HTTP a 504
    timeout_error carrying X-Pulse-Simulated-Latency, answered without any real wait."""
    backend.set_fault("timeout", rate=0.5, seconds=45)
    outcomes = _outcomes(backend, 1000)
    assert 0.45 < outcomes.count(504) / 1000 < 0.55
    assert len(backend.injected_faults("timeout")) == outcomes.count(504)
    assert backend.injected_faults("timeout")[0].detail == {"seconds": 45.0}
    backend.clear_faults()
    backend.set_fault("timeout", seconds=45)
    started = time.perf_counter()
    response = api.get("/v1/contacts")
    assert time.perf_counter() - started < 0.5
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "timeout_error"
    assert response.headers["x-pulse-simulated-latency"] == "45.000"


def test_a_real_latency_is_awaited_but_capped(backend, api, monkeypatch):
    """With real_latency the router sleeps min(real_latency, cap) before the 504."""
    monkeypatch.setattr(router, "REAL_LATENCY_CAP", 0.05)
    backend.set_fault("timeout", seconds=30, real_latency=3600)
    started = time.perf_counter()
    assert api.get("/v1/account").status_code == 504
    assert 0.05 <= time.perf_counter() - started < 1.0


def test_rate_limit_fault_tightens_the_bucket_in_its_window(clock, make_backend, make_api):
    """limit 2, 0.1/s in [10, 60): the third call at t=10 is a 429 logged as injected; health
    says degraded; at t=60 the plan's bucket (10/s) is back and calls pass."""
    backend = make_backend(limit=100, per_second=10)
    api = make_api(backend)
    backend.set_fault("rate_limit", limit=2, per_second=0.1, start=10, end=60)
    assert all(api.get("/v1/account").status_code == 200 for _ in range(5))
    clock.set(10)
    statuses = [api.get("/v1/account").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    log = backend.injected_faults("rate_limit")
    assert [(e.at, e.op, e.detail["limit"]) for e in log] == [(10.0, "get_account", 2)]
    assert api.get("/v1/health", key=None).json()["status"] == "degraded"
    clock.set(60)
    assert all(api.get("/v1/account").status_code == 200 for _ in range(10))
    assert api.get("/v1/health", key=None).json()["status"] == "ok"


def test_malformed_records_come_in_a_200_page_at_their_rate(clock, make_backend, make_api):
    """rate 0.2 over 1,000 contacts: ~20 % of records lack `id` or have a non-string
    `email`, every page is still a 200 that parses; the log names each broken record."""
    backend = make_backend(size=1000)
    api = make_api(backend)
    backend.set_fault("malformed", rate=0.2)
    records, cursor = [], None
    while True:
        response = api.get("/v1/contacts", params={"limit": 200} | (
            {"cursor": cursor} if cursor else {}))
        assert response.status_code == 200
        records += response.json()["data"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    no_id = [r for r in records if "id" not in r]
    bad_email = [r for r in records if "id" in r and not isinstance(r["email"], str)]
    assert len(records) == 1000 and no_id and bad_email
    assert 0.16 < (len(no_id) + len(bad_email)) / 1000 < 0.24
    log = backend.injected_faults("malformed")
    variants = [v for e in log for v in e.detail["variants"]]
    assert variants.count("missing_id") == len(no_id)
    assert variants.count("email_not_string") == len(bad_email)
    logged_ids = {i for e in log for i in e.detail["ids"]}
    assert {r["id"] for r in bad_email} <= logged_ids
    assert {e.op for e in log} == {"list_contacts"} and len(log) == 5


def test_a_truncated_page_is_a_200_whose_body_does_not_parse(backend, api):
    """truncate_rate 1: the page comes with status 200 and JSON cut short; logged."""
    backend.set_fault("malformed", rate=0.0, truncate_rate=1.0)
    response = api.get("/v1/contacts", params={"limit": 20})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    (entry,) = backend.injected_faults("malformed")
    assert 0.2 <= entry.detail["truncated_at"] < 0.9
    backend.clear_faults()
    assert api.get("/v1/contacts", params={"limit": 20}).json()["data"]


def test_mis_mapped_swaps_fields_on_every_record_while_active(clock, backend, list_all):
    """Default swaps: first_name holds the email and email the first name, company sits
    in title and title in company, on every record in [0, 100); then mapping is right."""
    backend.set_fault("mis_mapped", end=100)
    served = list_all(backend)
    for record in served:
        truth = backend.truth(record["id"])
        assert (record["first_name"], record["email"]) == (truth.email, truth.first_name)
        assert (record["company"], record["title"]) == (truth.title, truth.company)
        assert record["last_name"] == truth.last_name
    logged = [i for e in backend.injected_faults("mis_mapped") for i in e.detail["ids"]]
    assert sorted(logged) == sorted(r["id"] for r in served)
    clock.set(100)
    record = backend.get_contact(KEY, "pc_000001").body
    assert record["email"] == backend.truth("pc_000001").email


def test_missing_contacts_are_absent_from_listings_but_fetchable_by_id(
        backend, api, list_all):
    """rate 0.1: the same ~10 % vanish from every listing, each one logged on the page it
    belonged to, each still a 200 by id; the account still counts them all."""
    backend.set_fault("missing", rate=0.1)
    listed = {r["id"] for r in list_all(backend, limit=50)}
    logged = [i for e in backend.injected_faults("missing") for i in e.detail["ids"]]
    again = {r["id"] for r in list_all(backend, limit=200)}
    absent = set(backend.contact_ids()) - listed
    assert listed == again and 0.05 < len(absent) / backend.size < 0.15
    assert sorted(logged) == sorted(absent)
    assert {e.op for e in backend.injected_faults("missing")} == {"list_contacts"}
    for contact_id in sorted(absent)[:5]:
        assert api.get(f"/v1/contacts/{contact_id}").status_code == 200
    assert api.get("/v1/account").json()["contacts_count"] == backend.size


def test_corruption_turns_records_to_garbage_in_its_window_then_restores_them(
        clock, backend, list_all, api):
    """rate 0.1, spread 60 from t=100 to 400: at t=200 an incremental listing from t=100
    brings the ~10 % corrupted contacts, garbage and stamped when they turned, the same
    garbage by id; after 400 the listing from 399 brings them back restored, stamped 400."""
    backend.set_fault("corruption", rate=0.1, spread=60, start=100, end=400)
    clock.set(50)
    assert backend.injected_faults() == [] and list_all(backend)
    clock.set(200)
    since = to_iso(clock, 100)
    changed = list_all(backend, updated_since=since)
    garbage = [r for r in changed if r["title"] == "#REF!"]
    assert 0.05 < len(garbage) / backend.size < 0.15
    assert all(since <= r["updated_at"] < to_iso(clock, 160) for r in garbage)
    assert all("@@" in r["email"] and r["id"].startswith("pc_") for r in garbage)
    again = api.get(f"/v1/contacts/{garbage[0]['id']}").json()
    assert again == garbage[0]
    logged = {i for e in backend.injected_faults("corruption") for i in e.detail["ids"]}
    assert logged == {r["id"] for r in garbage}
    clock.set(450)
    restored = {r["id"]: r for r in list_all(backend, updated_since=to_iso(clock, 399))}
    for record in garbage:
        fixed = restored[record["id"]]
        assert fixed["updated_at"] >= to_iso(clock, 400)
        assert fixed["email"] == backend.truth(record["id"]).email


def test_health_is_down_with_a_503_only_when_every_call_fails(backend, api):
    """error_rate 1: health 503 down (logged); data faults alone leave it ok."""
    backend.set_fault("missing", rate=0.5)
    backend.set_fault("corruption", rate=0.5)
    assert api.get("/v1/health", key=None).json()["status"] == "ok"
    backend.set_fault("error_rate", rate=1.0)
    down = api.get("/v1/health", key=None)
    assert down.status_code == 503 and down.json()["status"] == "down"
    assert [(e.op, e.kind) for e in backend.injected_faults()] == [("health", "error_rate")]


def test_the_same_seed_injects_the_same_faults_on_the_same_calls(clock, make_backend):
    """Two backends, one seed, one script: identical bodies, request ids and fault logs;
    another seed differs."""
    def script(seed):
        backend = make_backend(seed=seed)
        for kind, params in [("error_rate", {"rate": 0.3}), ("malformed", {"rate": 0.2}),
                             ("mis_mapped", {"rate": 0.3}), ("missing", {"rate": 0.1}),
                             ("corruption", {"rate": 0.1, "spread": 10, "start": 0})]:
            backend.set_fault(kind, **params)
        clock_at, bodies, cursor = clock.now(), [], None
        for _ in range(30):  # paging on, a failed page retried with the same cursor
            try:
                bodies.append(backend.list_contacts(KEY, limit=40, cursor=cursor).body)
                cursor = bodies[-1]["next_cursor"]
            except ApiError as exc:
                bodies.append(exc.body())
        assert clock.now() == clock_at
        return bodies, [e.to_json() for e in backend.injected_faults()]

    clock.set(20)
    one, two, other = script(3), script(3), script(4)
    assert one == two and one != other
    assert {e["kind"] for e in one[1]} == {"error_rate", "malformed", "mis_mapped", "missing",
                                           "corruption"}
