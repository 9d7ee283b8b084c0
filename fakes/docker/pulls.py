"""Pulling an image: how long it takes, and what landing it does to the local store.

A pull at t fetches the layers the host lacks; it completes at t + ``manifest_latency`` +
Σ(``layer_latency`` + size / ``bandwidth``) over the missing layers, each layer done in
turn. A ``bandwidth`` of 0 is the control plane's way to cut the host off the registry.
Storing an image under ``repo:tag`` moves the tag off any other image, which may be left
dangling (``<none>:<none>``).
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from fakes.docker.errors import ServerError
from fakes.docker.models import LocalImage, Manifest, Pull, familiar


@dataclass(frozen=True)
class PullTimings:
    """Bytes per second from the registry, and seconds per layer and per manifest."""

    bandwidth: float
    layer_latency: float
    manifest_latency: float


def plan_pull(number: int, repository: str, tag: str, manifest: Manifest, now: float,
              have: Set[str], images: dict[str, LocalImage], timings: PullTimings) -> Pull:
    """Pull number ``number`` of ``repository:tag``, started ``now`` by a host holding the
    layers ``have``; raises ServerError when the registry is unreachable."""
    if timings.bandwidth <= 0:
        raise ServerError('Get "https://registry-1.docker.io/v2/": net/http: request '
                          "canceled while waiting for connection (Client.Timeout exceeded "
                          "while awaiting headers)")
    t = now + timings.manifest_latency
    done: list[tuple[str, float]] = []
    for layer in manifest.layers:
        if layer.digest not in have:
            t += timings.layer_latency + layer.size / timings.bandwidth
            done.append((layer.digest, t))
    current = images.get(manifest.image_id)
    up_to_date = current is not None and familiar(repository, tag) in current.tags
    return Pull(number, repository, tag, manifest, now, t, tuple(done), up_to_date)


def store_image(images: dict[str, LocalImage], manifest: Manifest, repository: str, tag: str,
                at: float) -> LocalImage:
    """Put ``manifest`` in ``images`` under ``repository:tag`` (pulled at ``at`` if new)."""
    ref = familiar(repository, tag)
    for other in images.values():
        if ref in other.tags and other.id != manifest.image_id:
            other.tags.remove(ref)
    image = images.setdefault(manifest.image_id, LocalImage(manifest, [], at))
    if ref not in image.tags:
        image.tags.append(ref)
    return image
