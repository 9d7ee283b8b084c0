"""Envelope ingestion: the wire format real SDKs post to ``/api/{project_id}/envelope/``."""

from __future__ import annotations

import gzip
import json
import zlib

import brotli
import pytest

from fakes.sentry.envelope import encode_envelope, parse_envelope

AUTH = {"X-Sentry-Auth": "Sentry sentry_key=drillpublickey0000000000000000000, "
                         "sentry_version=7, sentry_client=sentry.python/2.75.0",
        "Content-Type": "application/x-sentry-envelope"}
URL = "/api/42/envelope/"


def event(release: str, exc_type: str = "TypeError", user: str = "u1") -> dict:
    return {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "level": "error",
            "timestamp": "2026-01-25T14:00:30.000Z", "platform": "javascript",
            "release": release, "environment": "production", "user": {"id": user},
            "exception": {"values": [{"type": exc_type, "value": "x is undefined",
                                      "stacktrace": {"frames": [
                                          {"filename": "app.js", "function": "boot"},
                                          {"filename": "contacts.js", "function": "render",
                                           "in_app": True}]}}]}}


def aggregates(release: str, **counts: int) -> dict:
    return {"attrs": {"release": release, "environment": "production"},
            "aggregates": [{"started": "2026-01-25T14:00:00.000000Z", **counts}]}


def session(sid: str, status: str, release: str = "web@2", **extra: object) -> dict:
    return {"sid": sid, "status": status, "started": "2026-01-25T14:01:10.000Z",
            "attrs": {"release": release, "environment": "production"}, **extra}


def totals(backend, release: str) -> dict:
    return next(s for s in backend.state()["sessions"] if s["release"] == release)


def test_items_are_read_by_length_even_across_newlines_and_by_newline_without_length():
    sized = b'{"message":"line one\\nline two"}'.replace(b"\\n", b"\n")
    body = (b'{"event_id":"abc"}\n'
            + json.dumps({"type": "attachment", "length": len(sized)}).encode() + b"\n"
            + sized + b"\n"
            + b'{"type":"event"}\n{"message":"unsized"}\n')
    envelope = parse_envelope(body)
    assert envelope.headers == {"event_id": "abc"}
    assert [i.type for i in envelope.items] == ["attachment", "event"]
    assert envelope.items[0].payload == sized
    assert envelope.items[1].json() == {"message": "unsized"}


def test_event_session_and_sessions_items_are_counted_per_release(backend, http):
    body = encode_envelope({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc"}, [
        ("event", event("web@2")),
        ("sessions", aggregates("web@1", exited=7, errored=1)),
        ("sessions", aggregates("web@2", exited=2, crashed=1)),
        ("session", session("s1", "ok", init=True)),
        ("session", session("s1", "ok", errors=1)),   # same session: moves to errored
        ("session", session("s1", "crashed")),        # and then to crashed; counted once
        ("session", session("s2", "exited", init=True)),
        ("client_report", {"discarded_events": []}),  # other types are accepted, ignored
    ])
    response = http("POST", URL, content=body, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"id": "9ec79c33ec9942ab8353589fcb2e04dc"}
    assert totals(backend, "web@1") == {"release": "web@1", "environment": "production",
                                        "healthy": 7, "errored": 1, "crashed": 0,
                                        "abnormal": 0}
    assert totals(backend, "web@2") == {"release": "web@2", "environment": "production",
                                        "healthy": 3, "errored": 0, "crashed": 2,
                                        "abnormal": 0}
    [issue] = backend.list_issues()
    assert (issue["title"], issue["culprit"], issue["count"], issue["userCount"]) == \
        ("TypeError: x is undefined", "contacts.js in render", "1", 1)


def test_a_browser_sessions_unhandled_status_counts_as_errored_not_crashed(backend, http):
    """Rule (Relay's SessionStatus): ``unhandled`` — what @sentry/browser sends for an
    unhandled error (recorded in tests/fakes/browser) — is accepted and counted as an
    errored session, never as a crash."""
    body = encode_envelope({}, [("session", session("b1", "ok", init=True, release="web@4")),
                                ("session", session("b1", "unhandled", errors=1,
                                                    release="web@4"))])
    response = http("POST", URL, content=body, headers=AUTH)
    assert response.status_code == 200, response.text
    assert totals(backend, "web@4") == {"release": "web@4", "environment": "production",
                                        "healthy": 0, "errored": 1, "crashed": 0,
                                        "abnormal": 0}


