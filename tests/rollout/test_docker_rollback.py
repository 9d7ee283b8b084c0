"""Option B on Docker Compose (``rollout.rollback.docker``) against the fake Engine, in
virtual time.

The procedure is stepped by hand: each ``Manual`` step (typing a command) takes 15 s,
each ``Wait`` its seconds; the clock moves in 0.5 s ticks and what users are served
(``serving()``) is recorded at every tick, as a drill would. Fake timings: 10 MB/s,
0.5 s a layer, 0.2 s a manifest, boot 8 s, health checks every 5 s, shutdown 2 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fakes.common.clock import ManualClock
from fakes.docker.backend import DockerBackend
from fakes.docker.compose import compose_config
from fakes.docker.router import build_app
from rollout.clients.docker import DockerEngine
from rollout.rollback.docker import docker_compose_rollback
from rollout.steps import Manual, Procedure, RollbackFailed, Wait
from sim.world.transport import InProcessTransport

TYPING = 15.0
TICK = 0.5
HOST = "http://docker.drill"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(clock: ManualClock) -> DockerBackend:
    b = DockerBackend(clock, bandwidth=10e6, layer_latency=0.5, manifest_latency=0.2,
                      boot_time=8.0, health_interval=5.0, shutdown_time=2.0)
    b.seed_service("logos-vision-crm:current")
    return b


@pytest.fixture
def http(backend: DockerBackend) -> Iterator[httpx.Client]:
    """Synchronous httpx onto the fake's ASGI app: the transport a drill uses."""
    transport = InProcessTransport({"docker.drill": build_app(backend)})
    with httpx.Client(transport=transport) as client:
        yield client
    transport.close()


