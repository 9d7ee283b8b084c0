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
the running, healthy container of the ``served_project``'s ``served_service``
(``compose.served``): ``serving()``, O(1) when nothing is due, since the simulation asks
every tick. Pull timing is in ``pulls.py``, reference lookups in ``lookup.py``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from fakes.common.clock import Clock
from fakes.docker import payloads
from fakes.docker.compose import PROJECT_LABEL, compose_config, served
from fakes.docker.errors import Conflict, DockerError, Forbidden, NotModified
from fakes.docker.lifecycle import Due, Phase, Schedule, can_fire, first_health_check
from fakes.docker.lookup import (
    check_name,
    check_network,
    check_ports,
    find_container,
    find_image,
    find_network,
)
from fakes.docker.models import (
    Container,
    ContainerEvent,
    LocalImage,
    Network,
    Pull,
    container_matches,
    familiar,
    image_matches,
    network_matches,
    parse_ref,
    sha256_hex,
)
from fakes.docker.pulls import PullTimings, plan_pull, store_image
from fakes.docker.registry import Registry, logos_vision_registry

ENGINE_VERSION = "24.0.7"
API_VERSION = "1.43"
MIN_API_VERSION = "1.12"
STOP_TIMEOUT = 10.0
BUILTIN_NETWORKS = (("bridge", "bridge"), ("host", "host"), ("none", "null"))


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
        return store_image(self.images, manifest, repository, tag, self.clock.now())

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
        started = healthy_at - first_health_check(self.boot_time, self.health_interval)
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
        image = find_image(self.images, ref)
        host_config = dict(config.get("HostConfig") or {})
        check_network(host_config, self.networks)
        name = check_name(name, self.containers, len(self.containers) + len(self.removed))
        cid = sha256_hex(f"container:{next(self._ids)}")
        c = Container(cid, name, ref, image.id, image.manifest, dict(config), host_config,
                      self.clock.now())
        c.events.append(ContainerEvent(c.created, Phase.CREATED))
        self.containers[cid] = c
        return c

    def inspect_container(self, ref: str) -> Container:
        """A container by id, unique id prefix or name; raises NotFound."""
        self._advance()
        return find_container(self.containers, ref)

    def start_container(self, ref: str) -> Container:
        """Start it: running now, healthy at the first passing health check.

        Raises NotFound, NotModified (already running), ServerError (a host port it
        publishes is already allocated by a running container).
        """
        self._advance()
        c = find_container(self.containers, ref)
        if c.phase.running:
            raise NotModified("container already started")
        check_ports(c, self.containers.values())
        now = self.clock.now()
        self._move(c, "start", now)
        self._schedule.add(now + first_health_check(self.boot_time, self.health_interval),
                           "pass_health_check", c.id, c.run)
        return c

    def stop_container(self, ref: str, timeout: float | None = None) -> Container:
        """SIGTERM now; it exits after ``shutdown_time``, or is killed at the timeout.

        Raises NotFound, NotModified (not running).
        """
        self._advance()
        c = find_container(self.containers, ref)
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
        c = find_container(self.containers, ref)
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
        pull = plan_pull(len(self.pulls) + 1, repository, tag, manifest, self.clock.now(),
                         self.layers, self.images, PullTimings(
                             self.bandwidth, self.layer_latency, self.manifest_latency))
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
        return find_image(self.images, ref)

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
        network = find_network(self.networks, ref)
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
        """Fire ``event`` on ``c`` (``Container.fire``), then recompute what is served."""
        c.fire(event, at)
        self._refresh_served()

    def _refresh_served(self) -> None:
        self._served = served(self.containers.values(), self.served_project,
                              self.served_service)

    def _finish_pull(self, pull: Pull, at: float) -> None:
        self.layers.update(digest for digest, _ in pull.layer_done)
        store_image(self.images, pull.manifest, pull.repository, pull.tag, at)
        pull.complete = True

    # ---- networks, internal ---------------------------------------------------------

    def _network_names(self) -> set[str]:
        return {n.name for n in self.networks.values()}

    def _add_network(self, name: str, driver: str, labels: dict[str, str],
                     builtin: bool = False) -> Network:
        nid = sha256_hex(f"network:{name}" if builtin else f"network:{next(self._ids)}")
        network = Network(nid, name, driver, labels, self.clock.now(), builtin)
        self.networks[nid] = network
        return network
