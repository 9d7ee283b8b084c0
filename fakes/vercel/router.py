"""Vercel's REST API over ``VercelBackend``: routes, the token check, parsing; no rules.

Clients call one resource under different versions (the CLI rolls back with
``/v9/projects/…/rollback/…``, @vercel/sdk with ``/v1/…``; ``vercel ls`` lists with
``/v6/deployments``, the SDK with ``/v7``), so routes match on the path after the version:
each starts with ``/{version}`` and a router dependency accepts any ``v<digits>``. Every
handler calls the backend method of its own name and serializes with ``payloads``.
Control plane: ``GET /_fake/state``, ``POST /_fake/reset`` (no token needed).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fakes.common.app import error_response, make_app, read_json
from fakes.common.control import control_router
from fakes.common.fast_path import HANDOVER, FastPath, FastRequest, FastRoute
from fakes.vercel import payloads
from fakes.vercel.backend import VercelBackend
from fakes.vercel.errors import BadRequest, NotFound, VercelError
from fakes.vercel.history import history_router
from fakes.vercel.listings import listing_routes

_VERSION = re.compile(r"v\d+")
V = "/{version}"


def build_app(backend: VercelBackend) -> FastAPI:
    """The fake Vercel API as an ASGI app, errors in Vercel's shape."""
    app = make_app("fake Vercel", BadRequest)
    app.add_exception_handler(StarletteHTTPException, _routing_error)
    app.include_router(build_router(backend))
    app.add_middleware(FastPath, routes=fast_routes(backend))
    return app


def fast_routes(backend: VercelBackend) -> list[FastRoute]:
    """The project read without the framework (``fakes.common.fast_path``): the router's
    version and token checks, then ``get_project`` as below; a bad version (whose 404
    names the URL) goes to the full app."""
    def get_project(request: FastRequest) -> Any:
        if not _VERSION.fullmatch(str(request.path_params.get("version"))):
            return HANDOVER
        backend.authenticate(_bearer(request.header("authorization")))
        id_or_name = request.path_params["id_or_name"]
        return payloads.project(backend, backend.get_project(id_or_name))

    return [FastRoute("get_project", "GET", get_project)]


