"""HEAD answers as GET without a body on every GET route of every fake (RFC 9110 §9.3.2).

``curl -I``, uptime checks and load balancers probe with HEAD; the real services answer
it as they answer GET. For each fake, every GET operation in its own OpenAPI is called
twice in-process, GET then HEAD (path ids from the seeded state ``test_fuzz`` builds):
the HEAD gets the GET's status and content type, and no body.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from fakes.common.clock import ManualClock
from tests.fakes.test_fuzz import FAKES, SCHEMA_PATH, Fake, call


def get_paths(fake: Fake) -> list[str]:
    """Every GET path of the fake's OpenAPI, its parameters filled from the seeded ids."""
    schema: dict[str, Any] = call(fake, "GET", SCHEMA_PATH).json()
    paths = [p for p, ops in schema["paths"].items() if "get" in ops]
    return [re.sub(r"\{(\w+)\}", lambda m: fake.known.get(m.group(1), "unknown"), p)
            for p in paths]


@pytest.mark.parametrize("name", list(FAKES))
def test_head_on_every_get_route_answers_as_get_without_a_body(name: str) -> None:
    fake = FAKES[name](ManualClock())
    paths = get_paths(fake)
    assert paths, "the fake declares GET routes"
    for path in paths:
        got = call(fake, "GET", path)
        head = call(fake, "HEAD", path)
        assert head.status_code == got.status_code != 405, path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        assert head.content == b"", path


def test_head_on_the_contacts_health_check_is_200() -> None:
    """The uptime check's ``curl -I /health``: 200, the GET's length, no body."""
    fake = FAKES["contacts"](ManualClock())
    got, head = call(fake, "GET", "/health"), call(fake, "HEAD", "/health")
    assert head.status_code == 200
    assert head.headers["content-length"] == got.headers["content-length"] != "0"
    assert head.content == b""


def test_head_on_a_route_without_get_is_still_refused() -> None:
    """HEAD mirrors GET only: a POST-only route still answers 405 in the vendor shape."""
    fake = FAKES["sentry"](ManualClock())
    post_only = call(fake, "HEAD", f"/api/{fake.known['project_id']}/envelope/")
    assert post_only.status_code == 405
