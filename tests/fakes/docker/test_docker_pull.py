"""Pulls take the time their missing layers take: 0.2 s for the manifest, then per layer
the host lacks 0.5 s + size / 10 MB/s. The image is local only once the pull is done."""

from __future__ import annotations

import pytest

from fakes.docker.backend import DockerBackend
from fakes.docker.errors import ManifestUnknown, NotFound
from fakes.docker.payloads import pull_messages
from fakes.docker.registry import layer, manifest

REPO = "logos-vision-crm"


def _expected(backend: DockerBackend, tag: str, present: set[str]) -> float:
    layers = backend.registry.manifest(REPO, tag).layers
    return backend.manifest_latency + sum(backend.layer_latency + x.size / backend.bandwidth
                                          for x in layers if x.digest not in present)


def test_pull_time_counts_only_the_layers_the_host_lacks(clock, backend, web):
    """With 2.0.0 local, 1.9.0 shares its three base layers: only deps + bundle (94 MB)."""
    present = set(backend.layers)
    pull = backend.pull_image("docker.io/library/logos-vision-crm", "previous")
    assert len(pull.layer_done) == 2
    assert pull.done_at == pytest.approx(_expected(backend, "previous", present))
    assert pull.done_at == pytest.approx(10.627)


def test_a_cold_pull_takes_longer_by_the_bytes_of_the_shared_layers(backend):
    """On an empty host the base layers (73 MB) come too: 19.465 s instead of 10.627 s."""
    pull = backend.pull_image("logos-vision-crm:previous")
    assert len(pull.layer_done) == 5
    assert pull.done_at == pytest.approx(_expected(backend, "previous", set()))
    assert pull.done_at == pytest.approx(19.465)


def test_the_image_is_local_only_once_the_pull_is_done(clock, backend, web):
    """Inspect says "No such image" until done_at, then the image with its labels."""
    pull = backend.pull_image("logos-vision-crm:previous")
    clock.set(pull.done_at - 0.001)
    with pytest.raises(NotFound, match="No such image: logos-vision-crm:previous"):
        backend.inspect_image("logos-vision-crm:previous")
    clock.set(pull.done_at)
    image = backend.inspect_image("logos-vision-crm:previous")
    assert image.manifest.labels["version"] == "1.9.0"
    assert image.manifest.labels["hasRedesign"] == "false"
    assert pull.complete


def test_a_second_pull_of_cached_layers_is_fast(clock, backend):
    """Pulled once, the same tag again costs only the manifest round trip: up to date."""
    first = backend.pull_image("logos-vision-crm:previous")
    clock.set(first.done_at + 1)
    second = backend.pull_image("logos-vision-crm:previous")
    assert second.done_at - second.started == pytest.approx(backend.manifest_latency)
    assert second.up_to_date and second.layer_done == ()
    messages = [m["status"] for _, m in pull_messages(second)]
    assert messages[-1] == "Status: Image is up to date for logos-vision-crm:previous"


def test_pulling_a_reference_already_being_pulled_joins_that_pull(clock, backend):
    first = backend.pull_image("logos-vision-crm:previous")
    clock.advance(1.0)
    assert backend.pull_image("logos-vision-crm:previous") is first


def test_the_progress_messages_are_the_daemons(backend, web):
    """Shared layers "Already exists", missing ones pulled; the digest; the final status."""
    pull = backend.pull_image("logos-vision-crm:previous")
    lines = [(at, m) for at, m in pull_messages(pull)]
    assert lines[0][1] == {"status": "Pulling from library/logos-vision-crm", "id": "previous"}
    states = [m["status"] for _, m in lines[1:6]]
    assert states == ["Already exists"] * 3 + ["Pulling fs layer"] * 2
    assert lines[-2][1]["status"] == f"Digest: {pull.manifest.digest}"
    assert lines[-1] == (pull.done_at, {
        "status": "Status: Downloaded newer image for logos-vision-crm:previous"})


def test_a_tag_the_registry_lacks_is_a_manifest_unknown(backend):
    """Docker's words: "manifest for …:nope not found"; an unknown repository: access denied."""
    with pytest.raises(ManifestUnknown, match=r"manifest for logos-vision-crm:nope not found"):
        backend.pull_image("logos-vision-crm:nope")
    with pytest.raises(ManifestUnknown, match="pull access denied for ghost"):
        backend.pull_image("ghost:latest")
    assert backend.pulls == []


def test_a_moved_tag_leaves_the_old_image_dangling(clock, backend):
    """CI retags ``previous``: the next pull fetches the new image, the old loses its tag."""
    old = backend.preload_image("logos-vision-crm:previous")
    bundle = layer("COPY dist/ (logos-vision-crm 1.9.1)", 6_400_000)
    hotfix = manifest(REPO, "1.9.1", False, (*old.manifest.layers[:-1], bundle), -3600.0)
    backend.registry.tag(REPO, "previous", hotfix)
    pull = backend.pull_image("logos-vision-crm:previous")
    assert len(pull.layer_done) == 1  # only the new bundle; the deps layer is shared
    clock.set(pull.done_at)
    assert backend.inspect_image("logos-vision-crm:previous").manifest.labels["version"] == \
        "1.9.1"
    assert old.tags == []
    assert [i.id for i in backend.list_images({"dangling": ["true"]})] == [old.id]


def test_no_bandwidth_means_the_registry_is_unreachable(backend):
    """``bandwidth`` 0 (set through ``/_fake/timings``) fails pulls as a registry timeout."""
    from fakes.docker.errors import ServerError

    backend.bandwidth = 0.0
    with pytest.raises(ServerError, match=r"Client\.Timeout exceeded"):
        backend.pull_image("logos-vision-crm:previous")
