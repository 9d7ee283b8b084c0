"""Netlify's REST API (``/api/v1``) over ``NetlifyBackend``: routes, the token, parsing.

Each handler is named after its OpenAPI operationId in snake_case (``restoreSiteDeploy``
→ ``restore_site_deploy``) and calls the backend method of that name; two differ:
``createSiteDeploy`` calls ``create_deploy`` (this fake starts a build instead of taking
file digests) and ``listAccountsForUser`` returns every account. Status codes are the
ones clients check: restore 201, rollback 204 with no body, ``setEnvVarValue`` 201,
deletes 204. Errors, unknown routes and invalid parameters included, answer
``{"code": status, "message"}``. Control plane: ``GET /_fake/state``,
``POST /_fake/reset`` (no token needed).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fakes.common.app import error_response, make_app, read_body, read_json
from fakes.common.control import control_router
from fakes.common.errors import FakeError
from fakes.netlify import payloads
from fakes.netlify.backend import NetlifyBackend
from fakes.netlify.errors import BadRequest, NetlifyError, NotFound, Unprocessable
from fakes.netlify.extension_api import extension_router
from fakes.netlify.history import history_router

PREFIX = "/api/v1"
Json = dict[str, Any]


def build_app(backend: NetlifyBackend) -> FastAPI:
    """The fake Netlify API as an ASGI app, errors in Netlify's shape."""
    app = make_app("fake Netlify", Unprocessable)
    app.add_exception_handler(StarletteHTTPException, _routing_error)
    app.include_router(build_router(backend))
    return app


