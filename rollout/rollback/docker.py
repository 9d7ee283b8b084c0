"""Option B on Docker Compose: the runbook's three commands, as Engine API calls.

The runbook says::

    docker-compose down
    docker-compose pull logos-vision-crm:previous
    docker-compose up -d

``docker_compose_rollback`` does what the engineer means by them, with the calls compose
makes against the Docker Engine API (``rollout.clients.docker.DockerEngine``, a small
httpx client). Two things in those lines do not work as written:

- ``docker-compose pull logos-vision-crm:previous`` is not valid compose syntax: compose
  pulls *services* of the compose file, not images (``docker-compose pull web``); given an
  image reference it fails with "no such service". What is meant is ``docker pull``.
- ``docker-compose up -d`` starts the image the compose file names. Unless that file says
  ``image: logos-vision-crm:previous`` (or the tag in it was moved to the previous
  release), ``up -d`` brings back the same faulty version. The procedure runs the service
  from ``logos-vision-crm:previous``, as the rollback intends; the runbook should say how.

The order matters too: ``down`` first, then ``pull``, then ``up`` leaves users with no app
at all from the moment the container stops until the new one is healthy, pull time
included. Pulling first would shorten that gap to the restart.

Against a real daemon ``stop`` returns once the container exited and ``pull`` once the
image is stored; the fake Engine in a drill answers at once and lets the clock finish the
work, so the procedure polls (``Wait``) for both, which costs nothing against a real one.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from rollout.clients.docker import DockerEngine
from rollout.clients.errors import VendorError
from rollout.steps import Manual, Procedure, RollbackFailed, Step, Wait

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
DEFAULT_PORTS = {"3000/tcp": "3000"}


def docker_compose_rollback(client: DockerEngine, project: str = "logos-vision",
                            service: str = "web", image: str = "logos-vision-crm",
                            tag: str = "previous", poll: float = 1.0,
                            ports: Mapping[str, str] | None = None) -> Procedure:
    """Option B on Docker: ``down``, pull ``image:tag``, ``up -d`` the service from it.

    Waits (polling every ``poll`` s) until the old containers exited, the image is local
    and the new container is healthy. Raises RollbackFailed naming the runbook line whose
    calls failed (e.g. the pull, when the registry has no such tag) or when the new
    container exits or turns unhealthy. See the module docstring for how the commands
    are read.
    """
    ref = f"{image}:{tag}"
    yield Manual("docker-compose down")
    removed = yield from _down(client, project, poll)
    pull_step = f"docker-compose pull {ref}"
    yield Manual(pull_step)
    pulled = yield from _pull(client, ref, pull_step, poll)
    yield Manual("docker-compose up -d")
    container_id = _up(client, project, service, ref, ports or DEFAULT_PORTS)
    yield from _wait_healthy(client, container_id, poll)
    labels = (pulled.get("Config") or {}).get("Labels") or {}
    return {"image": ref, "image_id": pulled.get("Id"), "version": labels.get("version"),
            "container_id": container_id, "removed": removed}


def _down(client: DockerEngine, project: str,
          poll: float) -> Generator[Step, None, list[str]]:
    """Stop and remove the project's containers, then its networks; the names removed."""
    step = "docker-compose down"
    try:
        found = client.list_containers(all=True, labels=[f"{PROJECT_LABEL}={project}"])
        for c in found:
            if c["State"] == "running":
                client.stop_container(c["Id"])
    except VendorError as exc:
        raise RollbackFailed(step, str(exc)) from exc
    for c in found:
        yield from _wait_exited(client, c["Id"], step, poll)
    try:
        for c in found:
            client.remove_container(c["Id"])
        for n in client.list_networks(labels=[f"{PROJECT_LABEL}={project}"]):
            client.remove_network(n["Id"])
    except VendorError as exc:
        raise RollbackFailed(step, str(exc)) from exc
    return [c["Names"][0].lstrip("/") for c in found]


def _wait_exited(client: DockerEngine, container_id: str, step: str,
                 poll: float) -> Generator[Step, None, None]:
    while True:
        try:
            state = client.inspect_container(container_id)["State"]
        except VendorError as exc:
            raise RollbackFailed(step, str(exc)) from exc
        if not state.get("Running"):
            return
        yield Wait(poll, f"container {container_id[:12]} is stopping")


def _pull(client: DockerEngine, ref: str, step: str,
          poll: float) -> Generator[Step, None, dict[str, Any]]:
    """Pull, then wait until the image the registry named (by digest) is local."""
    try:
        messages = client.pull_image(ref)
    except VendorError as exc:
        raise RollbackFailed(step, str(exc)) from exc
    digest = next((m["status"].removeprefix("Digest: ") for m in messages
                   if str(m.get("status", "")).startswith("Digest: ")), None)
    while True:
        try:
            found = client.inspect_image(ref)
        except VendorError as exc:
            raise RollbackFailed(step, str(exc)) from exc
        if found is not None and (digest is None or any(
                d.endswith("@" + digest) for d in found.get("RepoDigests") or [])):
            return found
        yield Wait(poll, f"pulling {ref}")


def _up(client: DockerEngine, project: str, service: str, ref: str,
        ports: Mapping[str, str]) -> str:
    """Create the project network if missing, then create and start the service."""
    step = "docker-compose up -d"
    network = f"{project}_default"
    try:
        if not client.list_networks(names=[network]):
            client.create_network(network, {PROJECT_LABEL: project,
                                            "com.docker.compose.network": "default"})
        container_id = client.create_container(
            f"{project}-{service}-1", _service_config(project, service, ref, network, ports))
        client.start_container(container_id)
    except VendorError as exc:
        raise RollbackFailed(step, str(exc)) from exc
    return container_id


def _service_config(project: str, service: str, ref: str, network: str,
                    ports: Mapping[str, str]) -> dict[str, Any]:
    """The create body compose sends for container 1 of ``service``."""
    return {
        "Image": ref,
        "Labels": {PROJECT_LABEL: project, SERVICE_LABEL: service,
                   "com.docker.compose.container-number": "1",
                   "com.docker.compose.oneoff": "False"},
        "ExposedPorts": {port: {} for port in ports},
        "HostConfig": {"NetworkMode": network,
                       "PortBindings": {port: [{"HostIp": "", "HostPort": host}]
                                        for port, host in ports.items()},
                       "RestartPolicy": {"Name": "unless-stopped"}},
    }


def _wait_healthy(client: DockerEngine, container_id: str,
                  poll: float) -> Generator[Step, None, None]:
    step = "docker-compose up -d"
    while True:
        try:
            state = client.inspect_container(container_id)["State"]
        except VendorError as exc:
            raise RollbackFailed(step, str(exc)) from exc
        health = (state.get("Health") or {}).get("Status")
        if not state.get("Running"):
            raise RollbackFailed(step, f"container {container_id[:12]} is {state.get('Status')} "
                                       f"(exit code {state.get('ExitCode')})")
        if health in (None, "healthy"):  # no HEALTHCHECK: running is all compose knows
            return
        if health == "unhealthy":
            raise RollbackFailed(step, f"container {container_id[:12]} is unhealthy")
        yield Wait(poll, f"container {container_id[:12]} is {health}")
