"""The JSON the Engine API answers with, built from the backend's records.

Field names and formats follow the Engine API v1.43 (what ``docker`` and compose read):
ids in full, ``Created`` as Unix seconds in lists and RFC 3339 in inspect, ``Names`` with
a leading slash, ``Status`` as the CLI prints it ("Up 5 minutes (healthy)"), pull
progress as the newline-delimited JSON messages the CLI renders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fakes.common.clock import Clock, to_datetime
from fakes.docker.models import Container, LocalImage, Network, Pull, short_id

ZERO_TIME = "0001-01-01T00:00:00Z"
_HEALTH_TEXT = {"starting": "health: starting", "healthy": "healthy", "unhealthy": "unhealthy"}


def unix(clock: Clock, t: float) -> int:
    return int(to_datetime(clock, t).timestamp())


def rfc3339(clock: Clock, t: float | None) -> str:
    if t is None:
        return ZERO_TIME
    return to_datetime(clock, t).isoformat(timespec="microseconds").replace("+00:00", "Z")


def human_duration(seconds: float) -> str:
    """go-units ``HumanDuration``, which ``docker ps`` uses for "Up …" and "… ago"."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = s // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 14:
        return f"{hours // 24} days"
    if hours < 24 * 60:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 730:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds // 3600) // 24 // 365} years"


def status_text(c: Container, now: float) -> str:
    """``docker ps``'s STATUS column."""
    if c.phase.running:
        health = _HEALTH_TEXT.get(c.health or "")
        up = f"Up {human_duration(now - (c.started_at or now))}"
        return f"{up} ({health})" if health else up
    if c.finished_at is not None:
        return f"Exited ({c.exit_code}) {human_duration(now - c.finished_at)} ago"
    return "Created"


def _ports(c: Container) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for port, binds in sorted((c.host_config.get("PortBindings") or {}).items()):
        private, _, proto = port.partition("/")
        for b in binds or [{}]:
            entry: dict[str, Any] = {"PrivatePort": int(private), "Type": proto or "tcp"}
            if c.phase.running and b.get("HostPort"):
                entry |= {"IP": b.get("HostIp") or "0.0.0.0", "PublicPort": int(b["HostPort"])}
            out.append(entry)
    return out


def _command(c: Container) -> list[str]:
    entry = c.config.get("Entrypoint") or list(c.manifest.entrypoint)
    cmd = c.config.get("Cmd") or list(c.manifest.cmd)
    return [*entry, *cmd]


def _networks(c: Container, networks: dict[str, Network]) -> dict[str, Any]:
    by_name = {n.name: n for n in networks.values()}
    name = "bridge" if c.network == "default" else c.network
    net = by_name.get(name)
    return {name: {"NetworkID": net.id if net else "", "EndpointID": "", "Gateway": "",
                   "IPAddress": "", "Aliases": None}}


def container_summary(clock: Clock, c: Container, networks: dict[str, Network]) -> dict[str, Any]:
    """One entry of ``GET /containers/json``."""
    return {"Id": c.id, "Names": ["/" + c.name], "Image": c.image, "ImageID": c.image_id,
            "Command": " ".join(_command(c)), "Created": unix(clock, c.created),
            "Ports": _ports(c), "Labels": c.labels, "State": c.phase.status,
            "Status": status_text(c, clock.now()),
            "HostConfig": {"NetworkMode": c.network},
            "NetworkSettings": {"Networks": _networks(c, networks)}, "Mounts": []}


def container_inspect(clock: Clock, c: Container, networks: dict[str, Network]) -> dict[str, Any]:
    """``GET /containers/{id}/json``; ``State.Health`` appears once it has been started."""
    command = _command(c)
    state: dict[str, Any] = {
        "Status": c.phase.status, "Running": c.phase.running, "Paused": False,
        "Restarting": False, "OOMKilled": False, "Dead": False,
        "Pid": 1000 + c.run if c.phase.running else 0, "ExitCode": c.exit_code, "Error": "",
        "StartedAt": rfc3339(clock, c.started_at), "FinishedAt": rfc3339(clock, c.finished_at)}
    if c.health is not None:
        state["Health"] = {"Status": c.health, "FailingStreak": 0, "Log": []}
    config = {"Hostname": c.id[:12], "Image": c.image, "Labels": c.labels,
              "Env": c.config.get("Env") or [], "Cmd": command[len(c.manifest.entrypoint):],
              "Entrypoint": list(c.manifest.entrypoint),
              "ExposedPorts": c.config.get("ExposedPorts") or {},
              "Healthcheck": c.config.get("Healthcheck")}
    return {"Id": c.id, "Created": rfc3339(clock, c.created), "Path": command[0],
            "Args": command[1:], "State": state, "Image": c.image_id, "Name": "/" + c.name,
            "RestartCount": 0, "Driver": "overlay2", "Platform": "linux", "Config": config,
            "HostConfig": c.host_config, "Mounts": [],
            "NetworkSettings": {"Ports": {}, "Networks": _networks(c, networks)}}


