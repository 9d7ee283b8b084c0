"""The records the fake Docker host and registry keep, and the rules on their names.

Plain dataclasses (layers, manifests, local images, pulls, containers, networks) plus the
small pure functions that mint ids, parse image references and apply list filters;
``backend.py`` owns and mutates them. Times are virtual seconds since the clock's epoch.
Ids are sha256 hex digests of counters or content, never random: a run mints the same ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from fakes.docker.errors import DockerError
from fakes.docker.lifecycle import Phase, next_phase

_DEFAULT_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/",
                     "index.docker.io/", "library/")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def content_digest(payload: Any) -> str:
    """``sha256:<hex>`` of ``payload`` as canonical JSON (how manifests and configs are named)."""
    return "sha256:" + sha256_hex(json.dumps(payload, sort_keys=True, separators=(",", ":")))


def short_id(digest_or_id: str) -> str:
    """The 12 hex characters Docker shows for an id or a layer digest."""
    return digest_or_id.removeprefix("sha256:")[:12]


def parse_ref(ref: str, tag: str | None = None) -> tuple[str, str]:
    """(repository, tag) in Docker's familiar form: ``docker.io/library/x:t`` → ``("x", "t")``.

    ``tag`` (the ``tag`` query parameter) wins over one inside ``ref``; no tag means
    ``latest``. Raises DockerError on a malformed reference or a digest reference
    (``name@sha256:…``), which this fake does not resolve.
    """
    name = ref.strip()
    if "@" in name:
        raise DockerError(f"invalid reference format: {ref} (digest references are not "
                          "supported by this fake)")
    slash, colon = name.rfind("/"), name.rfind(":")
    inline = None
    if colon > slash:
        name, inline = name[:colon], name[colon + 1:]
    for prefix in _DEFAULT_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if not name or name != name.lower() or any(c.isspace() for c in name):
        raise DockerError(f"invalid reference format: repository name ({ref}) must be lowercase")
    return name, (tag or inline or "latest")


def familiar(repository: str, tag: str) -> str:
    return f"{repository}:{tag}"


@dataclass(frozen=True)
class Layer:
    """One filesystem layer: its digest, its compressed size in bytes, what it holds."""

    digest: str
    size: int
    comment: str = ""


@dataclass(frozen=True)
class Manifest:
    """An image as the registry holds it: its layers, config (labels, command), digests."""

    repository: str
    digest: str
    image_id: str
    layers: tuple[Layer, ...]
    labels: Mapping[str, str]
    created: float
    cmd: tuple[str, ...] = ("node", "server.js")
    entrypoint: tuple[str, ...] = ("docker-entrypoint.sh",)
    exposed_ports: tuple[str, ...] = ("3000/tcp",)

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)


@dataclass
class LocalImage:
    """An image in the host's store: a manifest plus the tags that point at it here."""

    manifest: Manifest
    tags: list[str]
    pulled_at: float

    @property
    def id(self) -> str:
        return self.manifest.image_id


@dataclass
class Pull:
    """One pull of ``repository:tag``: which layers it fetches and when each lands."""

    id: int
    repository: str
    tag: str
    manifest: Manifest
    started: float
    done_at: float
    layer_done: tuple[tuple[str, float], ...]  # (digest, at) of each missing layer
    up_to_date: bool
    complete: bool = False

    @property
    def ref(self) -> str:
        return familiar(self.repository, self.tag)


@dataclass
class ContainerEvent:
    """A phase a container reached, and when (virtual seconds)."""

    at: float
    phase: Phase


