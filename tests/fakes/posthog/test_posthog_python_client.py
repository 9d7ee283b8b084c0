"""End to end with PostHog's own Python client against the fake served on 127.0.0.1.

Skipped unless ``posthog`` is importable (it is not a project dependency): these tests
check the fake against the real client, not the other way round. Rules checked: the
client's local evaluation equals the fake's for 10,000 users on every kind of flag a
drill uses; remote ``/flags`` answers what local evaluation answers, and a disabled
flag is absent (``None``), not ``False``; definitions polls get 304 until a flag changes;
the client's gzip batches are counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fakes.common.clock import ManualClock
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.evaluation import match_flag
from fakes.posthog.router import build_app
from tests.servers import serve_in_thread

posthog = pytest.importorskip("posthog")

USERS = [f"user-{i}" for i in range(10_000)]
INTERNAL = USERS[::97]
PLANS = ("free", "pro", "team")
FLAGS: dict[str, dict[str, Any]] = {
    "contacts_redesign": {"groups": [{"properties": [], "rollout_percentage": 30}]},
    "ab": {"groups": [{"properties": [], "rollout_percentage": 60}],
           "multivariate": {"variants": [{"key": "control", "rollout_percentage": 50},
                                         {"key": "test", "rollout_percentage": 33},
                                         {"key": "other", "rollout_percentage": 17}]}},
    "internal_then_half": {"groups": [
        {"properties": [{"key": "distinct_id", "value": INTERNAL, "type": "person"}]},
        {"properties": [], "rollout_percentage": 12.5}]},
    "pro_early_exit": {"early_exit": True, "groups": [
        {"properties": [{"key": "plan", "value": ["pro"]}], "rollout_percentage": 40},
        {"properties": [], "rollout_percentage": 50}]},
    "properties": {"groups": [
        {"properties": [{"key": "email", "operator": "icontains", "value": "@ACME"}],
         "rollout_percentage": 70},
        {"properties": [{"key": "plan", "operator": "is_not", "value": "free"},
                        {"key": "seats", "operator": "gt", "value": "5"}]},
        {"properties": [{"key": "email", "operator": "regex", "value": "^user-1"}]}]},
    "holdout": {"holdout": {"id": 7, "exclusion_percentage": 10},
                "groups": [{"properties": [], "rollout_percentage": 50}]},
}


def person(index: int) -> dict[str, Any]:
    domain = "acme" if index % 3 == 0 else "example"
    return {"plan": PLANS[index % 3 if index % 7 else 1], "seats": index % 10,
            "email": f"user-{index}@{domain}.com"}


@pytest.fixture
def served() -> Iterator[tuple[PostHogBackend, str]]:
    """A backend with FLAGS (and one inactive flag) behind uvicorn on a free port."""
    backend = PostHogBackend(ManualClock())
    for key, filters in FLAGS.items():
        backend.create_feature_flag(key, key, True, filters)
    backend.create_feature_flag("disabled", "off", False,
                                {"groups": [{"properties": [], "rollout_percentage": 100}]})
    with serve_in_thread(build_app(backend)) as base_url:
        yield backend, base_url


def test_posthog_python_local_evaluation_equals_the_fake_for_10000_users(
        served: tuple[PostHogBackend, str]) -> None:
    _, host = served
    client = posthog.Posthog("phc_drill", host=host, secret_key="phx_drill", send=False)
    try:
        client.load_feature_flags()
        definitions = {f["key"]: f for f in client.feature_flags}
        assert set(definitions) == {*FLAGS, "disabled"}
        mismatches = []
        for index, user in enumerate(USERS):
            props = person(index)
            local = client.evaluate_flags(user, person_properties=props,
                                          only_evaluate_locally=True)
            for key, definition in definitions.items():
                theirs = local.get_flag(key, send_feature_flag_events=False)
                ours = match_flag(definition, user, props).value
                if theirs != ours:
                    mismatches.append((key, user, theirs, ours))
        assert mismatches == []
    finally:
        client.shutdown()


def test_posthog_python_remote_flags_agree_and_a_disabled_flag_is_absent(
        served: tuple[PostHogBackend, str]) -> None:
    backend, host = served
    client = posthog.Posthog("phc_drill", host=host, send=False)
    try:
        for index, user in enumerate(USERS[:50]):
            props = person(index)
            remote = client.evaluate_flags(user, person_properties=props)
            for key in FLAGS:
                definition = backend.flag_by_key(key).definition()  # type: ignore[union-attr]
                assert remote.get_flag(key, send_feature_flag_events=False) == match_flag(
                    definition, user, props).value
            assert remote.get_flag("disabled", send_feature_flag_events=False) is None
        assert backend.flag_requests == 50
    finally:
        client.shutdown()


def test_posthog_python_polls_definitions_with_etags_and_sees_a_patch(
        served: tuple[PostHogBackend, str]) -> None:
    backend, host = served
    client = posthog.Posthog("phc_drill", host=host, secret_key="phx_drill", send=False)
    try:
        client.load_feature_flags()
        client.load_feature_flags()
        assert backend.state()["definitions_not_modified"] >= 1
        flag = backend.flag_by_key("contacts_redesign")
        assert flag is not None
        backend.patch_feature_flag(flag.id, {"filters": {"groups": [
            {"properties": [], "rollout_percentage": 0}]}})
        client.load_feature_flags()
        local = client.evaluate_flags("user-3", only_evaluate_locally=True)
        assert local.get_flag("contacts_redesign", send_feature_flag_events=False) is False
    finally:
        client.shutdown()


def test_posthog_python_gzip_batches_are_counted(served: tuple[PostHogBackend, str]) -> None:
    backend, host = served
    client = posthog.Posthog("phc_drill", host=host, gzip=True, sync_mode=True)
    try:
        client.capture("page_view", distinct_id="user-1", properties={"path": "/contacts"})
        client.capture("page_view", distinct_id="user-2")
    finally:
        client.shutdown()
    assert backend.event_counts() == {"page_view": 2}
    assert backend.events()[0].properties["path"] == "/contacts"


@pytest.mark.parametrize("compression", ["zstd", "gzip", "deflate"])
def test_posthog_python_v1_compressed_batches_are_counted(
        served: tuple[PostHogBackend, str], compression: str) -> None:
    """Every ``capture_compression`` posthog-python offers on ``/i/v1/analytics/events``
    (``posthog/capture_v1.py``: zstd frame, gzip, zlib-wrapped deflate) is decoded: no
    event is lost to a 415."""
    backend, host = served
    errors: list[Any] = []
    client = posthog.Posthog("phc_drill", host=host, sync_mode=True, capture_mode="v1",
                             capture_compression=compression,
                             on_error=lambda exc, _: errors.append(exc))
    try:
        client.capture("page_view", distinct_id="user-1", properties={"path": "/contacts"})
        client.capture("page_view", distinct_id="user-2")
    finally:
        client.shutdown()
    assert errors == []
    assert backend.event_counts() == {"page_view": 2}
