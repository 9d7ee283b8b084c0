"""How the Engine API resolves a reference to a container, image or network, and the
checks ``create``/``start`` make against what the host already has.

A container is found by id, name (a leading ``/`` allowed) or unique id prefix; an image
by ``repo:tag`` first, then by id or unique id prefix (with or without ``sha256:``); a
network by id, name or an id prefix of three or more characters. Failures raise Docker's
own errors, worded as the daemon words them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fakes.docker.errors import (
    Conflict,
    DockerError,
    ServerError,
    no_such_container,
    no_such_image,
    no_such_network,
)
from fakes.docker.models import Container, LocalImage, Network, familiar, parse_ref

_HEX = re.compile(r"[0-9a-f]+")
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def find_container(containers: Mapping[str, Container], ref: str) -> Container:
    """Raises NotFound (``No such container``) for none or an ambiguous prefix."""
    key = ref.lstrip("/")
    if key in containers:
        return containers[key]
    by_name = [c for c in containers.values() if c.name == key]
    found = by_name or [c for c in containers.values() if key and c.id.startswith(key)]
    if len(found) != 1:
        raise no_such_container(ref)
    return found[0]


def find_image(images: Mapping[str, LocalImage], ref: str) -> LocalImage:
    """By reference first (``repo:tag``), then by id or unique id prefix; raises NotFound."""
    try:
        wanted = familiar(*parse_ref(ref))
    except DockerError:
        wanted = None
    for image in images.values():
        if wanted in image.tags:
            return image
    key = ref.removeprefix("sha256:")
    found = [i for i in images.values()
             if key and _HEX.fullmatch(key) and i.id[7:].startswith(key)]
    if len(found) != 1:
        raise no_such_image(ref)
    return found[0]


def find_network(networks: Mapping[str, Network], ref: str) -> Network:
    """Raises NotFound (``network ... not found``)."""
    for n in networks.values():
        if ref in (n.id, n.name) or (len(ref) >= 3 and n.id.startswith(ref)):
            return n
    raise no_such_network(ref)


def check_name(name: str | None, containers: Mapping[str, Container],
               ever_created: int) -> str:
    """The container's name (generated when none is given, from the ``ever_created``
    count); raises DockerError (invalid) or Conflict (in use)."""
    if not name:
        return f"drill_container_{ever_created + 1}"
    name = name.lstrip("/")
    if len(name) < 2 or name[0] in "_.-" or not set(name) <= _NAME_CHARS:
        raise DockerError(f"Invalid container name ({name}), only "
                          "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    for other in containers.values():
        if other.name == name:
            raise Conflict(f'Conflict. The container name "/{name}" is already in use by '
                           f'container "{other.id}". You have to remove (or rename) that '
                           "container to be able to reuse that name.")
    return name


def check_network(host_config: Mapping[str, Any], networks: Mapping[str, Network]) -> None:
    """The network a container joins exists; raises NotFound."""
    mode = host_config.get("NetworkMode")
    if mode and mode != "default" and not str(mode).startswith("container:"):
        find_network(networks, str(mode))


def check_ports(c: Container, others: Iterable[Container]) -> None:
    """No running container holds a host port ``c`` publishes; raises ServerError."""
    taken = set().union(*(o.host_ports() for o in others if o.phase.running and o.id != c.id))
    clash = sorted(c.host_ports() & taken)
    if clash:
        where = clash[0].rsplit("/", 1)[0]
        raise ServerError(f"driver failed programming external connectivity on endpoint "
                          f"{c.name} ({c.id}): Bind for {where} failed: port is already "
                          "allocated")