@dataclass
class Container:
    """One container: its config as created, its phase and the times it moved."""

    id: str
    name: str
    image: str  # the reference it was created from, as given
    image_id: str
    manifest: Manifest
    config: dict[str, Any]
    host_config: dict[str, Any]
    created: float
    phase: Phase = Phase.CREATED
    run: int = 0  # how many times it was started; stale timers carry an older run
    health: str | None = None  # None until first started, as Docker's State.Health
    started_at: float | None = None
    healthy_at: float | None = None
    finished_at: float | None = None
    exit_code: int = 0
    events: list[ContainerEvent] = field(default_factory=list)

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.config.get("Labels") or {})

    @property
    def network(self) -> str:
        return str(self.host_config.get("NetworkMode") or "bridge")

    def fire(self, event: str, at: float) -> None:
        """Apply ``event`` at ``at`` per ``lifecycle``'s table (its times, health and run
        count with it); raises KeyError when the table does not allow it."""
        self.phase = next_phase(self.phase, event)
        self.events.append(ContainerEvent(at, self.phase))
        if event == "start":
            self.run += 1
            self.started_at, self.healthy_at, self.finished_at, self.exit_code = \
                at, None, None, 0
            self.health = "starting"
        elif event == "pass_health_check":
            self.healthy_at, self.health = at, "healthy"
        elif event in ("exit", "kill"):
            self.finished_at, self.health = at, "unhealthy"  # Docker's status once checks stop

    def host_ports(self) -> set[str]:
        """The ``host_ip:port/proto`` bindings this container publishes."""
        bindings = self.host_config.get("PortBindings") or {}
        return {f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}/{port.split('/')[-1]}"
                for port, binds in bindings.items() for b in (binds or [])
                if b.get("HostPort")}


@dataclass
class Network:
    """A network; ``bridge``, ``host`` and ``none`` exist on every host."""

    id: str
    name: str
    driver: str
    labels: dict[str, str]
    created: float
    builtin: bool = False


# ---- list filters (?filters={"label": ["k=v"], ...}) --------------------------------------

def parse_filters(raw: str | None, allowed: Iterable[str]) -> dict[str, list[str]]:
    """Docker's JSON filters, in either form (``{"k": ["v"]}`` or ``{"k": {"v": true}}``).

    Raises DockerError on malformed JSON or a filter name not in ``allowed``.
    """
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DockerError(f"invalid filter: {exc}") from exc
    if not isinstance(body, dict):
        raise DockerError("invalid filter: expected a JSON object")
    filters: dict[str, list[str]] = {}
    for name, values in body.items():
        if name not in allowed:
            raise DockerError(f"invalid filter '{name}'")
        filters[name] = [str(v) for v in (values if isinstance(values, list) else
                                          [k for k, on in dict(values).items() if on])]
    return filters


def labels_match(labels: Mapping[str, str], wanted: Iterable[str]) -> bool:
    """Every ``key`` or ``key=value`` in ``wanted`` holds for ``labels``."""
    for item in wanted:
        key, eq, value = item.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


def container_matches(c: Container, f: Mapping[str, list[str]]) -> bool:
    return (labels_match(c.labels, f.get("label", []))
            and all(v.lstrip("/") in c.name for v in f.get("name", []))
            and all(c.id.startswith(v) for v in f.get("id", []))
            and (not f.get("status") or c.phase.status in f["status"]))


def image_matches(i: LocalImage, f: Mapping[str, list[str]]) -> bool:
    dangling = f.get("dangling")
    return (labels_match(i.manifest.labels, f.get("label", []))
            and all(reference_matches(i, v) for v in f.get("reference", []))
            and (not dangling or (not i.tags) == (dangling[0].lower() in ("1", "true"))))


def reference_matches(i: LocalImage, pattern: str) -> bool:
    repo, _, tag = pattern.partition(":")
    return any(fnmatchcase(t.partition(":")[0], repo) and (not tag or fnmatchcase(
        t.partition(":")[2], tag)) for t in i.tags)


def network_matches(n: Network, f: Mapping[str, list[str]]) -> bool:
    return (labels_match(n.labels, f.get("label", []))
            and all(v in n.name for v in f.get("name", []))
            and all(n.id.startswith(v) for v in f.get("id", []))
            and (not f.get("driver") or n.driver in f["driver"]))
