"""Container lifecycles are derived from the clock alone (boot 8 s, checks every 5 s,
shutdown 2 s here), and what users are served follows from them."""

from __future__ import annotations

import re

import pytest

from fakes.common.clock import ManualClock
from fakes.docker.backend import DockerBackend
from fakes.docker.compose import compose_config
from fakes.docker.errors import Conflict, NotFound, NotModified, ServerError
from fakes.docker.lifecycle import TRANSITIONS, Phase

PREVIOUS = "logos-vision-crm:previous"


def _create(backend: DockerBackend, name: str = "logos-vision-web-2", ref: str = PREVIOUS,
            ports: dict[str, str] | None = None):
    backend.preload_image(ref)
    config = compose_config(ref, "logos-vision", "web", "bridge", ports if ports is not None
                            else {})
    return backend.create_container(name, config)


def test_started_container_is_healthy_at_the_first_check_after_boot(clock, backend):
    """Started at t=100: running with health starting, healthy at 110 (checks at 105, 110;
    the app is ready at 108)."""
    c = _create(backend)
    assert c.phase is Phase.CREATED and c.health is None
    clock.set(100.0)
    backend.start_container(c.id)
    for at, phase, health in [(100.0, Phase.STARTING, "starting"),
                              (109.999, Phase.STARTING, "starting"),
                              (110.0, Phase.HEALTHY, "healthy")]:
        clock.set(at)
        got = backend.inspect_container(c.id)
        assert (got.phase, got.health, got.phase.status) == (phase, health, "running"), at


def test_stop_lets_the_app_run_until_it_exits(clock, backend):
    """SIGTERM at 20: still running (and serving) until the 2 s shutdown ends, exit 0."""
    c = _create(backend)
    backend.start_container(c.id)
    clock.set(20.0)
    backend.stop_container(c.id)
    assert backend.inspect_container(c.id).phase is Phase.STOPPING
    assert backend.serving() is not None
    clock.set(22.0)
    got = backend.inspect_container(c.id)
    assert (got.phase, got.exit_code, got.finished_at, got.health) == \
        (Phase.EXITED, 0, 22.0, "unhealthy")
    assert backend.serving() is None


def test_a_shutdown_longer_than_the_stop_timeout_is_killed_at_the_timeout(clock):
    """An app that ignores SIGTERM (Node as PID 1) is SIGKILLed at t: exit 137."""
    backend = DockerBackend(clock, shutdown_time=60.0)
    c = _create(backend)
    backend.start_container(c.id)
    clock.set(40.0)
    backend.stop_container(c.id, timeout=5)
    clock.set(44.999)
    assert backend.inspect_container(c.id).phase is Phase.STOPPING
    clock.set(45.0)
    assert (backend.inspect_container(c.id).phase, c.exit_code) == (Phase.EXITED, 137)


def test_transitions_land_at_their_due_time_even_when_nobody_looked(clock, backend):
    """Jumping far ahead records each phase at the time it was due, not at the look."""
    c = _create(backend)
    backend.start_container(c.id)
    clock.set(3.0)
    backend.stop_container(c.id)
    clock.set(1000.0)
    assert [(e.at, e.phase) for e in backend.inspect_container(c.id).events] == [
        (0.0, Phase.CREATED), (0.0, Phase.STARTING), (3.0, Phase.STOPPING),
        (5.0, Phase.EXITED)]


def test_a_health_check_due_before_a_restart_does_not_fire_after_it(clock, backend):
    """Stopped at 3 and started again at 6, the check due at 10 belongs to the old run:
    the container is healthy at 16, not 10."""
    c = _create(backend)
    backend.start_container(c.id)
    clock.set(3.0)
    backend.stop_container(c.id)
    clock.set(6.0)
    backend.start_container(c.id)
    clock.set(10.0)
    assert backend.inspect_container(c.id).health == "starting"
    clock.set(16.0)
    assert backend.inspect_container(c.id).health == "healthy"


def test_the_engine_refuses_what_docker_refuses(clock, backend):
    """Start a running container: 304; remove it: 409; force: killed (137) and gone."""
    c = _create(backend)
    with pytest.raises(NotModified):
        backend.stop_container(c.id)
    backend.start_container(c.id)
    with pytest.raises(NotModified):
        backend.start_container(c.id)
    with pytest.raises(Conflict, match="You cannot remove a running container"):
        backend.remove_container(c.id)
    backend.remove_container(c.id, force=True)
    assert (c.phase, c.exit_code) == (Phase.REMOVED, 137)
    with pytest.raises(NotFound, match="No such container"):
        backend.inspect_container(c.id)


def test_a_taken_host_port_fails_the_start_with_a_500(backend, web):
    """Starting a second web on port 3000 while the first runs: "port is already allocated"."""
    c = _create(backend, ports={"3000/tcp": "3000"})
    with pytest.raises(ServerError, match="port is already allocated"):
        backend.start_container(c.id)
    assert backend.inspect_container(c.id).phase is Phase.CREATED


def test_every_transition_is_in_the_table():
    """The lifecycle is the table: nothing leaves REMOVED, nothing reaches CREATED again."""
    assert all(src is not Phase.REMOVED for src, _ in TRANSITIONS)
    assert Phase.CREATED not in TRANSITIONS.values()


def test_serving_is_the_healthy_web_container(clock, backend, web):
    """The seeded service serves 2.0.0 with the redesign; nothing else does."""
    assert backend.serving() == {"image": "logos-vision-crm:current", "version": "2.0.0",
                                 "hasRedesign": True}
    other = _create(backend, name="worker-1")
    other.config["Labels"]["com.docker.compose.service"] = "worker"
    backend.start_container(other.id)
    clock.set(60.0)
    assert backend.serving()["version"] == "2.0.0"


def test_serving_does_no_work_when_nothing_is_due(clock, backend, web):
    """The simulation asks every tick: with nothing due, no container is looked at."""

    class Untouchable(dict):
        def values(self):
            raise AssertionError("serving() scanned the containers")

    backend.containers = Untouchable(backend.containers)
    for t in range(100):
        clock.set(float(t))
        assert backend.serving()["version"] == "2.0.0"
    assert backend.next_transition_at() is None


def test_ids_are_derived_not_random():
    """Two hosts given the same calls mint the same sha256-looking ids."""
    ids = []
    for _ in range(2):
        backend = DockerBackend(ManualClock())
        c = backend.seed_service("logos-vision-crm:current")
        ids.append((c.id, c.image_id, backend.list_networks()[-1].id))
    assert ids[0] == ids[1]
    assert re.fullmatch(r"[0-9a-f]{64}", ids[0][0])
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", ids[0][1])


def test_reset_empties_the_host_but_not_the_registry(backend, web):
    backend.reset()
    assert backend.containers == {} and backend.images == {} and backend.serving() is None
    assert [n.name for n in backend.list_networks()] == ["bridge", "host", "none"]
    assert backend.registry.manifest("logos-vision-crm", "previous").labels["version"] == "1.9.0"
