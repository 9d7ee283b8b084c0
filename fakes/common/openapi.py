"""A fake's OpenAPI, complete enough for schema-driven clients and fuzzers to reach
every operation.

FastAPI declares a path parameter only when the handler takes it as an argument; the
fakes' handlers that read ``request.path_params`` (a version prefix checked by a router
dependency: Vercel's ``/{version}``, Docker's ``/v1.43``; PostHog's project id) left
theirs undeclared, so a schema-driven client could not build their URLs. ``complete``
declares every parameter of each route's path, with the route's own pattern where its
convertor has one, and documents the vendor's error responses (4XX, 5XX) on every
operation.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

# Starlette's default ``str`` convertor: any segment, no pattern worth declaring.
_ANY_SEGMENT = "[^/]+"


def complete(app: FastAPI, vendor: str) -> None:
    """Make ``app.openapi()`` declare every path parameter and the error responses."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = base()
        if fresh:
            _declare(schema, app, vendor)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare(schema: dict[str, Any], app: FastAPI, vendor: str) -> None:
    convertors = {r.path_format: r.param_convertors for r in _routes(app.routes)}
    errors = {"4XX": {"description": f"refused, in {vendor}'s error shape"},
              "5XX": {"description": f"{vendor} failed (an injected fault, in its shape)"}}
    for path, item in schema.get("paths", {}).items():
        params = convertors.get(path, {})
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            listed = operation.setdefault("parameters", [])
            declared = {p.get("name") for p in listed if p.get("in") == "path"}
            for name, convertor in params.items():
                if name not in declared:
                    listed.append(_parameter(name, convertor))
            for code, doc in errors.items():
                operation.setdefault("responses", {}).setdefault(code, doc)


def _routes(routes: Any) -> list[Any]:
    """Every route, those of included routers too (FastAPI nests them lazily)."""
    found: list[Any] = []
    for route in routes:
        nested = getattr(route, "effective_candidates", None)
        if callable(nested):
            found += _routes(nested())
        elif hasattr(route, "param_convertors"):
            found.append(route)
    return found


def _parameter(name: str, convertor: Any) -> dict[str, Any]:
    regex = getattr(convertor, "regex", _ANY_SEGMENT)
    kind = {"int": "integer", "float": "number"}.get(type(convertor).__name__[:-9].lower(),
                                                     "string")
    schema: dict[str, Any] = {"type": kind}
    if kind == "string" and regex != _ANY_SEGMENT:
        schema["pattern"] = f"^{regex}$"
    return {"name": name, "in": "path", "required": True, "schema": schema}
