"""Seeded histories in the fakes (``fakes.*.history``): deterministic by seed, drawn
from the distributions asked for, listed by the vendors' own list routes with their
pagination, and seeded over ``POST /_fake/history`` as ``drill serve`` users would."""

from __future__ import annotations

import math

import numpy as np

from fakes.common.clock import ManualClock
from fakes.common.history import Lognormal
from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.router import build_app as netlify_app
from fakes.pagerduty.backend import PagerDutyBackend
from fakes.pagerduty.router import build_app as pagerduty_app
from fakes.vercel.backend import VercelBackend
from fakes.vercel.history import seed_history
from fakes.vercel.router import build_app as vercel_app
from tests.fakes.clients import InProcessClient

BUILD = Lognormal(90.0, 0.3)
QUEUE = Lognormal(5.0, 0.5)


def _vercel() -> tuple[VercelBackend, str]:
    backend = VercelBackend(ManualClock(), token="t")
    return backend, backend.create_project("contacts-web").id


def test_the_same_seed_gives_the_same_history_and_another_seed_another():
    def times(seed: int) -> list[tuple[float, float, float]]:
        backend, project = _vercel()
        return [(d.created, d.building_at, d.ready_at) for d in seed_history(
            backend, project, seed=seed, count=50, build_time=BUILD, queue_time=QUEUE)]

    assert times(1) == times(1)
    assert times(1) != times(2)


def test_seeded_build_times_follow_the_asked_distribution():
    """The log of 2,000 build times has the asked median and sigma (to 3 standard
    errors)."""
    backend, project = _vercel()
    made = seed_history(backend, project, seed=5, count=2000, build_time=BUILD,
                        queue_time=QUEUE)
    logs = np.log([d.ready_at - d.building_at for d in made])
    se = BUILD.sigma / math.sqrt(len(logs))
    assert abs(logs.mean() - math.log(BUILD.median)) < 3 * se
    assert abs(logs.std() - BUILD.sigma) < 0.03


def test_vercel_lists_the_history_newest_first_through_until_cursors():
    """``pagination.next`` passed as ``until`` walks all 250 once, newest first."""
    backend, project = _vercel()
    seed_history(backend, project, seed=6, count=250, build_time=BUILD, queue_time=QUEUE)
    http = InProcessClient(vercel_app(backend), "https://api.vercel.test",
                           {"Authorization": "Bearer t"}).request
    seen, params = [], {"projectId": project, "limit": 100}
    while True:
        body = http("GET", "/v6/deployments", params=params).json()
        seen += [d["createdAt"] for d in body["deployments"]]
        if body["pagination"]["next"] is None:
            break
        params["until"] = body["pagination"]["next"]
    assert len(seen) == 250 and seen == sorted(seen, reverse=True)


def test_post_fake_history_seeds_each_vendor_and_refuses_a_bad_body():
    clock = ManualClock()
    vercel = VercelBackend(clock, token="t")
    vercel.create_project("contacts-web")
    netlify = NetlifyBackend(clock, token="t")
    netlify.create_site("contacts-web")
    pagerduty = PagerDutyBackend(clock)
    for app, base in ((vercel_app(vercel), "https://api.vercel.test"),
                      (netlify_app(netlify), "https://api.netlify.test"),
                      (pagerduty_app(pagerduty), "https://events.pagerduty.test")):
        http = InProcessClient(app, base).request
        ok = http("POST", "/_fake/history", json={"seed": 1, "count": 30})
        assert ok.status_code == 200 and ok.json()["seeded"] == 30
        bad = http("POST", "/_fake/history", json={"seed": 1, "count": 0})
        assert bad.status_code == 400 and "count" in bad.text
    assert len(vercel.deployments) == 30
    assert len(netlify.directory.deploys) == 30
    assert len(pagerduty.incidents()) == 30