@pytest.mark.parametrize("encoding, compress", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("br", brotli.compress),
])
def test_compressed_envelopes_are_decoded(backend, http, encoding, compress):
    body = encode_envelope({}, [("sessions", aggregates("web@3", exited=4, abnormal=1))])
    response = http("POST", URL, content=compress(body),
                    headers={**AUTH, "Content-Encoding": encoding})
    assert response.status_code == 200, response.text
    assert response.json() == {}
    assert totals(backend, "web@3")["healthy"] == 4
    assert totals(backend, "web@3")["abnormal"] == 1


def test_truncated_envelope_is_400_stores_nothing_and_the_app_keeps_serving(backend, http):
    whole = encode_envelope({}, [("sessions", aggregates("web@1", exited=5)),
                                 ("event", event("web@1"))])
    response = http("POST", URL, content=whole[:-40], headers=AUTH)
    assert response.status_code == 400
    assert "truncated" in response.json()["detail"]
    assert backend.state()["sessions"] == []  # the good first item was not kept either
    garbled = http("POST", URL, content=b'{}\n{"type":"event"\n{}', headers=AUTH)
    assert garbled.status_code == 400
    assert set(garbled.json()) == {"detail"}
    assert http("POST", URL, content=whole, headers=AUTH).status_code == 200
    assert totals(backend, "web@1")["healthy"] == 5


def test_bad_gzip_body_is_a_sentry_shaped_400(http):
    response = http("POST", URL, content=b"not gzip",
                    headers={**AUTH, "Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_wrong_key_is_403_missing_key_401_and_key_may_come_from_query_or_dsn(backend, http):
    body = encode_envelope({}, [("sessions", aggregates("web@1", exited=1))])
    wrong = http("POST", URL, content=body,
                 headers={"X-Sentry-Auth": "Sentry sentry_key=nope, sentry_version=7"})
    assert wrong.status_code == 403
    assert set(wrong.json()) == {"detail"}
    assert http("POST", "/api/7/envelope/", content=body, headers=AUTH).status_code == 403
    assert http("POST", URL, content=body).status_code == 401
    key = "drillpublickey0000000000000000000"
    assert http("POST", f"/api/42/envelope?sentry_key={key}", content=body).status_code == 200
    with_dsn = encode_envelope({"dsn": backend.dsn("http://127.0.0.1:9000")},
                               [("sessions", aggregates("web@1", exited=1))])
    assert http("POST", URL, content=with_dsn).status_code == 200
    assert totals(backend, "web@1")["healthy"] == 2


def test_client_stamps_map_onto_a_scaled_wall_clock_as_the_clock_maps_the_wall() -> None:
    """Rule (``drill serve --speed X``): an SDK stamps by the wall, and the fake's clock
    puts virtual second ``(wall - start) × speed`` at wall instant ``wall``, so a session
    started 10 wall seconds after a ×60 clock started is at virtual 600 s, whether stamped
    as Unix seconds or ISO; at speed 1 it is the wall offset, as before."""
    from datetime import UTC, datetime

    from fakes.common.clock import WallClock
    from fakes.sentry.envelope import virtual_time

    for speed, expected in ((60.0, 600.0), (1.0, 10.0)):
        clock = WallClock(speed=speed)
        wall = clock.epoch.timestamp() + 10
        iso = datetime.fromtimestamp(wall, UTC).isoformat()
        assert virtual_time(clock, wall, 0.0) == pytest.approx(expected, abs=1e-3)
        assert virtual_time(clock, iso, 0.0) == pytest.approx(expected, abs=1e-3)


def test_a_scaled_clock_keeps_a_floored_aggregate_within_a_virtual_minute_of_arrival(
        ) -> None:
    """Rule: sentry-python floors an aggregate's ``started`` to the wall minute, which on
    a ×60 clock is a virtual hour; the fake puts its sessions in the last virtual minute
    of that span before their arrival, not up to an hour back."""
    from fakes.common.clock import WallClock
    from fakes.sentry.envelope import session_aggregates

    clock = WallClock(speed=60.0)
    floored = clock.epoch.timestamp() - 30  # the wall minute began 30 s before the start
    payload = {"attrs": {"release": "web@2"}, "aggregates": [{"started": floored,
                                                               "exited": 3}]}
    [(_, started, counts)] = session_aggregates(payload, clock)
    assert counts == [3, 0, 0, 0]
    assert clock.now() - 61 <= started <= clock.now()  # 1 s: the test's own run time