def image_summary(clock: Clock, i: LocalImage) -> dict[str, Any]:
    """One entry of ``GET /images/json``; an image left without tags is ``<none>:<none>``."""
    m = i.manifest
    return {"Id": i.id, "ParentId": "", "RepoTags": list(i.tags) or ["<none>:<none>"],
            "RepoDigests": [f"{m.repository}@{m.digest}"], "Created": unix(clock, m.created),
            "Size": m.size, "VirtualSize": m.size, "SharedSize": -1,
            "Labels": dict(m.labels), "Containers": -1}


def image_inspect(clock: Clock, i: LocalImage) -> dict[str, Any]:
    """``GET /images/{name}/json``."""
    m = i.manifest
    config = {"Labels": dict(m.labels), "Cmd": list(m.cmd), "Entrypoint": list(m.entrypoint),
              "ExposedPorts": {p: {} for p in m.exposed_ports}, "Env": [
                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "NODE_VERSION=20.11.1"]}
    return {"Id": i.id, "RepoTags": list(i.tags), "RepoDigests": [f"{m.repository}@{m.digest}"],
            "Parent": "", "Comment": "", "Created": rfc3339(clock, m.created),
            "DockerVersion": "", "Author": "", "Config": config, "Architecture": "amd64",
            "Os": "linux", "Size": m.size, "VirtualSize": m.size,
            "RootFS": {"Type": "layers", "Layers": [x.digest for x in m.layers]},
            "Metadata": {"LastTagTime": rfc3339(clock, i.pulled_at)}}


def network(clock: Clock, n: Network) -> dict[str, Any]:
    """One network as ``GET /networks`` lists it."""
    return {"Name": n.name, "Id": n.id, "Created": rfc3339(clock, n.created), "Scope": "local",
            "Driver": n.driver, "EnableIPv6": False, "Internal": False, "Attachable": False,
            "Ingress": False, "IPAM": {"Driver": "default", "Options": None, "Config": []},
            "Options": {}, "Labels": n.labels, "Containers": {}}


def pull_messages(pull: Pull) -> Iterator[tuple[float, dict[str, Any]]]:
    """(when, message) of each progress line a pull prints, in order; the last at ``done_at``.

    The messages are the daemon's: "Pulling from …", one line per layer ("Already
    exists" or "Pulling fs layer", then "Download complete" and "Pull complete" as each
    lands), the digest, and the final status.
    """
    t0, m = pull.started, pull.manifest
    missing = dict(pull.layer_done)
    repo = m.repository if "/" in m.repository else "library/" + m.repository
    yield t0, {"status": f"Pulling from {repo}", "id": pull.tag}
    for layer in m.layers:
        state = "Pulling fs layer" if layer.digest in missing else "Already exists"
        yield t0, {"status": state, "progressDetail": {}, "id": short_id(layer.digest)}
    for digest, at in pull.layer_done:
        yield at, {"status": "Download complete", "progressDetail": {}, "id": short_id(digest)}
        yield at, {"status": "Pull complete", "progressDetail": {}, "id": short_id(digest)}
    yield pull.done_at, {"status": f"Digest: {m.digest}"}
    verdict = "Image is up to date for" if pull.up_to_date else "Downloaded newer image for"
    yield pull.done_at, {"status": f"Status: {verdict} {pull.ref}"}


def json_line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\r\n"


# ---- the control plane's view ---------------------------------------------------------

def container_state(c: Container) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "image": c.image, "phase": c.phase.value,
            "health": c.health, "labels": c.labels, "created": c.created,
            "started_at": c.started_at, "healthy_at": c.healthy_at,
            "finished_at": c.finished_at, "exit_code": c.exit_code,
            "events": [{"at": e.at, "phase": e.phase.value} for e in c.events]}


def pull_state(p: Pull) -> dict[str, Any]:
    return {"id": p.id, "ref": p.ref, "started": p.started, "done_at": p.done_at,
            "missing_layers": len(p.layer_done), "up_to_date": p.up_to_date,
            "complete": p.complete}
