"""HTTP face of the fake Sentry: ingestion, the web API subset the drill uses, /_fake/.

Ingestion: ``POST /api/{project_id}/envelope/`` (gzip, deflate or br bodies; the key from
``X-Sentry-Auth``, ``?sentry_key=`` or the envelope's ``dsn``). Web API under
``/api/0/`` with ``Authorization: Bearer <token>``: sessions, issues, releases and
deploys (``GET /api/0/`` is the index ``sentry-cli info`` reads), alert rules,
incidents. Control plane: ``/_fake/state``, ``/_fake/reset``, ``/_fake/evaluate``
(``?catch_up=true``: each rule's next update at once, not waiting for Snuba's schedule),
``/_fake/drain_webhooks``. Every path answers with and without its trailing slash; each
handler calls the backend method of the same name.

Browser SDKs post envelopes cross-origin, so the app answers CORS as Sentry's ingestion
does (Relay's ``relay-server/src/middlewares/cors.rs``): any origin (``*``), POST, the
SDK headers allowed, the error and rate-limit headers exposed, preflights cached 1 h.
Only browsers send ``Origin``, so the drill's own API calls see no difference.
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from fakes.common.app import decode_body, make_app, read_body, route_both
from fakes.common.control import control_router
from fakes.common.errors import FakeError
from fakes.common.fast_path import HANDOVER, FastPath, FastRequest, FastRoute
from fakes.sentry.backend import SentryBackend
from fakes.sentry.envelope import parse_auth
from fakes.sentry.errors import BadRequest, SentryError

INGEST_CORS_HEADERS = ("X-Sentry-Auth", "X-Requested-With", "X-Forwarded-For", "Origin",
                       "Referer", "Accept", "Content-Type", "Authentication", "Authorization",
                       "Content-Encoding", "Transfer-Encoding")
_PERIOD = re.compile(r"^(\d+)([smhdw]?)$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_PAGE = 100


def parse_period(text: str, name: str) -> float:
    """``30m``, ``1h``, ``24h``, ``14d`` (a bare number is seconds) → seconds."""
    match = _PERIOD.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise BadRequest(f"Invalid {name}: {text!r}")
    return float(int(match.group(1)) * _UNIT[match.group(2)])


async def _body(request: Request) -> bytes:
    try:
        return await read_body(request)
    except SentryError:
        raise
    except FakeError as exc:  # the shared decoder's error, in Sentry's shape
        raise BadRequest(exc.message, status=exc.status) from exc


async def _json(request: Request) -> Any:
    raw = await _body(request)
    try:
        return json.loads(raw) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"JSON parse error - {exc}") from exc


def _page(request: Request, items: list[Any]) -> Response:
    """One page of a list, with Sentry's cursor ``Link`` header."""
    q = request.query_params
    try:
        limit = min(int(q.get("limit", MAX_PAGE)), MAX_PAGE)
        offset = int((q.get("cursor") or "0:0:0").split(":")[1])
    except (ValueError, IndexError):
        raise BadRequest("Invalid cursor parameter.") from None
    base = str(request.url.remove_query_params("cursor"))
    sep = "&" if "?" in base else "?"

    def link(rel: str, cursor: str, more: bool) -> str:
        url = f"{base}{sep}{urlencode({'cursor': cursor})}"
        return f'<{url}>; rel="{rel}"; results="{str(more).lower()}"; cursor="{cursor}"'

    previous = link("previous", f"0:{max(offset - limit, 0)}:1", offset > 0)
    following = link("next", f"0:{offset + limit}:0", offset + limit < len(items))
    return JSONResponse(items[offset:offset + limit],
                        headers={"Link": f"{previous}, {following}"})


