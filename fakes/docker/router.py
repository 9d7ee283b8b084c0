"""The Docker Engine API over ``DockerBackend``: routes, query parsing, serialization.

The subset ``docker`` and compose use: ``/_ping`` (GET and HEAD; its headers drive the
client's API-version negotiation), ``/version``, ``/info``, containers (list with JSON
label filters, create, inspect, start, stop, remove), images (pull via
``/images/create``, list, inspect) and networks (create, list, remove). Every path is
served bare and under a version prefix (``/v1.43/containers/json``); a version outside
``MIN_API_VERSION``..``API_VERSION`` is refused as the daemon refuses it. Each handler calls
the backend method of its own name. Errors are ``{"message": ...}``, unknown routes too.

A pull (``POST /images/create``) answers with the daemon's newline-delimited JSON
progress messages. Two modes, chosen per app:

- default (a drill, any clock): the answer comes at once, with every message up to the
  final status; the image becomes local only at ``pull.done_at`` on the backend's clock,
  and ``GET /images/{name}/json`` answers 404 until then. A client must poll it. In
  virtual time a request cannot wait for the clock, so this is the only honest choice.
- ``follow=True`` (``drill serve``, a clock that advances on its own): the messages are
  streamed as the clock passes each one, so ``docker pull`` returns when the image is
  there, as with a real daemon; ``POST /containers/{id}/stop`` likewise returns once the
  container has exited.

Control plane: ``GET /_fake/state``, ``POST /_fake/reset``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException

from fakes.common.app import error_response, make_app, read_json
from fakes.common.control import control_router
from fakes.docker import payloads
from fakes.docker.backend import API_VERSION, MIN_API_VERSION, DockerBackend
from fakes.docker.errors import DockerError, NotFound
from fakes.docker.models import Pull, parse_filters

FOLLOW_POLL = 0.02  # real seconds between looks at the clock in follow mode
PING_HEADERS = {"Api-Version": API_VERSION, "Docker-Experimental": "false",
                "Ostype": "linux", "Builder-Version": "2", "Swarm": "inactive",
                "Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"}
CONTAINER_FILTERS = ("label", "name", "id", "status")
IMAGE_FILTERS = ("label", "reference", "dangling")
NETWORK_FILTERS = ("label", "name", "id", "driver")


class _ApiVersion(Convertor[str]):
    """The ``/v1.43`` prefix, matched like the daemon's ``/v{version:[0-9.]+}``."""

    regex = r"v[0-9]+(?:\.[0-9]+)*"

    def convert(self, value: str) -> str:
        return value[1:]

    def to_string(self, value: str) -> str:
        return "v" + value


register_url_convertor("docker_api_version", _ApiVersion())
V = "/{version:docker_api_version}"


def build_app(backend: DockerBackend, follow: bool = False) -> FastAPI:
    """The fake Engine API as an ASGI app, errors in Docker's shape (see module doc)."""
    app = make_app("fake Docker Engine", DockerError)
    app.add_exception_handler(StarletteHTTPException, _routing_error)
    app.include_router(build_router(backend, follow))
    return app


async def _routing_error(_: Request, exc: Exception) -> Response:
    """The daemon answers an unknown route or method with 404 ``page not found``."""
    return error_response(NotFound("page not found"))


Timing = tuple[Callable[[], float], Callable[[float], None]]


def timings(backend: DockerBackend) -> dict[str, Timing]:
    """The backend's timings by name, for ``fakes.common.fault_router.install``'s control plane."""
    return {name: _timing(backend, name) for name in DockerBackend.TIMINGS}


def _timing(backend: DockerBackend, name: str) -> Timing:
    def get() -> float:
        return float(getattr(backend, name))

    def set_(value: float) -> None:
        setattr(backend, name, float(value))

    return get, set_


