"""The fake PostHog's HTTP face: the subset of PostHog's API the drill's clients speak.

Thin: each handler parses, checks the key, calls the backend method of its own name and
serializes. Paths answer with and without a trailing slash. Served:

- ingestion: ``POST /batch/ /capture/ /e/ /i/v0/e/ /track/`` (key in the body, one event
  or ``{"batch": [...]}``, gzip by Content-Encoding or ``?compression=gzip-js``, or a
  form field ``data=`` in base64) → ``{"status": "Ok"}``; ``POST /i/v1/analytics/events``
  (``Authorization: Bearer phc_…``) → ``{"results": {}}``;
- remote evaluation: ``POST /flags/`` (v4 shape) and legacy ``POST /decide/``;
- local evaluation: ``GET /flags/definitions`` and ``/api/feature_flag/local_evaluation/``
  (personal key as Bearer, ETag, 304 on ``If-None-Match``);
- management (personal key as Bearer): ``/api/projects/{id|@current}/feature_flags/``
  list, create, get, patch, delete (405: PostHog deletes softly), ``…/{key}/remote_config``;
  ``/api/environments/…`` is an alias;
- control plane: ``GET /_fake/state``, ``POST /_fake/reset``.

Browsers call PostHog cross-origin, so the app answers CORS as PostHog does for its
ingestion and flags endpoints (``posthog/utils.py`` ``cors_response``): the request's own
origin echoed back with credentials allowed, methods GET, POST and OPTIONS, header
``X-Requested-With``. Only browsers send ``Origin``, so other clients see no difference.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from fakes.common.app import make_app, read_body, route_both
from fakes.common.clock import to_ms
from fakes.common.control import control_router
from fakes.common.errors import FakeError
from fakes.common.fast_path import HANDOVER, FastPath, FastRequest, FastRoute
from fakes.common.limits import TooLarge, decompress
from fakes.posthog.backend import PostHogBackend
from fakes.posthog.errors import InvalidApiKey, NotFound, ParseError, PostHogError, ValidationError
from fakes.posthog.models import FlagResult

CAPTURE_PATHS = ("/batch/", "/capture/", "/e/", "/i/v0/e/", "/track/")
PROJECT_PREFIXES = ("/api/projects", "/api/environments")
_REQUEST_IDS = uuid.UUID("6d1c5f2e-7a43-4f0e-9a55-0f3b1c2d4e5f")


# --- request parsing --------------------------------------------------------------------

async def _read_json(request: Request) -> Any:
    """The body as JSON, whatever wrapping a PostHog client put on it; raises ParseError."""
    try:
        raw = await read_body(request)
    except PostHogError:
        raise
    except FakeError as exc:  # a body that does not decode: PostHog's shape, same status
        raise ParseError(exc.message, status=exc.status) from exc
    raw = _unwrap(raw, request)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"JSON parse error - {exc}") from exc


def _unwrap(raw: bytes, request: Request) -> bytes:
    """Undo posthog-js wrappings: ``?compression=gzip-js`` and a base64 ``data=`` form."""
    try:
        if request.query_params.get("compression") == "gzip-js" and raw[:2] == b"\x1f\x8b":
            raw = decompress(raw, "gzip")  # bounded (fakes.common.limits)
        if request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            data = parse_qs(raw.decode()).get("data", [""])[0]
            raw = base64.b64decode(data + "=" * (-len(data) % 4))
    except TooLarge as exc:
        raise ParseError(str(exc), status=413) from exc
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, binascii.Error) as exc:
        raise ParseError(f"body does not decode: {exc}") from exc
    return raw


async def _json_object(request: Request) -> dict[str, Any]:
    body = await _read_json(request)
    if not isinstance(body, dict):
        raise ParseError("Expected a JSON object.")
    return body


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _batch_of(body: Any) -> tuple[str | None, list[Any]]:
    """``(body-level key, events)`` for a batch, an array or a single event."""
    if isinstance(body, list):
        return None, body
    if not isinstance(body, dict):
        raise ValidationError("Expected an event or a batch of events.", attr="batch")
    key = body.get("api_key") or body.get("token")
    if "batch" in body:
        return key, body["batch"]
    return key, [body]


# --- serialization ----------------------------------------------------------------------

def _flag_json(result: FlagResult) -> dict[str, Any]:
    return {
        "key": result.key, "enabled": result.enabled, "variant": result.variant,
        "failed": False,
        "reason": {"code": result.reason_code, "condition_index": result.condition_index,
                   "description": result.description},
        "metadata": {"id": result.flag_id, "version": result.version,
                     "payload": result.payload, "description": None},
    }


def _page_url(request: Request, limit: int, offset: int) -> str:
    return str(request.url.include_query_params(limit=limit, offset=offset))


# --- routes ----------------------------------------------------------------------------

def build_router(backend: PostHogBackend) -> APIRouter:
    """Every route of the fake PostHog over ``backend``."""
    router = APIRouter()
    _capture_routes(router, backend)
    _flag_routes(router, backend)
    _definition_routes(router, backend)
    for prefix in PROJECT_PREFIXES:
        _management_routes(router, backend, prefix)
    router.include_router(control_router(backend, reset_reply=lambda: {"ok": True}))
    return router


def build_app(backend: PostHogBackend) -> FastAPI:
    """A FastAPI app serving ``build_router(backend)`` with PostHog-shaped errors."""
    app = make_app("fake PostHog", ValidationError)
    app.include_router(build_router(backend))
    app.add_middleware(FastPath, routes=fast_routes(backend))  # inside CORS
    app.add_middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True,
                       allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["X-Requested-With"])
    return app


def fast_routes(backend: PostHogBackend) -> list[FastRoute]:
    """The capture endpoint without the framework (``fakes.common.fast_path``): the
    same steps as ``capture`` below, for a plain JSON body (gzip by Content-Encoding
    included); posthog-js's ``?compression=`` and form bodies go to the full handler."""
    def capture(request: FastRequest) -> Any:
        if b"compression" in request.query_string or request.header(
                "content-type").startswith("application/x-www-form-urlencoded"):
            return HANDOVER  # _unwrap's cases
        body = request.json()
        if body is HANDOVER:
            return HANDOVER
        api_key, events = _batch_of(body)
        _capture(backend, api_key, events)
        return {"status": "Ok"}

    return [FastRoute("capture", "POST", capture)]


