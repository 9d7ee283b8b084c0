"""Docker Compose's conventions as the fake host sees them: the labels compose puts on a
service's containers, the create body ``docker compose up`` sends, and which container
of a service users are served by.

Users reach the running, healthy container of one compose service (the most recently
healthy if several; one stopping after being healthy still serves until it exits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fakes.docker.lifecycle import Phase
from fakes.docker.models import Container

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


def compose_config(ref: str, project: str, service: str, network: str,
                   ports: Mapping[str, str] | None = None, number: int = 1) -> dict[str, Any]:
    """The create body ``docker compose up`` sends for one service container."""
    ports = {"3000/tcp": "3000"} if ports is None else dict(ports)
    return {
        "Image": ref,
        "Labels": {PROJECT_LABEL: project, SERVICE_LABEL: service,
                   "com.docker.compose.container-number": str(number),
                   "com.docker.compose.oneoff": "False",
                   "com.docker.compose.version": "2.24.6"},
        "ExposedPorts": {port: {} for port in ports},
        "HostConfig": {"NetworkMode": network,
                       "PortBindings": {port: [{"HostIp": "", "HostPort": host}]
                                        for port, host in ports.items()},
                       "RestartPolicy": {"Name": "unless-stopped"}},
    }


def served(containers: Iterable[Container], project: str,
           service: str) -> dict[str, Any] | None:
    """``{image, version, hasRedesign}`` of what users of ``project``'s ``service`` get,
    or None when no container of it is running and healthy (the app is down)."""
    live = [c for c in containers
            if c.phase in (Phase.HEALTHY, Phase.STOPPING) and c.health == "healthy"
            and c.labels.get(PROJECT_LABEL) == project
            and c.labels.get(SERVICE_LABEL) == service]
    if not live:
        return None
    c = max(live, key=lambda x: (x.healthy_at or 0.0, x.created, x.id))
    labels = c.manifest.labels
    return {"image": c.image, "version": labels.get("version", ""),
            "hasRedesign": labels.get("hasRedesign") == "true"}
