"""Virtual time for control-plane calls (``sim.world.latency``): each call a driven
procedure makes costs its drawn latency; calls outside a procedure cost nothing; queue,
alias propagation and API latency are scenario distributions."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import simpy

from fakes.common.clock import DEFAULT_EPOCH
from rollout.steps import Procedure, RollbackFailed, Wait
from sim.drills.run import run_drill
from sim.errors import ScenarioError
from sim.results.bounds import rollback
from sim.rng import Streams
from sim.scenario.deployment import ApiLatency, World
from sim.scenario.loader import load_scenario
from sim.scenario.model import Scenario
from sim.scenario.units import DistSpec
from sim.world.clock import SimClock
from sim.world.latency import CallMeter
from sim.world.procedures import drive
from sim.world.transport import InProcessTransport

Load = Callable[..., Scenario]
MakeRig = Callable[..., "Rig"]


class Rig:
    """A SimPy clock, a metered transport onto an app that records when each call lands."""

    def __init__(self, latency: float | dict[str, Any]) -> None:
        self.env = simpy.Environment()
        self.clock = SimClock(self.env, DEFAULT_EPOCH)
        spec = World.model_validate({"api_latency": latency}).api_latency
        self.meter = CallMeter(self.clock, spec, Streams(1))
        self.landed: list[tuple[str, float]] = []
        apps = {host: self._app(host) for host in ("vercel.drill", "posthog.drill")}
        self.transport = InProcessTransport(apps, meter=self.meter)
        self.http = httpx.Client(transport=self.transport)

    def close(self) -> None:
        self.http.close()
        self.transport.close()

    def _app(self, host: str) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            self.landed.append((host, self.clock.now()))
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})
        return app

    def run(self, procedure: Procedure) -> Any:
        out: dict[str, Any] = {}

        def process() -> Generator[simpy.Event, Any, None]:
            try:
                out["value"] = yield from drive(self.env, procedure, _seconds, self.meter)
            except RollbackFailed as exc:
                out["error"] = (exc, self.env.now)

        self.env.process(process())
        self.env.run()
        return out


@pytest.fixture
def make_rig() -> Iterator[Callable[..., Rig]]:
    """``make_rig(latency)``: a rig, closed after the test."""
    made: list[Rig] = []

    def make(latency: float | dict[str, Any]) -> Rig:
        made.append(Rig(latency))
        return made[-1]

    yield make
    for rig in made:
        rig.close()


def _seconds(step: Any) -> float:
    return float(step.seconds)


def _two_calls_wait_one_call(http: httpx.Client) -> Procedure:
    http.get("http://vercel.drill/a")
    http.get("http://vercel.drill/b")
    yield Wait(10.0, "poll")
    http.get("http://vercel.drill/c")
    return {"done": True}


def test_each_timed_call_lands_and_costs_its_latency_before_its_next_step(
        make_rig: MakeRig) -> None:
    """Rule: with a fixed latency L, a call lands at now + the latency run up since the
    last step (its own included); the step's time starts once that latency has passed,
    and the procedure ends after its last response."""
    rig = make_rig(0.5)
    out = rig.run(_two_calls_wait_one_call(rig.http))
    assert out["value"] == {"done": True}
    assert [t for _, t in rig.landed] == [0.5, 1.0, 11.5]
    assert rig.env.now == pytest.approx(11.5)
    assert (rig.meter.timed_calls, rig.meter.paid_s) == (3, pytest.approx(1.5))
    assert rig.clock.lead == 0.0


def test_a_call_outside_a_driven_procedure_costs_no_time(make_rig: MakeRig) -> None:
    """Rule: the harness's own calls (webhooks, comms posts) are not timed: they land at
    env.now and nobody owes for them."""
    rig = make_rig(0.5)
    rig.http.get("http://vercel.drill/webhook")
    assert rig.landed == [("vercel.drill", 0.0)]
    assert (rig.meter.timed_calls, rig.meter.owed) == (0, 0.0)


def test_a_failed_calls_round_trip_passes_before_the_failure_is_seen(make_rig: MakeRig) -> None:
    """Rule: a procedure that raises after a call raises once that call's latency passed."""
    rig = make_rig(0.75)

    def failing() -> Procedure:
        rig.http.get("http://vercel.drill/rollback")
        raise RollbackFailed("vercel rollback", "HTTP 500")
        yield Wait(1.0, "never")  # a generator

    out = rig.run(failing())
    assert out["error"][0].where == "vercel rollback" and out["error"][1] == 0.75


