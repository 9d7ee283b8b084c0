"""Fake Docker Engine as the runbook's world has it: a host serving
``logos-vision-crm:current`` (healthy for an hour), the registry holding ``previous``
too; in a drill only on the Docker platform."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.common.descriptor import RunbookScenario, Start, Vendor
from fakes.docker.backend import DockerBackend

if TYPE_CHECKING:
    from fastapi import FastAPI


def create(start: Start) -> DockerBackend:
    docker = DockerBackend(start.clock)
    docker.seed_service("logos-vision-crm:current")
    return docker


def app(backend: DockerBackend, live: bool) -> FastAPI:
    from fakes.docker.router import build_app

    return build_app(backend, follow=live)


def env(docker: DockerBackend, url: str) -> dict[str, str]:
    """``DOCKER_HOST`` as the docker CLI reads it (``tcp://host:port``)."""
    return {"DOCKER_HOST": url.replace("http://", "tcp://", 1)}


def on_docker(scenario: RunbookScenario) -> bool:
    return scenario.world.platform == "docker"


DOCKER = Vendor("docker", create, app, env, in_drill=on_docker, api_faults=True)