def build_router(backend: DockerBackend, follow: bool = False) -> APIRouter:
    """The Engine API routes plus the ``/_fake`` control plane.

    Handlers read everything (the clock included) from ``backend`` per request, so
    ``backend`` may be a stand-in rebound to another backend between drills.
    """
    api = APIRouter(dependencies=[Depends(_check_version)])
    _system_routes(api, backend)
    _container_routes(api, backend, follow)
    _image_routes(api, backend, follow)
    _network_routes(api, backend)
    router = APIRouter()
    router.include_router(api)
    router.include_router(control_router(backend))
    return router


async def _check_version(request: Request) -> None:
    """Refuse a version prefix the daemon would refuse (400, with the daemon's words)."""
    version = request.path_params.get("version")
    if version is None:
        return
    asked = _parse_version(version)
    if asked > _parse_version(API_VERSION):
        raise DockerError(f"client version {version} is too new. Maximum supported API "
                          f"version is {API_VERSION}")
    if asked < _parse_version(MIN_API_VERSION):
        raise DockerError(f"client version {version} is too old. Minimum supported API "
                          f"version is {MIN_API_VERSION}, please upgrade your client to a "
                          "newer version")


def _parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part)


def _route(api: APIRouter, methods: list[str], path: str,
           status_code: int | None = None) -> Callable[[Any], Any]:
    """Register a handler on ``path`` and on ``/v<version>`` + ``path``, one route per
    method (each with its own OpenAPI operation id); every route keeps the handler's name,
    which fault rules match on."""
    def deco(fn: Any) -> Any:
        for method in methods:
            for prefix, suffix in (("", ""), (V, "_versioned")):
                api.add_api_route(prefix + path, fn, methods=[method], status_code=status_code,
                                  operation_id=f"{fn.__name__}_{method.lower()}{suffix}")
        return fn

    return deco


def _system_routes(api: APIRouter, backend: DockerBackend) -> None:
    @_route(api, ["GET", "HEAD"], "/_ping")
    async def ping() -> Response:
        return PlainTextResponse(backend.ping(), headers=PING_HEADERS)

    @_route(api, ["GET"], "/version")
    async def version() -> dict[str, Any]:
        return _version_payload(backend.version())

    @_route(api, ["GET"], "/info")
    async def info() -> dict[str, Any]:
        counts = backend.info()
        return counts | {
            "ID": "DRIL:L0GO:SVIS:ION0:CRM0:FAKE:0000:0000:0000:0000:0000:0001",
            "Driver": "overlay2", "ServerVersion": backend.version()["Version"],
            "OperatingSystem": "Ubuntu 22.04.4 LTS (fake)", "OSType": "linux",
            "Architecture": "x86_64", "NCPU": 4, "MemTotal": 8_589_934_592,
            "Name": "drill-docker-host", "KernelVersion": "6.5.0-fake", "Labels": [],
            "Swarm": {"LocalNodeState": "inactive"}, "Warnings": None}


def _version_payload(v: dict[str, str]) -> dict[str, Any]:
    engine = {"Version": v["Version"], "ApiVersion": v["ApiVersion"],
              "MinAPIVersion": v["MinAPIVersion"], "GitCommit": "311b9ff",
              "GoVersion": "go1.20.10", "Os": "linux", "Arch": "amd64",
              "KernelVersion": "6.5.0-fake", "BuildTime": "2023-10-26T09:08:02.000000000+00:00",
              "Experimental": "false"}
    return {"Platform": {"Name": "Docker Engine - Community (rollout-drill fake)"},
            "Components": [{"Name": "Engine", "Version": v["Version"],
                            "Details": {k: x for k, x in engine.items() if k != "Version"}}],
            **engine, "Experimental": False}


