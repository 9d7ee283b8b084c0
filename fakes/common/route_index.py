"""Which endpoint a request reaches: the route lookup the fault checks and the fast path
share, remembered per request line.

Starlette finds a request's route by trying every route's pattern in order; a fake with
a hundred routes (both slashes, two prefixes) pays that on each request, and the fault
checks (``fakes.common.fault_router``) paid it a second time to name the operation. A
route's match depends only on the scope's method, root path and path, and a fake's
routes are fixed once it serves (``install`` runs before the first request), so
``RouteIndex`` matches each (method, root path, path) once and keeps the answer: the
endpoint name (``""`` when no route matches) and the path parameters.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Match

Found = tuple[str, dict[str, Any]]  # (endpoint name, path parameters)
NOT_FOUND: Found = ("", {})


class RouteIndex:
    """Remembered route lookups of one app; at most ``size`` request lines (then it
    starts afresh: paths carrying ids are unbounded)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._found: dict[tuple[str, str, str], Found] = {}

    def find(self, scope: Any) -> Found:
        """The endpoint name and path parameters of the route ``scope`` reaches in
        ``scope["app"]`` (``NOT_FOUND`` when none matches fully)."""
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        found = self._found.get(key)
        if found is None:
            if len(self._found) >= self.size:
                self._found.clear()
            app = scope.get("app")
            found = _match(getattr(getattr(app, "router", None), "routes", ()), scope)
            self._found[key] = found
        return found


def _match(routes: Any, scope: Any) -> Found:
    for route in routes:
        nested = getattr(route, "effective_candidates", None)  # FastAPI's included routers
        if callable(nested):
            found = _match(nested(), scope)
            if found[0]:
                return found
            continue
        match, child = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "name", "") or ""), dict(child.get("path_params", {}))
    return NOT_FOUND