class Drive:
    """Steps a procedure in virtual time, recording (t, serving) every tick."""

    def __init__(self, clock: ManualClock, backend: DockerBackend) -> None:
        self.clock, self.backend = clock, backend
        self.timeline: list[tuple[float, dict[str, Any] | None]] = []
        self.steps: list[tuple[float, Manual | Wait]] = []

    def run(self, procedure: Procedure) -> dict[str, Any]:
        try:
            step = next(procedure)
            while True:
                self.steps.append((self.clock.now(), step))
                self._pass(TYPING if isinstance(step, Manual) else step.seconds)
                step = procedure.send(None)
        except StopIteration as stop:
            self._look()
            return dict(stop.value)

    def _pass(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.clock.set(min(end, self.clock.now() + TICK))
            self._look()

    def _look(self) -> None:
        self.timeline.append((self.clock.now(), self.backend.serving()))

    def versions(self) -> list[tuple[float, str | None]]:
        return [(t, s and s["version"]) for t, s in self.timeline]


def test_rollback_serves_nothing_between_down_and_healthy_up_then_the_previous_version(
        clock, backend, http):
    """Down at 15 (typing), exited at 17; pull typed at 32, done at 42.627; up typed at
    58, healthy at 68. Users get 2.0.0 until 17, nothing from 17 to 68, then 1.9.0."""
    drive = Drive(clock, backend)
    result = drive.run(docker_compose_rollback(DockerEngine(http, HOST), poll=1.0))
    served = drive.versions()
    assert {v for t, v in served if t < 17.0} == {"2.0.0"}
    assert {v for t, v in served if 17.0 <= t < 68.0} == {None}
    assert {v for t, v in served if t >= 68.0} == {"1.9.0"}
    assert clock.now() == 68.0
    assert backend.serving() == {"image": "logos-vision-crm:previous", "version": "1.9.0",
                                 "hasRedesign": False}
    assert result["version"] == "1.9.0" and result["removed"] == ["logos-vision-web-1"]
    manual = [s.what for _, s in drive.steps if isinstance(s, Manual)]
    assert manual == ["docker-compose down", "docker-compose pull logos-vision-crm:previous",
                      "docker-compose up -d"]


def test_rollback_recreates_the_service_as_compose_would(clock, backend, http):
    """The new container has the compose name, labels, network and port of the old one."""
    Drive(clock, backend).run(docker_compose_rollback(DockerEngine(http, HOST)))
    [c] = backend.list_containers(all=True)
    assert c.name == "logos-vision-web-1" and c.image == "logos-vision-crm:previous"
    assert c.labels["com.docker.compose.project"] == "logos-vision"
    assert c.labels["com.docker.compose.service"] == "web"
    assert c.network == "logos-vision_default" and c.host_ports() == {"0.0.0.0:3000/tcp"}
    assert [x.name for x in backend.removed] == ["logos-vision-web-1"]


def test_a_cached_previous_image_shortens_the_gap_to_typing_and_restart(clock, backend, http):
    """With ``previous`` already local the image is there at once: no pull wait; up is
    typed at 47 and healthy at 57 (instead of 68)."""
    backend.preload_image("logos-vision-crm:previous")
    drive = Drive(clock, backend)
    drive.run(docker_compose_rollback(DockerEngine(http, HOST), poll=1.0))
    gap = [t for t, v in drive.versions() if v is None]
    assert (min(gap), max(gap)) == (17.0, 56.5)
    assert backend.serving()["version"] == "1.9.0"


def test_a_tag_the_registry_lacks_fails_the_pull_step_and_leaves_the_app_down(
        clock, backend, http):
    """RollbackFailed names the pull line; the runbook's order (down first) means users
    are left with no app at all."""
    drive = Drive(clock, backend)
    with pytest.raises(RollbackFailed) as failed:
        drive.run(docker_compose_rollback(DockerEngine(http, HOST), tag="nope"))
    assert failed.value.where == "docker-compose pull logos-vision-crm:nope"
    assert "manifest for logos-vision-crm:nope not found" in failed.value.message
    assert backend.serving() is None


def test_a_port_held_outside_the_project_fails_the_up_step(clock, backend, http):
    """A stray container on port 3000 survives ``down``; ``up`` then fails with Docker's 500."""
    backend.preload_image("logos-vision-crm:current")
    stray = backend.create_container("debug-shell", compose_config(
        "logos-vision-crm:current", "someone-else", "web", "bridge"))
    backend.stop_container(backend.list_containers()[0].id, timeout=0)
    backend.start_container(stray.id)
    with pytest.raises(RollbackFailed) as failed:
        Drive(clock, backend).run(docker_compose_rollback(DockerEngine(http, HOST)))
    assert failed.value.where == "docker-compose up -d"
    assert "port is already allocated" in failed.value.message


def test_bare_paths_work_as_well_as_versioned_ones(clock, backend, http):
    """``api_version=None`` sends unversioned paths, which the daemon (and the fake) serve."""
    result = Drive(clock, backend).run(docker_compose_rollback(
        DockerEngine(http, HOST, api_version=None)))
    assert result["version"] == "1.9.0"


def test_the_client_reads_the_negotiated_version_and_lists_images(backend, http):
    engine = DockerEngine(http, HOST)
    assert engine.ping() == "1.43"
    assert engine.version()["ApiVersion"] == "1.43"
    assert [i["RepoTags"] for i in engine.list_images()] == [["logos-vision-crm:current"]]
    assert engine.inspect_image("logos-vision-crm:previous") is None


def test_the_procedure_runs_over_tcp_against_an_engine_that_blocks_like_dockerd():
    """Served on 127.0.0.1 in follow mode (pull and stop return when done, as a real daemon
    does) on a 100× wall clock, ``run_blocking`` rolls back through ``engine_for``."""
    from fakes.common.clock import WallClock
    from rollout.clients.docker import engine_for
    from rollout.steps import run_blocking
    from tests.servers import serve_in_thread

    backend = DockerBackend(WallClock(speed=100.0))
    backend.seed_service("logos-vision-crm:current")
    with serve_in_thread(build_app(backend, follow=True)) as url:
        engine = engine_for(url.replace("http://", "tcp://"))
        result = run_blocking(docker_compose_rollback(engine, poll=0.05))
        engine.http.close()
    assert result["version"] == "1.9.0"
    assert backend.serving() == {"image": "logos-vision-crm:previous", "version": "1.9.0",
                                 "hasRedesign": False}