async def _routing_error(_: Request, exc: Exception) -> Response:
    """No such route (404) or method (405), in Netlify's shape rather than FastAPI's."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(NotFound())
    return error_response(NetlifyError(str(exc.detail), status=exc.status_code))


def build_router(backend: NetlifyBackend) -> APIRouter:
    """The API routes (token required) plus the ``/_fake`` control plane."""
    router = APIRouter()
    router.include_router(_api_router(backend))
    router.include_router(extension_router(backend))
    router.include_router(control_router(backend))
    router.include_router(history_router(backend))  # POST /_fake/history
    return router


def _api_router(backend: NetlifyBackend) -> APIRouter:
    async def check_token(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":  # Netlify also takes ?access_token=
            token = request.query_params.get("access_token", "")
        backend.authenticate(token.strip() or None)

    api = APIRouter(prefix=PREFIX, dependencies=[Depends(check_token)])
    _account_routes(api, backend)
    _site_routes(api, backend)
    _deploy_routes(api, backend)
    _publish_routes(api, backend)
    _env_routes(api, backend)
    return api


def _account_routes(api: APIRouter, backend: NetlifyBackend) -> None:
    @api.get("/user")
    async def get_current_user() -> Json:
        backend.get_current_user()
        return payloads.user(backend)

    @api.get("/accounts")
    async def list_accounts_for_user(minimal: bool = False) -> list[Json]:
        # ``minimal`` trims fields on Netlify; every field here is cheap, so all are sent.
        return [payloads.account(backend, a) for a in backend.list_accounts_for_user()]

    @api.get("/accounts/{account_id}")
    async def get_account(account_id: str) -> Json:
        return payloads.account(backend, backend.get_account(account_id))


def _site_routes(api: APIRouter, backend: NetlifyBackend) -> None:
    @api.get("/sites")
    async def list_sites(name: str | None = None, page: int = 1,
                         per_page: int = 100) -> list[Json]:
        # ``filter`` (all|owner|guest) is accepted and ignored: one user owns every site.
        return [payloads.site(backend, s) for s in backend.list_sites(name, page, per_page)]

    @api.get("/sites/{site_id}")
    async def get_site(site_id: str, feature_flags: str | None = None) -> Json:
        return payloads.site(backend, backend.get_site(site_id))


def _deploy_routes(api: APIRouter, backend: NetlifyBackend) -> None:
    @api.get("/sites/{site_id}/deploys")
    async def list_site_deploys(
            site_id: str, page: int = 1, per_page: int = 100, production: bool | None = None,
            state: str | None = None, branch: str | None = None,
            latest_published: Annotated[bool | None, Query(alias="latest-published")] = None,
            deploy_previews: Annotated[bool | None, Query(alias="deploy-previews")] = None,
    ) -> list[Json]:
        deploys = backend.list_site_deploys(
            site_id, page=page, per_page=per_page, production=production, state=state,
            branch=branch, latest_published=latest_published, deploy_previews=deploy_previews)
        return [payloads.deploy(backend, d) for d in deploys]

    @api.post("/sites/{site_id}/deploys")
    async def create_site_deploy(site_id: str, request: Request, title: str | None = None,
                                 branch: str | None = None) -> Json:
        body = await _deploy_body(request)
        draft = body.get("draft", False)
        if not isinstance(draft, bool):
            raise Unprocessable("draft must be a boolean")
        dep = backend.create_deploy(
            site_id, context="deploy-preview" if draft else "production",
            branch=_text(body, "branch") or branch or "main",
            commit_ref=_text(body, "commit_ref"), title=_text(body, "title") or title,
            publish=not draft)
        return payloads.deploy(backend, dep)

    @api.put("/sites/{site_id}/deploys/{deploy_id}")
    async def update_site_deploy(site_id: str, deploy_id: str, request: Request) -> Json:
        body = _object(await read_json(request, BadRequest))
        return payloads.deploy(backend, backend.update_site_deploy(site_id, deploy_id, body))

    @api.put("/deploys/{deploy_id}/files/{path:path}")
    async def upload_deploy_file(deploy_id: str, path: str, request: Request) -> Json:
        try:
            content = await read_body(request)
        except FakeError as exc:  # the shared decoder's error, in Netlify's shape
            raise BadRequest(exc.message, status=exc.status) from exc
        return backend.upload_deploy_file(deploy_id, path, content)

    @api.post("/sites/{site_id}/builds")
    async def create_site_build(site_id: str, branch: str | None = None,
                                title: str | None = None, clear_cache: bool = False) -> Json:
        build = backend.create_site_build(site_id, branch=branch, title=title)
        return payloads.build(backend, build)

    @api.get("/sites/{site_id}/builds")
    async def list_site_builds(site_id: str, page: int = 1, per_page: int = 100) -> list[Json]:
        return [payloads.build(backend, b)
                for b in backend.list_site_builds(site_id, page, per_page)]

    @api.get("/builds/{build_id}")
    async def get_site_build(build_id: str) -> Json:
        return payloads.build(backend, backend.get_site_build(build_id))

    @api.get("/sites/{site_id}/deploys/{deploy_id}")
    async def get_site_deploy(site_id: str, deploy_id: str) -> Json:
        return payloads.deploy(backend, backend.get_site_deploy(site_id, deploy_id))

    @api.get("/deploys/{deploy_id}")
    async def get_deploy(deploy_id: str) -> Json:
        return payloads.deploy(backend, backend.get_deploy(deploy_id))

    @api.post("/deploys/{deploy_id}/cancel", status_code=201)
    async def cancel_site_deploy(deploy_id: str) -> Json:
        return payloads.deploy(backend, backend.cancel_site_deploy(deploy_id))


def _publish_routes(api: APIRouter, backend: NetlifyBackend) -> None:
    @api.post("/sites/{site_id}/deploys/{deploy_id}/restore", status_code=201)
    async def restore_site_deploy(site_id: str, deploy_id: str) -> Json:
        return payloads.deploy(backend, backend.restore_site_deploy(site_id, deploy_id))

    @api.put("/sites/{site_id}/rollback", status_code=204)
    async def rollback_site_deploy(site_id: str) -> Response:
        backend.rollback_site_deploy(site_id)
        return Response(status_code=204)

    @api.post("/deploys/{deploy_id}/lock")
    async def lock_deploy(deploy_id: str) -> Json:
        return payloads.deploy(backend, backend.lock_deploy(deploy_id))

    @api.post("/deploys/{deploy_id}/unlock")
    async def unlock_deploy(deploy_id: str) -> Json:
        return payloads.deploy(backend, backend.unlock_deploy(deploy_id))


def _env_routes(api: APIRouter, backend: NetlifyBackend) -> None:
    env_path = "/accounts/{account_id}/env"

    @api.get(env_path)
    async def get_env_vars(account_id: str, site_id: str | None = None,
                           context_name: str | None = None,
                           scope: str | None = None) -> list[Json]:
        found = backend.get_env_vars(account_id, site_id=site_id, context_name=context_name,
                                     scope=scope)
        return [payloads.env_var(backend, v) for v in found]

    @api.post(env_path, status_code=201)
    async def create_env_vars(account_id: str, request: Request,
                              site_id: str | None = None) -> list[Json]:
        body = await read_json(request, BadRequest)
        if not isinstance(body, list):
            raise Unprocessable("the request body must be a JSON array of variables")
        made = backend.create_env_vars(account_id, body, site_id=site_id)
        return [payloads.env_var(backend, v) for v in made]

    @api.get(env_path + "/{key}")
    async def get_env_var(account_id: str, key: str, site_id: str | None = None) -> Json:
        return payloads.env_var(backend, backend.get_env_var(account_id, key, site_id=site_id))

    @api.put(env_path + "/{key}")
    async def update_env_var(account_id: str, key: str, request: Request,
                             site_id: str | None = None) -> Json:
        body = _object(await read_json(request, BadRequest))
        var = backend.update_env_var(account_id, key, body, site_id=site_id)
        return payloads.env_var(backend, var)

    @api.patch(env_path + "/{key}", status_code=201)
    async def set_env_var_value(account_id: str, key: str, request: Request,
                                site_id: str | None = None) -> Json:
        body = _object(await read_json(request, BadRequest))
        var = backend.set_env_var_value(account_id, key, value=body.get("value"),
                                        context=body.get("context", "all"),
                                        context_parameter=body.get("context_parameter"),
                                        site_id=site_id)
        return payloads.env_var(backend, var)

    @api.delete(env_path + "/{key}", status_code=204)
    async def delete_env_var(account_id: str, key: str, site_id: str | None = None) -> Response:
        backend.delete_env_var(account_id, key, site_id=site_id)
        return Response(status_code=204)

    @api.delete(env_path + "/{key}/value/{value_id}", status_code=204)
    async def delete_env_var_value(account_id: str, key: str, value_id: str,
                                   site_id: str | None = None) -> Response:
        backend.delete_env_var_value(account_id, key, value_id, site_id=site_id)
        return Response(status_code=204)


async def _deploy_body(request: Request) -> Json:
    """createSiteDeploy's JSON body; a zip upload (its files are not modelled) counts as {}."""
    if request.headers.get("content-type", "").startswith("application/zip"):
        return {}
    return _object(await read_json(request, BadRequest))


def _text(body: Json, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise Unprocessable(f"{name} must be a string")
    return value


def _object(body: Any) -> Json:
    if not isinstance(body, dict):
        raise Unprocessable("the request body must be a JSON object")
    return body