def _bearer(authorization: str) -> str | None:
    """The token of a ``Bearer`` Authorization header (None for any other scheme)."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def _routing_error(_: Request, exc: Exception) -> Response:
    """No such route (404) or method (405), in Vercel's shape rather than FastAPI's."""
    assert isinstance(exc, StarletteHTTPException)
    code = "not_found" if exc.status_code == 404 else "method_not_allowed"
    return error_response(VercelError(str(exc.detail), status=exc.status_code, code=code))


def build_router(backend: VercelBackend) -> APIRouter:
    """The API routes (token required) plus the ``/_fake`` control plane."""
    router = APIRouter()
    router.include_router(_api_router(backend))
    router.include_router(control_router(backend))
    router.include_router(history_router(backend))  # POST /_fake/history
    return router


def _api_router(backend: VercelBackend) -> APIRouter:
    async def check_version(request: Request) -> None:
        version = request.path_params.get("version")
        if version is not None and not _VERSION.fullmatch(version):
            raise NotFound(f"The requested path {request.url.path} was not found")

    async def check_token(request: Request) -> None:
        backend.authenticate(_bearer(request.headers.get("authorization", "")))

    api = APIRouter(dependencies=[Depends(check_version), Depends(check_token)])
    _account_routes(api, backend)
    _project_routes(api, backend)
    _env_routes(api, backend)
    _deployment_routes(api, backend)
    listing_routes(api, backend)
    return api


def _account_routes(api: APIRouter, backend: VercelBackend) -> None:
    @api.get(V + "/user")
    async def get_auth_user() -> dict[str, Any]:
        backend.get_auth_user()
        return payloads.user(backend)

    @api.get("/teams/{team_id}")
    @api.get(V + "/teams/{team_id}")
    async def get_team(team_id: str) -> dict[str, Any]:
        backend.get_team(team_id)
        return payloads.team(backend)


def _project_routes(api: APIRouter, backend: VercelBackend) -> None:
    @api.get(V + "/projects/{id_or_name}")
    async def get_project(id_or_name: str) -> dict[str, Any]:
        # lastAliasRequest is always included, so ?rollbackInfo=true needs no branch.
        return payloads.project(backend, backend.get_project(id_or_name))

    @api.get("/projects/{project_id}/custom-environments")
    @api.get(V + "/projects/{project_id}/custom-environments")
    async def custom_environments(project_id: str) -> dict[str, Any]:
        return {"environments": backend.custom_environments(project_id)}

    @api.post(V + "/projects/{project_id}/rollback/{deployment_id}", status_code=201)
    async def rollback_deployment(project_id: str, deployment_id: str,
                                  description: str = "") -> dict[str, Any]:
        backend.rollback_deployment(project_id, deployment_id, description)
        return {}

    @api.post(V + "/projects/{project_id}/promote/{deployment_id}", status_code=201)
    async def promote_deployment(project_id: str, deployment_id: str) -> dict[str, Any]:
        backend.promote_deployment(project_id, deployment_id)
        return {}

    @api.get(V + "/projects/{project_id}/rollback/aliases")
    async def rollback_aliases(project_id: str, failedOnly: bool = False) -> dict[str, Any]:
        aliases = backend.rollback_aliases(project_id, failed_only=failedOnly)
        return {"aliases": aliases, "pagination": {"next": None}}


def _env_routes(api: APIRouter, backend: VercelBackend) -> None:
    env_path = V + "/projects/{project_id}/env"

    @api.get(env_path)
    async def list_project_envs(project_id: str, target: str | None = None) -> dict[str, Any]:
        return payloads.envs_page(backend, backend.list_project_envs(project_id, target))

    @api.post(env_path, status_code=201)
    async def create_project_env(project_id: str, request: Request,
                                 upsert: str = "") -> dict[str, Any]:
        body = await read_json(request, BadRequest)
        items = body if isinstance(body, list) else [_object(body)]
        created, failed = [], []
        for item in map(_object, items):
            try:
                _require(item, "key", "value")
                env = backend.create_project_env(
                    project_id, item["key"], item["value"],
                    type=item.get("type", "encrypted"), target=item.get("target", []),
                    upsert=upsert.lower() == "true")
            except VercelError as exc:
                if not isinstance(body, list):
                    raise
                failed.append({"error": exc.body()["error"]})
            else:
                created.append(payloads.env_var(backend, env))
        return {"created": created if isinstance(body, list) else created[0], "failed": failed}

    @api.get(env_path + "/{env_id}")
    async def get_project_env(project_id: str, env_id: str) -> dict[str, Any]:
        return payloads.env_var(backend, backend.get_project_env(project_id, env_id))

    @api.patch(env_path + "/{env_id}")
    async def edit_project_env(project_id: str, env_id: str,
                               request: Request) -> dict[str, Any]:
        body = _object(await read_json(request, BadRequest))
        env = backend.edit_project_env(project_id, env_id, key=body.get("key"),
                                       value=body.get("value"), type=body.get("type"),
                                       target=body.get("target"))
        return payloads.env_var(backend, env)

    @api.delete(env_path + "/{env_id}")
    async def remove_project_env(project_id: str, env_id: str) -> dict[str, Any]:
        return payloads.env_var(backend, backend.remove_project_env(project_id, env_id))


def _deployment_routes(api: APIRouter, backend: VercelBackend) -> None:
    @api.get(V + "/deployments")
    async def list_deployments(
            request: Request, projectId: str | None = None, app: str | None = None,
            target: str | None = None, state: str | None = None, limit: int = 20,
            since: int | None = None, until: int | None = None,
            rollbackCandidate: bool | None = None) -> dict[str, Any]:
        # `vercel ls -m KEY=VALUE` filters with `meta-KEY=VALUE` query parameters.
        meta = {k.removeprefix("meta-"): v for k, v in request.query_params.items()
                if k.startswith("meta-")}
        deps = backend.list_deployments(projectId or app, target, state, limit, since, until,
                                        rollbackCandidate, meta)
        return payloads.deployments_page(backend, deps, limit)

    @api.post(V + "/deployments")
    async def create_deployment(request: Request) -> dict[str, Any]:
        body = _object(await read_json(request, BadRequest))
        meta = body.get("meta")
        if meta is not None and not (isinstance(meta, dict)
                                     and all(isinstance(v, str) for v in meta.values())):
            raise BadRequest("meta must be an object of strings")
        dep = backend.create_deployment(body.get("project") or body.get("name"),
                                        target=body.get("target"), meta=meta,
                                        source_deployment_id=body.get("deploymentId"))
        return payloads.deployment(backend, dep)

    @api.get(V + "/deployments/{id_or_url}")
    async def get_deployment(id_or_url: str) -> dict[str, Any]:
        return payloads.deployment(backend, backend.get_deployment(id_or_url))

    @api.patch(V + "/deployments/{deployment_id}/cancel")
    async def cancel_deployment(deployment_id: str) -> dict[str, Any]:
        return payloads.deployment(backend, backend.cancel_deployment(deployment_id))

    @api.get(V + "/deployments/{deployment_id}/builds")
    async def deployment_builds(deployment_id: str) -> dict[str, Any]:
        return {"builds": backend.deployment_builds(deployment_id)}

    @api.get(V + "/deployments/{deployment_id}/events")
    async def deployment_events(deployment_id: str) -> list[dict[str, Any]]:
        dep = backend.get_deployment(deployment_id)
        return [payloads.event(backend, dep, ev, n)
                for n, ev in enumerate(backend.deployment_events(deployment_id))]


def _require(body: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if n not in body]
    if missing:
        raise BadRequest(f"missing required field(s): {', '.join(missing)}")


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body