def _add(router: APIRouter, paths: tuple[str, ...], methods: list[str]
         ) -> Callable[[Any], Any]:
    def deco(fn: Any) -> Any:
        for path in paths:
            route_both(router, path, methods)(fn)
        return fn
    return deco


def _capture_routes(router: APIRouter, backend: PostHogBackend) -> None:
    @_add(router, CAPTURE_PATHS, ["POST"])
    async def capture(request: Request) -> dict[str, Any]:
        api_key, events = _batch_of(await _read_json(request))
        _capture(backend, api_key, events)
        return {"status": "Ok"}

    @_add(router, ("/i/v1/analytics/events",), ["POST"])
    async def capture_v1(request: Request) -> dict[str, Any]:
        body = await _json_object(request)
        _capture(backend, _bearer(request), body.get("batch", []))
        return {"results": {}}


def _capture(backend: PostHogBackend, api_key: str | None, events: Any) -> None:
    """Ingest ``events``; a batch with no event has no event-level key to fall back on,
    so its own key must be given and valid. PostHog's capture
    (PostHog/posthog rust/capture/src/utils.rs ``extract_and_verify_token``: no batch
    token and 0 events is ``CaptureError::NoTokenError``, answered 401 "event submitted
    without an api_key" in rust/capture/src/api.rs)."""
    if isinstance(events, list) and not events:
        if not api_key:
            raise InvalidApiKey("event submitted without an api_key")
        backend.check_project_key(api_key)
    backend.capture(api_key, events)


def _evaluate(backend: PostHogBackend, body: dict[str, Any]) -> dict[str, FlagResult]:
    backend.check_project_key(body.get("api_key") or body.get("token"))
    flag_keys = body.get("flag_keys_to_evaluate")
    if flag_keys is not None and not isinstance(flag_keys, list):
        raise ValidationError("flag_keys_to_evaluate must be a list",
                              attr="flag_keys_to_evaluate")
    properties = body.get("person_properties") or {}
    if not isinstance(properties, dict):
        raise ValidationError("person_properties must be an object", attr="person_properties")
    distinct_id = body.get("distinct_id")
    return backend.evaluate_flags("" if distinct_id is None else str(distinct_id), properties,
                                  flag_keys)