def build_router(backend: SentryBackend) -> APIRouter:
    router = APIRouter()
    both = partial(route_both, router)

    def api(request: Request, org: str) -> None:
        backend.authenticate(request.headers.get("authorization"))
        backend.check_org(org)

    @both("/api/0/", ["GET"])
    async def auth_info(request: Request) -> dict[str, Any]:
        return backend.auth_info(request.headers.get("authorization"))

    @both("/api/{project_id}/envelope/", ["POST"])
    async def ingest_envelope(project_id: int, request: Request) -> dict[str, Any]:
        return _ingest(backend, project_id, request.headers.get("x-sentry-auth"),
                       request.query_params.get("sentry_key"), await _body(request))

    @both("/api/0/organizations/{org}/sessions/", ["GET"])
    async def sessions_stats(org: str, request: Request) -> dict[str, Any]:
        api(request, org)
        q = request.query_params
        return backend.sessions_stats(
            q.getlist("field"), environment=q.getlist("environment") or None,
            query=q.get("query", ""),
            stats_period_s=parse_period(q.get("statsPeriod", "24h"), "statsPeriod"),
            interval_s=parse_period(q.get("interval", "1h"), "interval"),
            group_by=q.getlist("groupBy"), project=q.getlist("project") or None)

    async def issues(request: Request) -> Response:
        q = request.query_params
        found = backend.list_issues(
            query=q.get("query", "is:unresolved"),
            environment=q.getlist("environment") or None,
            stats_period_s=parse_period(q.get("statsPeriod", "14d"), "statsPeriod"),
            sort=q.get("sort", "date"), project=q.getlist("project") or None)
        return _page(request, found)

    @both("/api/0/organizations/{org}/issues/", ["GET"])
    async def list_issues(org: str, request: Request) -> Response:
        api(request, org)
        return await issues(request)

    @both("/api/0/projects/{org}/{project}/", ["GET"])
    async def retrieve_project(org: str, project: str, request: Request) -> dict[str, Any]:
        api(request, org)
        return backend.retrieve_project(project)

    @both("/api/0/projects/{org}/{project}/issues/", ["GET"])
    async def list_project_issues(org: str, project: str, request: Request) -> Response:
        api(request, org)
        backend.check_project(project)
        return await issues(request)

    @both("/api/0/organizations/{org}/releases/", ["POST"])
    async def create_release(org: str, request: Request) -> Response:
        api(request, org)
        payload = await _json(request)
        existed = isinstance(payload, dict) and backend.release_exists(
            str(payload.get("version")))
        # Sentry answers 208 Already Reported when the version exists.
        return JSONResponse(backend.create_release(payload), status_code=208 if existed else 201)

    @both("/api/0/organizations/{org}/releases/", ["GET"])
    async def list_releases(org: str, request: Request) -> Response:
        api(request, org)
        return _page(request, backend.list_releases(request.query_params.get("query", "")))

    @both("/api/0/projects/{org}/{project}/releases/", ["GET"])
    async def list_project_releases(org: str, project: str, request: Request) -> Response:
        """``sentry-cli releases list`` with a default project asks the project's list."""
        api(request, org)
        backend.check_project(project)
        return _page(request, backend.list_releases(request.query_params.get("query", "")))

    @both("/api/0/organizations/{org}/releases/{version}/", ["GET"])
    async def get_release(org: str, version: str, request: Request) -> dict[str, Any]:
        api(request, org)
        return backend.get_release(version)

    @both("/api/0/organizations/{org}/releases/{version}/", ["PUT"])
    async def update_release(org: str, version: str, request: Request) -> dict[str, Any]:
        api(request, org)
        return backend.update_release(version, await _json(request))

    @both("/api/0/organizations/{org}/releases/{version}/deploys/", ["GET"])
    async def list_deploys(org: str, version: str, request: Request) -> Response:
        api(request, org)
        return _page(request, backend.list_deploys(version))

    @both("/api/0/organizations/{org}/releases/{version}/deploys/", ["POST"])
    async def create_deploy(org: str, version: str, request: Request) -> Response:
        api(request, org)
        deploy = backend.create_deploy(version, await _json(request))
        return JSONResponse(deploy, status_code=201)

    @both("/api/0/organizations/{org}/alert-rules/", ["POST"])
    async def create_alert_rule(org: str, request: Request) -> Response:
        api(request, org)
        rule = backend.create_alert_rule(await _json(request))
        return JSONResponse(rule, status_code=201)

    @both("/api/0/organizations/{org}/alert-rules/", ["GET"])
    async def list_alert_rules(org: str, request: Request) -> Response:
        api(request, org)
        return _page(request, backend.list_alert_rules())

    @both("/api/0/organizations/{org}/alert-rules/{rule_id}/", ["GET"])
    async def get_alert_rule(org: str, rule_id: str, request: Request) -> dict[str, Any]:
        api(request, org)
        return backend.get_alert_rule(rule_id)

    @both("/api/0/organizations/{org}/alert-rules/{rule_id}/", ["DELETE"])
    async def delete_alert_rule(org: str, rule_id: str, request: Request) -> Response:
        api(request, org)
        backend.delete_alert_rule(rule_id)
        return Response(status_code=204)

    @both("/api/0/organizations/{org}/incidents/", ["GET"])
    async def alert_incidents(org: str, request: Request) -> Response:
        api(request, org)
        return _page(request, backend.alert_incidents())

    router.include_router(control_router(backend, reset_reply=lambda: {"ok": True},
                                         both_slashes=True))

    @both("/_fake/evaluate", ["POST"])
    async def evaluate_alert_rules(catch_up: bool = False) -> list[dict[str, Any]]:
        return backend.evaluate_alert_rules(catch_up)

    @both("/_fake/drain_webhooks", ["POST"])
    async def drain_webhooks() -> list[dict[str, Any]]:
        return [{"url": d.url, "headers": d.headers, "body": d.body.decode()}
                for d in backend.drain_webhooks()]

    return router


