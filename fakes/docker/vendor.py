"""Fake Docker Engine as the runbook's world has it: a host serving
``logos-vision-crm:current`` (healthy for an hour), the registry holding ``previous``
too; in a drill only on the Docker platform."""

from __future__ import annotations

from fakes.common.descriptor import RunbookScenario, Start, Vendor
from fakes.docker.backend import DockerBackend


def create(start: Start) -> DockerBackend:
    docker = DockerBackend(start.clock)
    docker.seed_service("logos-vision-crm:current")
    return docker


def env(docker: DockerBackend, url: str) -> dict[str, str]:
    """``DOCKER_HOST`` as the docker CLI reads it (``tcp://host:port``)."""
    return {"DOCKER_HOST": url.replace("http://", "tcp://", 1)}


def on_docker(scenario: RunbookScenario) -> bool:
    return scenario.world.platform == "docker"


def follow_live(live: bool) -> dict[str, bool]:
    """Under ``drill serve`` the router follows the event stream as the clock runs."""
    return {"follow": live}


DOCKER = Vendor("docker", create, env, in_drill=on_docker, api_faults=True,
                app_options=follow_live)
