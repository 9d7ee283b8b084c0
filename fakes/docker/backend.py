"""The fake Docker host: an Engine (images, containers, networks) pulling from a registry.

A pure state machine over an injected clock; no HTTP here (``router.py`` is the Engine
API in front of it). Timed work is derived from the clock, never slept:

- A pull of ``repository:tag`` at t fetches the layers the host lacks; it is complete at
  t + ``manifest_latency`` + Σ(``layer_latency`` + size / ``bandwidth``) over the missing
  layers, and only then is the image in the local store. Layers already present (shared
  with an image the host has) cost nothing, so a second pull is fast.
- A container started at t is running at once (``docker start`` returns when the process
  is up) with health ``starting``; the app is ready after ``boot_time`` and the first
  health check at or after that (checks run every ``health_interval`` from the start, the
  first one ``health_interval`` after it) marks it ``healthy``.
- ``stop`` sends SIGTERM: the app exits ``shutdown_time`` later (exit 0), or is killed at
  the stop timeout (10 s unless given; exit 137), whichever is first. Until then it runs.

Every public method first calls ``_advance()``, which applies every transition due by now
in time order (the table is in ``lifecycle.py``). What users are served is the image of
the running, healthy container of the ``served_project``'s ``served_service``:
``serving()``, O(1) when nothing is due, since the simulation asks every tick.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from fakes.common.clock import Clock
from fakes.docker import payloads
from fakes.docker.errors import (
    Conflict,
    DockerError,
    Forbidden,
    NotModified,
    ServerError,
    no_such_container,
    no_such_image,
    no_such_network,
)
from fakes.docker.lifecycle import Due, Phase, Schedule, can_fire, next_phase
from fakes.docker.models import (
    Container,
    ContainerEvent,
    LocalImage,
    Manifest,
    Network,
    Pull,
    container_matches,
    familiar,
    image_matches,
    network_matches,
    parse_ref,
    sha256_hex,
)
from fakes.docker.registry import Registry, logos_vision_registry

ENGINE_VERSION = "24.0.7"
API_VERSION = "1.43"
MIN_API_VERSION = "1.12"
STOP_TIMEOUT = 10.0
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
BUILTIN_NETWORKS = (("bridge", "bridge"), ("host", "host"), ("none", "null"))
_HEX = re.compile(r"[0-9a-f]+")
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


class DockerBackend:
    """One Docker host and the registry it pulls from.

    ``bandwidth`` is bytes per second from the registry; the other timings are seconds.
    Returned records are the live objects, current as of the last call into the backend.
    """

    TIMINGS = ("bandwidth", "layer_latency", "manifest_latency", "boot_time",
               "health_interval", "shutdown_time")

    def __init__(self, clock: Clock, registry: Registry | None = None, *,
                 bandwidth: float = 12.5e6, layer_latency: float = 0.5,
                 manifest_latency: float = 0.3, boot_time: float = 8.0,
                 health_interval: float = 30.0, shutdown_time: float = 2.0,
                 served_project: str = "logos-vision", served_service: str = "web") -> None:
        self.clock = clock
        self.registry = registry or logos_vision_registry()
        self.bandwidth = float(bandwidth)
        self.layer_latency = float(layer_latency)
        self.manifest_latency = float(manifest_latency)
        self.boot_time = float(boot_time)
        self.health_interval = float(health_interval)
        self.shutdown_time = float(shutdown_time)
        self.served_project = served_project
        self.served_service = served_service
        self.reset()

    # ---- control plane -------------------------------------------------------------

    def reset(self) -> None:
        """An empty host (no images, containers or pulls; the built-in networks); ids start
        over. The registry is another service and keeps its tags."""
        self._ids = itertools.count(1)
        self._schedule = Schedule()
        self.images: dict[str, LocalImage] = {}
        self.layers: set[str] = set()
        self.containers: dict[str, Container] = {}
        self.removed: list[Container] = []
        self.networks: dict[str, Network] = {}
        self.pulls: list[Pull] = []
        self._pulling: dict[str, Pull] = {}
        self._served: dict[str, Any] | None = None
        for name, driver in BUILTIN_NETWORKS:
            self._add_network(name, driver, {}, builtin=True)

    def state(self) -> dict[str, Any]:
        """Everything, JSON-ready, for ``/_fake/state`` and for debugging a drill."""
        self._advance()
        return {
            "now": self.clock.now(),
            "serving": self.serving(),
            "images": [{"id": i.id, "tags": i.tags, "labels": dict(i.manifest.labels),
                        "size": i.manifest.size, "pulled_at": i.pulled_at}
                       for i in self.images.values()],
            "layers": len(self.layers),
            "containers": [payloads.container_state(c) for c in self.containers.values()],
            "removed": [payloads.container_state(c) for c in self.removed],
            "networks": [asdict(n) for n in self.networks.values()],
            "pulls": [payloads.pull_state(p) for p in self.pulls],
            "registry": self.registry.tags(),
            "pending": [{"at": d.at, "event": d.event, "subject": d.subject}
                        for d in self._schedule.pending()],
        }

    def next_transition_at(self) -> float | None:
        """Virtual time of the next scheduled transition, or None when nothing is pending."""
        self._advance()
        return self._schedule.next_at()

    def serving(self) -> dict[str, Any] | None:
        """``{image, version, hasRedesign}`` of what users get now, or None (app down).

        The running, healthy container of the served project's service (the most recently
        healthy if several); one stopping after being healthy still serves until it exits.
        O(1) unless a transition fell due.
        """
        self._advance()
        return dict(self._served) if self._served is not None else None

    # ---- seeding (setup, not API) ----------------------------------------------------

    def preload_image(self, ref: str) -> LocalImage:
        """Put ``ref`` from the registry into the local store now, without pull time."""
        repository, tag = parse_ref(ref)
        manifest = self.registry.manifest(repository, tag)
        self.layers.update(layer.digest for layer in manifest.layers)
        return self._store(manifest, repository, tag)

    def seed_service(self, ref: str, *, project: str | None = None, service: str | None = None,
                     healthy_at: float = -3600.0, ports: Mapping[str, str] | None = None
                     ) -> Container:
        """A compose service container of ``ref``, running and healthy since ``healthy_at``."""
        project, service = project or self.served_project, service or self.served_service
        self.preload_image(ref)
        network = f"{project}_default"
        if network not in self._network_names():
            self.create_network(network, labels={PROJECT_LABEL: project})
        config = compose_config(ref, project, service, network, ports)
        c = self.create_container(f"{project}-{service}-1", config)
        started = healthy_at - self._first_check_after(self.boot_time)
        c.created = started - 1.0
        c.phase, c.run, c.health = Phase.HEALTHY, 1, "healthy"
        c.started_at, c.healthy_at = started, healthy_at
        c.events = [ContainerEvent(c.created, Phase.CREATED),
                    ContainerEvent(started, Phase.STARTING),
                    ContainerEvent(healthy_at, Phase.HEALTHY)]
        self._refresh_served()
        return c

    # ---- system --------------------------------------------------------------------

    def ping(self) -> str:
        return "OK"

    def version(self) -> dict[str, str]:
        return {"Version": ENGINE_VERSION, "ApiVersion": API_VERSION,
                "MinAPIVersion": MIN_API_VERSION}

    def info(self) -> dict[str, int]:
        """Counts ``docker info`` shows."""
        self._advance()
        phases = [c.phase for c in self.containers.values()]
        return {"Containers": len(phases),
                "ContainersRunning": sum(p.running for p in phases),
                "ContainersPaused": 0,
                "ContainersStopped": sum(not p.running for p in phases),
                "Images": len(self.images)}

    # ---- containers ----------------------------------------------------------------

    def list_containers(self, all: bool = False,
                        filters: Mapping[str, list[str]] | None = None) -> list[Container]:
        """Containers, newest first: running ones only unless ``all``; ``filters`` by
        ``label``, ``name``, ``id``, ``status`` (already parsed)."""
        self._advance()
        f = filters or {}
        picked = [c for c in self.containers.values()
                  if (all or c.phase.running or "status" in f) and container_matches(c, f)]
        return sorted(picked, key=lambda c: (c.created, c.id), reverse=True)

    def create_container(self, name: str | None, config: Mapping[str, Any]) -> Container:
        """A CREATED container of ``config["Image"]`` (which must be in the local store).

        Raises DockerError (no image given, bad name), Conflict (name in use), NotFound
        (no such image locally, no such network).
        """
        self._advance()
        ref = config.get("Image")
        if not isinstance(ref, str) or not ref:
            raise DockerError("Config.Image is required")
        image = self._image(ref)
        host_config = dict(config.get("HostConfig") or {})
        self._check_network(host_config)
        name = self._check_name(name)
        cid = sha256_hex(f"container:{next(self._ids)}")
        c = Container(cid, name, ref, image.id, image.manifest, dict(config), host_config,
                      self.clock.now())
        c.events.append(ContainerEvent(c.created, Phase.CREATED))
        self.containers[cid] = c
        return c

    def inspect_container(self, ref: str) -> Container:
        """A container by id, unique id prefix or name; raises NotFound."""
        self._advance()
        return self._container(ref)

    def start_container(self, ref: str) -> Container:
        """Start it: running now, healthy at the first passing health check.

        Raises NotFound, NotModified (already running), ServerError (a host port it
        publishes is already allocated by a running container).
        """
        self._advance()
        c = self._container(ref)
        if c.phase.running:
            raise NotModified("container already started")
        self._check_ports(c)
        now = self.clock.now()
        self._move(c, "start", now)
        self._schedule.add(now + self._first_check_after(self.boot_time),
                           "pass_health_check", c.id, c.run)
        return c

    def stop_container(self, ref: str, timeout: float | None = None) -> Container:
        """SIGTERM now; it exits after ``shutdown_time``, or is killed at the timeout.

        Raises NotFound, NotModified (not running).
        """
        self._advance()
        c = self._container(ref)
        if not c.phase.running or c.phase is Phase.STOPPING:
            raise NotModified("container already stopped")
        limit = STOP_TIMEOUT if timeout is None else math.inf if timeout < 0 else float(timeout)
        graceful = self.shutdown_time <= limit
        self._move(c, "stop", self.clock.now())
        c.exit_code = 0 if graceful else 137
        self._schedule.add(self.clock.now() + min(self.shutdown_time, limit), "exit", c.id,
                           c.run)
        self._advance()
        return c

    def remove_container(self, ref: str, force: bool = False) -> Container:
        """Remove it (``force`` kills a running one first); raises NotFound, Conflict."""
        self._advance()
        c = self._container(ref)
        if c.phase.running and not force:
            raise Conflict(f"You cannot remove a running container {c.id}. Stop the "
                           "container before attempting removal or force remove")
        now = self.clock.now()
        if c.phase.running:
            c.exit_code = 137
            self._move(c, "kill", now)
        self._move(c, "remove", now)
        del self.containers[c.id]
        self.removed.append(c)
        return c

    # ---- images --------------------------------------------------------------------

    def pull_image(self, from_image: str, tag: str | None = None) -> Pull:
        """Start pulling ``from_image[:tag]``: the image is local once ``pull.done_at`` passes.

        A pull of a reference already being pulled joins it; layers that a pull of another
        reference is fetching are counted again (no sharing between concurrent pulls).
        Raises ManifestUnknown when the registry has no such repository or tag,
        DockerError on a bad reference, ServerError when ``bandwidth`` is 0 (registry
        unreachable).
        """
        self._advance()
        repository, tag = parse_ref(from_image, tag)
        ref = familiar(repository, tag)
        if ref in self._pulling:
            return self._pulling[ref]
        manifest = self.registry.manifest(repository, tag)
        pull = self._plan_pull(repository, tag, manifest)
        self.pulls.append(pull)
        self._pulling[ref] = pull
        self._schedule.add(pull.done_at, "finish_pull", ref)
        self._advance()
        return pull

    def list_images(self, filters: Mapping[str, list[str]] | None = None) -> list[LocalImage]:
        """Local images, newest first; ``filters`` by ``reference``, ``label``, ``dangling``."""
        self._advance()
        f = filters or {}
        picked = [i for i in self.images.values() if image_matches(i, f)]
        return sorted(picked, key=lambda i: (i.manifest.created, i.id), reverse=True)

    def inspect_image(self, ref: str) -> LocalImage:
        """A local image by ``repo:tag``, id or id prefix; raises NotFound (404) until a
        pull of it has completed."""
        self._advance()
        return self._image(ref)

    # ---- networks ------------------------------------------------------------------

    def create_network(self, name: str, driver: str = "bridge",
                       labels: Mapping[str, str] | None = None) -> Network:
        """A new network; raises Conflict when the name is taken, DockerError when empty."""
        self._advance()
        if not name:
            raise DockerError("network name is required")
        if name in self._network_names():
            raise Conflict(f"network with name {name} already exists")
        return self._add_network(name, driver or "bridge", dict(labels or {}))

    def list_networks(self, filters: Mapping[str, list[str]] | None = None) -> list[Network]:
        """Networks by name; ``filters`` by ``name``, ``id``, ``label``, ``driver``."""
        self._advance()
        f = filters or {}
        return sorted((n for n in self.networks.values() if network_matches(n, f)),
                      key=lambda n: n.name)

    def remove_network(self, ref: str) -> Network:
        """Remove a network no running container uses; raises NotFound or Forbidden."""
        self._advance()
        network = self._network(ref)
        if network.builtin:
            raise Forbidden(f"{network.name} is a pre-defined network and cannot be removed")
        if any(c.network in (network.name, network.id) and c.phase.running
               for c in self.containers.values()):
            raise Forbidden(f"error while removing network: network {network.name} id "
                            f"{network.id} has active endpoints")
        del self.networks[network.id]
        return network

    # ---- transitions ---------------------------------------------------------------

    def _advance(self) -> None:
        """Apply every transition due by now, earliest first; O(1) when none is due."""
        now = self.clock.now()
        head = self._schedule.next_at()
        if head is None or head > now:
            return
        for due in self._schedule.pop_due(now):
            self._fire(due)

    def _fire(self, due: Due) -> None:
        if due.event == "finish_pull":
            self._finish_pull(self._pulling.pop(due.subject), due.at)
            return
        c = self.containers.get(due.subject)
        if c is not None and c.run == due.run and can_fire(c.phase, due.event):
            self._move(c, due.event, due.at)

    def _move(self, c: Container, event: str, at: float) -> None:
        """Fire ``event`` on ``c`` at ``at`` per the table; raises KeyError if not allowed."""
        c.phase = next_phase(c.phase, event)
        c.events.append(ContainerEvent(at, c.phase))
        if event == "start":
            c.run += 1
            c.started_at, c.healthy_at, c.finished_at, c.exit_code = at, None, None, 0
            c.health = "starting"
        elif event == "pass_health_check":
            c.healthy_at, c.health = at, "healthy"
        elif event in ("exit", "kill"):
            c.finished_at, c.health = at, "unhealthy"  # Docker's status once checks stop
        self._refresh_served()

    def _refresh_served(self) -> None:
        live = [c for c in self.containers.values()
                if c.phase in (Phase.HEALTHY, Phase.STOPPING) and c.health == "healthy"
                and c.labels.get(PROJECT_LABEL) == self.served_project
                and c.labels.get(SERVICE_LABEL) == self.served_service]
        if not live:
            self._served = None
            return
        c = max(live, key=lambda x: (x.healthy_at or 0.0, x.created, x.id))
        labels = c.manifest.labels
        self._served = {"image": c.image, "version": labels.get("version", ""),
                        "hasRedesign": labels.get("hasRedesign") == "true"}

    def _first_check_after(self, ready: float) -> float:
        """Seconds from start to the first health check at or after the app is ready."""
        interval = self.health_interval
        if interval <= 0:
            return max(0.0, ready)
        return max(1, math.ceil(ready / interval - 1e-9)) * interval

    # ---- pulls ---------------------------------------------------------------------

    def _plan_pull(self, repository: str, tag: str, manifest: Manifest) -> Pull:
        if self.bandwidth <= 0:  # the control plane's way to cut the host off the registry
            raise ServerError('Get "https://registry-1.docker.io/v2/": net/http: request '
                              "canceled while waiting for connection (Client.Timeout exceeded "
                              "while awaiting headers)")
        now = self.clock.now()
        t = now + self.manifest_latency
        done: list[tuple[str, float]] = []
        for layer in manifest.layers:
            if layer.digest not in self.layers:
                t += self.layer_latency + layer.size / self.bandwidth
                done.append((layer.digest, t))
        current = self.images.get(manifest.image_id)
        up_to_date = current is not None and familiar(repository, tag) in current.tags
        return Pull(len(self.pulls) + 1, repository, tag, manifest, now, t, tuple(done),
                    up_to_date)

    def _finish_pull(self, pull: Pull, at: float) -> None:
        self.layers.update(digest for digest, _ in pull.layer_done)
        self._store(pull.manifest, pull.repository, pull.tag, at)
        pull.complete = True

    def _store(self, manifest: Manifest, repository: str, tag: str,
               at: float | None = None) -> LocalImage:
        """Put ``manifest`` in the store under ``repository:tag``, moving the tag off any
        other image (which then may be left dangling, ``<none>:<none>``)."""
        ref = familiar(repository, tag)
        for other in self.images.values():
            if ref in other.tags and other.id != manifest.image_id:
                other.tags.remove(ref)
        image = self.images.setdefault(manifest.image_id, LocalImage(
            manifest, [], self.clock.now() if at is None else at))
        if ref not in image.tags:
            image.tags.append(ref)
        return image

    # ---- lookups -------------------------------------------------------------------

    def _container(self, ref: str) -> Container:
        key = ref.lstrip("/")
        if key in self.containers:
            return self.containers[key]
        by_name = [c for c in self.containers.values() if c.name == key]
        found = by_name or [c for c in self.containers.values() if key and c.id.startswith(key)]
        if len(found) != 1:
            raise no_such_container(ref)
        return found[0]

    def _image(self, ref: str) -> LocalImage:
        """By reference first (``repo:tag``), then by id or unique id prefix."""
        try:
            wanted = familiar(*parse_ref(ref))
        except DockerError:
            wanted = None
        for image in self.images.values():
            if wanted in image.tags:
                return image
        key = ref.removeprefix("sha256:")
        found = [i for i in self.images.values()
                 if key and _HEX.fullmatch(key) and i.id[7:].startswith(key)]
        if len(found) != 1:
            raise no_such_image(ref)
        return found[0]

    def _network(self, ref: str) -> Network:
        for n in self.networks.values():
            if ref in (n.id, n.name) or (len(ref) >= 3 and n.id.startswith(ref)):
                return n
        raise no_such_network(ref)

    def _network_names(self) -> set[str]:
        return {n.name for n in self.networks.values()}

    def _add_network(self, name: str, driver: str, labels: dict[str, str],
                     builtin: bool = False) -> Network:
        nid = sha256_hex(f"network:{name}" if builtin else f"network:{next(self._ids)}")
        network = Network(nid, name, driver, labels, self.clock.now(), builtin)
        self.networks[nid] = network
        return network

    # ---- checks --------------------------------------------------------------------

    def _check_name(self, name: str | None) -> str:
        if not name:
            return f"drill_container_{len(self.containers) + len(self.removed) + 1}"
        name = name.lstrip("/")
        if len(name) < 2 or name[0] in "_.-" or not set(name) <= _NAME_CHARS:
            raise DockerError(f"Invalid container name ({name}), only "
                              "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        for other in self.containers.values():
            if other.name == name:
                raise Conflict(f'Conflict. The container name "/{name}" is already in use by '
                               f'container "{other.id}". You have to remove (or rename) that '
                               "container to be able to reuse that name.")
        return name

    def _check_network(self, host_config: Mapping[str, Any]) -> None:
        mode = host_config.get("NetworkMode")
        if mode and mode != "default" and not str(mode).startswith("container:"):
            self._network(str(mode))

    def _check_ports(self, c: Container) -> None:
        taken = set().union(*(o.host_ports() for o in self.containers.values()
                              if o.phase.running and o.id != c.id))
        clash = sorted(c.host_ports() & taken)
        if clash:
            where = clash[0].rsplit("/", 1)[0]
            raise ServerError(f"driver failed programming external connectivity on endpoint "
                              f"{c.name} ({c.id}): Bind for {where} failed: port is already "
                              "allocated")


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