def build_app(backend: SentryBackend) -> FastAPI:
    app = make_app("Sentry (fake)", BadRequest)
    app.include_router(build_router(backend))
    app.add_middleware(FastPath, routes=fast_routes(backend))  # inside CORS
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["POST"],
                       allow_headers=list(INGEST_CORS_HEADERS),
                       expose_headers=["X-Sentry-Error", "X-Sentry-Rate-Limits",
                                       "Retry-After"], max_age=3600)
    return app


_PROJECT_ID = re.compile(r"0|[1-9][0-9]{0,17}")  # what surely parses as the int it reads


def fast_routes(backend: SentryBackend) -> list[FastRoute]:
    """Envelope ingestion without the framework (``fakes.common.fast_path``): the same
    steps as ``ingest_envelope`` above, for a key in ``X-Sentry-Auth`` or the envelope;
    ``?sentry_key=`` and odd project ids go to the full handler."""
    def ingest_envelope(request: FastRequest) -> Any:
        project_id = request.path_params.get("project_id")
        if request.query_string or not isinstance(project_id, str) \
                or not _PROJECT_ID.fullmatch(project_id):
            return HANDOVER
        try:
            body = decode_body(request.raw, request.headers.get("content-encoding"))
        except FakeError:
            return HANDOVER
        return _ingest(backend, int(project_id), request.headers.get("x-sentry-auth"), None,
                       body)

    return [FastRoute("ingest_envelope", "POST", ingest_envelope)]


def _ingest(backend: SentryBackend, project_id: int, auth: str | None,
            query_key: str | None, body: bytes) -> dict[str, Any]:
    """An envelope stored under its key (``X-Sentry-Auth``'s, else ``?sentry_key=``; else
    the envelope's ``dsn``): ``{"id"}`` of its event, or ``{}``."""
    key = parse_auth(auth).get("sentry_key") or query_key
    event_id = backend.ingest_envelope(project_id, key, body)
    return {"id": event_id} if event_id else {}
