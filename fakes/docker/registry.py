"""The image registry the host pulls from: repositories, tags, manifests and their layers.

The default registry holds ``logos-vision-crm`` as the runbook's Docker path expects it:
``previous`` is 1.9.0 (the Contacts page before the redesign), ``current`` and ``latest``
are 2.0.0 (with it). Both share the base layers (OS, Node runtime), so a host that has
one needs only the other's dependency and application layers. Image labels carry
``version`` and ``hasRedesign``. Everything is derived from content: the same registry
every run, the same digests.
"""

from __future__ import annotations

from collections.abc import Mapping

from fakes.docker.errors import ManifestUnknown
from fakes.docker.models import Layer, Manifest, content_digest, familiar

DAY = 86400.0
REPOSITORY = "logos-vision-crm"


def layer(comment: str, size: int) -> Layer:
    """A layer whose digest is derived from what it holds."""
    return Layer(content_digest({"layer": comment}), size, comment)


BASE_LAYERS = (
    layer("debian bookworm-slim rootfs", 29_150_000),
    layer("node 20.11.1 runtime", 41_820_000),
    layer("yarn 1.22 + docker-entrypoint.sh", 2_410_000),
)


def manifest(repository: str, version: str, has_redesign: bool, layers: tuple[Layer, ...],
             created: float) -> Manifest:
    """A manifest whose image id hashes its config and whose digest hashes the manifest."""
    labels = {"version": version, "hasRedesign": "true" if has_redesign else "false",
              "org.opencontainers.image.title": repository,
              "org.opencontainers.image.version": version}
    image_id = content_digest({"config": labels, "layers": [x.digest for x in layers],
                               "created": created})
    digest = content_digest({"config": image_id, "layers": [x.digest for x in layers]})
    return Manifest(repository, digest, image_id, layers, labels, created)


def app_manifest(version: str, has_redesign: bool, deps_size: int, dist_size: int,
                 created: float, repository: str = REPOSITORY) -> Manifest:
    """One release of the Contacts app: the shared base plus its own deps and bundle."""
    own = (layer(f"npm ci --omit=dev ({repository} {version})", deps_size),
           layer(f"COPY dist/ ({repository} {version})", dist_size))
    return manifest(repository, version, has_redesign, BASE_LAYERS + own, created)


class Registry:
    """Repositories of tags; ``manifest`` resolves a tag the way a pull does."""

    def __init__(self, repositories: Mapping[str, Mapping[str, Manifest]] | None = None) -> None:
        self._repos: dict[str, dict[str, Manifest]] = {
            repo: dict(tags) for repo, tags in (repositories or {}).items()}

    def manifest(self, repository: str, tag: str) -> Manifest:
        """The manifest ``repository:tag`` points at; raises ManifestUnknown."""
        tags = self._repos.get(repository)
        if tags is None:
            raise ManifestUnknown(f"pull access denied for {repository}, repository does not "
                                  "exist or may require 'docker login': denied: requested "
                                  "access to the resource is denied")
        if tag not in tags:
            raise ManifestUnknown(f"manifest for {familiar(repository, tag)} not found: "
                                  "manifest unknown: manifest unknown")
        return tags[tag]

    def tag(self, repository: str, tag: str, manifest: Manifest) -> None:
        """Point ``repository:tag`` at ``manifest`` (a push, or a retag in CI)."""
        self._repos.setdefault(repository, {})[tag] = manifest

    def untag(self, repository: str, tag: str) -> None:
        """Delete a tag (a registry clean-up policy); raises ManifestUnknown."""
        self.manifest(repository, tag)
        del self._repos[repository][tag]

    def tags(self) -> dict[str, dict[str, str]]:
        """repository → tag → manifest digest, for the control plane."""
        return {repo: {t: m.digest for t, m in tags.items()} for repo, tags in self._repos.items()}


def logos_vision_registry() -> Registry:
    """The runbook's registry: ``previous`` = 1.9.0, ``current`` = ``latest`` = 2.0.0."""
    previous = app_manifest("1.9.0", False, 88_040_000, 6_230_000, created=-14 * DAY)
    current = app_manifest("2.0.0", True, 91_530_000, 7_910_000, created=-1 * DAY)
    return Registry({REPOSITORY: {"previous": previous, "current": current, "latest": current}})