def _flag_routes(router: APIRouter, backend: PostHogBackend) -> None:
    @_add(router, ("/flags/",), ["POST"])
    async def evaluate_flags(request: Request) -> dict[str, Any]:
        results = _evaluate(backend, await _json_object(request))
        request_id = uuid.uuid5(_REQUEST_IDS, str(backend.flag_requests))
        return {"flags": {k: _flag_json(r) for k, r in results.items()},
                "errorsWhileComputingFlags": False, "requestId": str(request_id),
                "evaluatedAt": to_ms(backend.clock), "quotaLimited": []}

    @_add(router, ("/decide/",), ["POST"])
    async def decide(request: Request) -> dict[str, Any]:
        results = _evaluate(backend, await _json_object(request))
        return {"featureFlags": {k: r.value for k, r in results.items()},
                "featureFlagPayloads": {k: r.payload for k, r in results.items()
                                        if r.enabled and r.payload is not None},
                "errorsWhileComputingFlags": False}


def _definition_routes(router: APIRouter, backend: PostHogBackend) -> None:
    paths = ("/flags/definitions", "/api/feature_flag/local_evaluation/",
             *(f"{p}/{{project_id}}/feature_flags/local_evaluation/" for p in PROJECT_PREFIXES))

    @_add(router, paths, ["GET"])
    async def flag_definitions(request: Request) -> Response:
        backend.check_personal_key(_bearer(request))
        if "project_id" in request.path_params:
            backend.check_project(request.path_params["project_id"])
        token = request.query_params.get("token")
        if token is not None:
            backend.check_project_key(token)
        etag, body = backend.flag_definitions(request.headers.get("if-none-match"))
        if body is None:
            return Response(status_code=304, headers={"ETag": etag})
        return JSONResponse(body, headers={"ETag": etag})


def _management_routes(router: APIRouter, backend: PostHogBackend, prefix: str) -> None:
    flags = f"{prefix}/{{project_id}}/feature_flags/"

    def authorize(request: Request, project_id: str) -> None:
        backend.check_personal_key(_bearer(request))
        backend.check_project(project_id)

    def flag_id_of(flag_id: str) -> int:
        if not flag_id.isdigit():  # the real detail routes take numeric ids only
            raise NotFound()
        return int(flag_id)

    @_add(router, (flags,), ["GET"])
    async def list_feature_flags(request: Request, project_id: str, limit: int = 100,
                                 offset: int = 0) -> dict[str, Any]:
        authorize(request, project_id)
        count, page = backend.list_feature_flags(limit, offset)
        return {"count": count,
                "next": _page_url(request, limit, offset + limit)
                if offset + limit < count else None,
                "previous": _page_url(request, limit, max(0, offset - limit))
                if offset > 0 else None,
                "results": [f.to_json(backend.clock) for f in page]}

    @_add(router, (flags,), ["POST"])
    async def create_feature_flag(request: Request, project_id: str) -> JSONResponse:
        authorize(request, project_id)
        body = await _json_object(request)
        flag = backend.create_feature_flag(
            body.get("key") or "", body.get("name") or "", body.get("active", True),
            body.get("filters"),
            ensure_experience_continuity=body.get("ensure_experience_continuity", False))
        return JSONResponse(flag.to_json(backend.clock), status_code=201)

    @_add(router, (flags + "{key}/remote_config",), ["GET"])
    async def remote_config(request: Request, project_id: str, key: str) -> JSONResponse:
        authorize(request, project_id)
        token = request.query_params.get("token")
        if token is not None:
            backend.check_project_key(token)
        return JSONResponse(backend.remote_config(key))

    @_add(router, (flags + "{flag_id}/",), ["GET"])
    async def get_feature_flag(request: Request, project_id: str, flag_id: str
                               ) -> dict[str, Any]:
        authorize(request, project_id)
        flag = backend.get_feature_flag(flag_id_of(flag_id))
        return flag.to_json(backend.clock)

    @_add(router, (flags + "{flag_id}/",), ["PATCH"])
    async def patch_feature_flag(request: Request, project_id: str, flag_id: str
                                 ) -> dict[str, Any]:
        authorize(request, project_id)
        changes = await _json_object(request)
        flag = backend.patch_feature_flag(flag_id_of(flag_id), changes)
        return flag.to_json(backend.clock)

    @_add(router, (flags + "{flag_id}/",), ["DELETE"])
    async def delete_feature_flag(request: Request, project_id: str, flag_id: str) -> None:
        authorize(request, project_id)
        backend.delete_feature_flag(flag_id_of(flag_id))
