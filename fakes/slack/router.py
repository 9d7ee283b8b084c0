"""Slack's incoming-webhook endpoint over ``SlackBackend``: parse, call, answer ``ok``.

``POST /services/{team}/{bot}/{secret}`` takes JSON (what ``slack_sdk``'s WebhookClient
sends) or the legacy form encoding ``payload=<json>``; success is ``200 text/plain ok``,
failure a plain-text error code (see ``errors.py``). ``POST /api/chat.postMessage`` is the
Web API method a bot token posts with (``web_api``). Any other path is ``404 no_service``.
Control plane (no auth): ``GET /_fake/state``, ``POST /_fake/reset``,
``POST /_fake/webhooks`` ``{"channel"}`` → ``{"url"}``, ``GET /_fake/messages?channel=``,
``PATCH /_fake/channels/{name}`` ``{archived?, posting_restricted?, deleted?}``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fakes.common.app import error_response, make_app, read_body, read_json, route_both
from fakes.common.control import control_router
from fakes.common.errors import FakeError
from fakes.slack.backend import SlackBackend
from fakes.slack.errors import InvalidPayload, NoService, SlackError
from fakes.slack.web_api import post_message


def build_app(backend: SlackBackend) -> FastAPI:
    """The fake Slack webhooks as an ASGI app, errors as Slack's plain-text codes."""
    app = make_app("fake Slack", InvalidPayload)
    app.add_exception_handler(StarletteHTTPException, _routing_error)
    app.include_router(build_router(backend))
    return app


async def _routing_error(_: Request, exc: Exception) -> Response:
    """Slack answers any URL that is not a webhook with ``no_service``."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(NoService())
    return error_response(SlackError("method not allowed", status=exc.status_code))


def build_router(backend: SlackBackend) -> APIRouter:
    """The webhook route plus the ``/_fake`` control plane."""
    router = APIRouter()

    @route_both(router, "/services/{team}/{bot}/{secret}", ["POST"])
    async def send_webhook(team: str, bot: str, secret: str,
                           request: Request) -> PlainTextResponse:
        path = f"/services/{team}/{bot}/{secret}"
        backend.webhook(path)  # an unknown URL is no_service whatever the body
        payload = _payload(await _body(request), request.headers.get("content-type"))
        backend.send_webhook(path, payload)
        return PlainTextResponse("ok")

    @router.post("/api/chat.postMessage")
    async def chat_post_message(request: Request) -> JSONResponse:
        fields = _fields(await _body(request), request.headers.get("content-type"))
        return JSONResponse(post_message(backend, request.headers.get("authorization"),
                                         fields))

    router.include_router(_control_router(backend))
    return router


def _fields(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """A Web API body's fields: form-encoded (what Sentry's client sends) or JSON."""
    text = raw.decode("utf-8", errors="replace")
    if (content_type or "").lower().startswith("application/json"):
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            body = None
        return body if isinstance(body, dict) else {}
    return {k: v[-1] for k, v in parse_qs(text).items()}


async def _body(request: Request) -> bytes:
    """The decoded body; a body that does not decode is Slack's ``invalid_payload``."""
    try:
        return await read_body(request)
    except SlackError:
        raise
    except FakeError as exc:  # the shared decoder's error, as Slack's plain-text code
        raise InvalidPayload(exc.message, status=exc.status) from exc


def _payload(raw: bytes, content_type: str | None) -> Any:
    """The JSON payload of a webhook body; raises InvalidPayload when it does not parse."""
    text = raw.decode("utf-8", errors="replace")
    if (content_type or "").lower().startswith("application/x-www-form-urlencoded"):
        text = (parse_qs(text).get("payload") or [""])[0]
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidPayload(f"body is not JSON: {exc}") from exc


def _control_router(backend: SlackBackend) -> APIRouter:
    control = control_router(
        backend, reset_reply=lambda: {"reset": True, "default_webhook": backend.default_webhook})

    @control.post("/webhooks", status_code=201)
    async def create_webhook(request: Request) -> dict[str, Any]:
        body = await read_json(request, InvalidPayload)
        channel = body.get("channel") if isinstance(body, dict) else None
        if not isinstance(channel, str) or not channel.strip("# "):
            raise InvalidPayload("channel must be a non-empty string")
        return {"url": backend.create_webhook(channel)}

    @control.get("/messages")
    async def messages(channel: str | None = None) -> list[dict[str, Any]]:
        return [asdict(m) for m in backend.messages(channel)]

    @control.patch("/channels/{name}")
    async def update_channel(name: str, request: Request) -> dict[str, Any]:
        body = await read_json(request, InvalidPayload)
        if not isinstance(body, dict):
            raise InvalidPayload("the body must be a JSON object")
        chan = backend.update_channel(name, archived=body.get("archived"),
                                      posting_restricted=body.get("posting_restricted"),
                                      deleted=body.get("deleted"))
        return asdict(chan)

    return control