def test_latency_is_drawn_per_vendor_from_its_own_stream(make_rig: MakeRig) -> None:
    """Rule: a vendor named in ``api_latency`` uses its own distribution, the others the
    default; draws come from ``api_latency.<vendor>`` so the same seed gives the same
    times."""
    rig = make_rig({"default": 0.1, "posthog": {"dist": "uniform", "low": 1.0, "high": 2.0}})

    def calls() -> Procedure:
        rig.http.get("http://vercel.drill/x")
        rig.http.get("http://posthog.drill/y")
        yield Wait(0.0, "done")
        return {}

    rig.run(calls())
    expected = 0.1 + DistSpec(dist="uniform", low=1.0, high=2.0).sample(
        Streams(1).get("api_latency.posthog"))
    assert rig.landed[0] == ("vercel.drill", pytest.approx(0.1))
    assert rig.landed[1][1] == pytest.approx(expected)


def test_rollback_time_grows_by_its_calls_times_the_latency(scenario: Load) -> None:
    """Rule: the same seed with a fixed API latency of 2 s instead of 0 makes the PostHog
    flag disable (no polling) take exactly its timed calls × 2 s longer; its calls are
    among the run's control-plane calls."""
    def procedure_time(latency: str) -> tuple[float, int, int]:
        result = run_drill(scenario("critical-bug-flag-disable", f"world.api_latency={latency}"))
        started = result.journal.first("rollback_started")
        done = result.journal.first("rollback_completed")
        assert started is not None and done is not None
        return done.t - started.t, done.data["api_calls"], result.facts["control_plane_calls"]

    free, calls_free, _ = procedure_time("0")
    slow, calls, total = procedure_time("2s")
    assert calls == calls_free == 2 and calls < total
    assert slow - free == pytest.approx(calls * 2.0)


@pytest.mark.parametrize(("text", "field", "says"), [
    ("world: {api_latency: {vercell: 1}}\n", "world.api_latency.vercell", "allowed"),
    ("world: {api_latency: -1}\n", "world.api_latency.default", ">= 0"),
    ("world: {alias_propagation: {dist: lognormal, median: 1}}\n",
     "world.alias_propagation", "needs median, sigma"),
    ("world: {queue_time: {dist: uniform, low: 9, high: 2}}\n", "world.queue_time",
     "low <= high"),
])
def test_bad_timings_get_the_loaders_one_line_error(tmp_path: Path, text: str, field: str,
                                                    says: str) -> None:
    """Rule: a bad latency, queue or propagation names the file, the field and what is
    allowed, on one line."""
    path = tmp_path / "bad.yaml"
    path.write_text("name: t\nfaults: [{kind: error_spike, at: 1h, error_rate: 0.5}]\n" + text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field.startswith(field) and says in str(info.value)
    assert "\n" not in str(info.value)


def test_plain_numbers_stay_fixed_and_distributions_sample() -> None:
    """Rule: a plain duration is a fixed value (old scenarios keep their meaning); a
    mapping with ``dist`` is a distribution; the defaults are distributions."""
    w = World.model_validate({"queue_time": 5, "alias_propagation": "3s",
                              "api_latency": {"dist": "uniform", "low": 0.1, "high": 0.2}})
    assert w.queue_time == DistSpec(dist="fixed", value=5.0)
    assert w.alias_propagation == DistSpec(dist="fixed", value=3.0)
    assert w.api_latency.of("vercel") == DistSpec(dist="uniform", low=0.1, high=0.2)
    rng = np.random.default_rng(3)
    draws = [World().alias_propagation.sample(rng) for _ in range(200)]
    assert len(set(draws)) == 200 and 0.6 < float(np.median(draws)) < 1.6
    assert ApiLatency().of("netlify") == ApiLatency().default


def test_the_rollback_bound_counts_the_calls_and_the_alias_swap(scenario: Load) -> None:
    """Rule: the vercel-rollback bound adds its calls × latency and the propagation to the
    manual steps; the propagation is drawn, so the range is its 1 % / 99 % quantiles
    (uniform 1–4 s: 1.03 s and 3.97 s) plus a tick on the high end."""
    s = scenario("critical-bug-vercel-rollback", "responder.mode=automated",
                 "world.api_latency=0.5", "world.alias_propagation={dist: uniform, low: 1, "
                 "high: 4}")
    bound = rollback(s)
    assert bound.low == pytest.approx(6 * 0.5 + 1.03, abs=0.01)
    assert bound.high == pytest.approx(6 * 0.5 + 3.97 + s.tick, abs=0.01)
    assert "6 vercel API calls" in bound.how