def _container_routes(api: APIRouter, backend: DockerBackend, follow: bool) -> None:
    @_route(api, ["GET"], "/containers/json")
    async def list_containers(all_: bool = Query(False, alias="all"),
                              filters: str | None = None) -> list[dict[str, Any]]:
        found = backend.list_containers(all_, parse_filters(filters, CONTAINER_FILTERS))
        return [payloads.container_summary(backend.clock, c, backend.networks) for c in found]

    @_route(api, ["POST"], "/containers/create", status_code=201)
    async def create_container(request: Request, name: str | None = None) -> dict[str, Any]:
        body = await read_json(request, DockerError)
        if not isinstance(body, dict):
            raise DockerError("the request body must be a JSON object")
        return {"Id": backend.create_container(name, body).id, "Warnings": []}

    @_route(api, ["GET"], "/containers/{ref}/json")
    async def inspect_container(ref: str) -> dict[str, Any]:
        return payloads.container_inspect(backend.clock, backend.inspect_container(ref),
                                          backend.networks)

    @_route(api, ["POST"], "/containers/{ref}/start", status_code=204)
    async def start_container(ref: str) -> Response:
        backend.start_container(ref)
        return Response(status_code=204)

    @_route(api, ["POST"], "/containers/{ref}/stop", status_code=204)
    async def stop_container(ref: str, t: int | None = None) -> Response:
        c = backend.stop_container(ref, t)
        while follow and c.phase.running:
            await asyncio.sleep(FOLLOW_POLL)
            backend.next_transition_at()  # applies what fell due
        return Response(status_code=204)

    @_route(api, ["DELETE"], "/containers/{ref}", status_code=204)
    async def remove_container(ref: str, force: bool = False) -> Response:
        backend.remove_container(ref, force)
        return Response(status_code=204)


def _image_routes(api: APIRouter, backend: DockerBackend, follow: bool) -> None:
    @_route(api, ["POST"], "/images/create")
    async def pull_image(fromImage: str | None = None, tag: str | None = None) -> Response:
        if not fromImage:
            raise DockerError("fromImage is required (this fake does not import fromSrc)")
        pull = backend.pull_image(fromImage, tag)
        if follow:
            return StreamingResponse(_follow_pull(backend, pull), media_type="application/json")
        body = b"".join(payloads.json_line(m) for _, m in payloads.pull_messages(pull))
        return Response(body, media_type="application/json")

    @_route(api, ["GET"], "/images/json")
    async def list_images(filters: str | None = None) -> list[dict[str, Any]]:
        found = backend.list_images(parse_filters(filters, IMAGE_FILTERS))
        return [payloads.image_summary(backend.clock, i) for i in found]

    @_route(api, ["GET"], "/images/{name:path}/json")
    async def inspect_image(name: str) -> dict[str, Any]:
        return payloads.image_inspect(backend.clock, backend.inspect_image(name))


async def _follow_pull(backend: DockerBackend, pull: Pull) -> AsyncIterator[bytes]:
    for at, message in payloads.pull_messages(pull):
        while backend.clock.now() < at:
            await asyncio.sleep(FOLLOW_POLL)
        yield payloads.json_line(message)
    backend.next_transition_at()  # the image is stored before the client reads the end


def _network_routes(api: APIRouter, backend: DockerBackend) -> None:
    @_route(api, ["POST"], "/networks/create", status_code=201)
    async def create_network(request: Request) -> dict[str, Any]:
        body = await read_json(request, DockerError)
        if not isinstance(body, dict) or not isinstance(body.get("Name"), str):
            raise DockerError("the body must be a JSON object with a Name")
        labels = body.get("Labels") or {}
        network = backend.create_network(body["Name"], body.get("Driver") or "bridge", labels)
        return {"Id": network.id, "Warning": ""}

    @_route(api, ["GET"], "/networks")
    async def list_networks(filters: str | None = None) -> list[dict[str, Any]]:
        found = backend.list_networks(parse_filters(filters, NETWORK_FILTERS))
        return [payloads.network(backend.clock, n) for n in found]

    @_route(api, ["DELETE"], "/networks/{ref}", status_code=204)
    async def remove_network(ref: str) -> Response:
        backend.remove_network(ref)
        return Response(status_code=204)
