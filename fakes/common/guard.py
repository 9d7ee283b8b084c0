"""The door of a served fake's control plane: who may call ``/_fake/*``.

``drill serve`` puts the fakes on real sockets, where a web page open in the user's
browser can reach them: a cross-origin ``text/plain`` POST needs no CORS preflight, and
DNS rebinding lets a foreign name resolve to 127.0.0.1. ``ControlGuard`` refuses, on
``/_fake/*`` only (the vendor API keeps the vendor's own authentication):

- a ``Host`` that is not one of the names the fake is served under (DNS rebinding
  carries the attacker's name in ``Host``);
- an ``Origin`` other than the fake's own (a page on another site; ``null`` included);
- a request without the serve's random token in ``X-Drill-Token`` (a browser cannot add
  that header cross-site without a preflight, which no fake answers).

Refusals are 403 in the vendor's error shape (the app's error class). In-process drills
talk ASGI to the apps directly, with no socket and no browser; they have no guard.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from fakes.common.errors import FakeError, Forbidden
from fakes.common.responses import error_response

TOKEN_HEADER = "x-drill-token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def host_name(authority: str) -> str:
    """The host of a ``Host``/``Origin`` authority, without port or brackets, lowercased."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    if authority.count(":") > 1:  # a bare IPv6 address
        return authority
    return authority.rsplit(":", 1)[0] if ":" in authority else authority


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class ControlGuard:
    """ASGI middleware: ``/_fake/*`` only from an allowed Host, same origin, with the token.

    ``hosts``: the names the fake is served under (loopback names are always allowed).
    ``any_ip``: any IP-literal Host is allowed too (a wildcard bind, reached by whatever
    address the machine has; rebinding needs a name, so literals are safe).
    """

    def __init__(self, app: Any, token: str, hosts: Collection[str] = (),
                 any_ip: bool = False, error_class: type[FakeError] | None = None) -> None:
        self.app = app
        self.token = token
        self.hosts = LOOPBACK_NAMES | {h.lower().strip("[]") for h in hosts}
        self.any_ip = any_ip
        self.error_class = error_class

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/_fake"):
            await self.app(scope, receive, send)
            return
        reason = self.refusal(scope)
        if reason is None:
            await self.app(scope, receive, send)
            return
        await error_response(self._error(reason))(scope, receive, send)

    def refusal(self, scope: Any) -> str | None:
        """Why this control-plane request is refused, or None when it may pass."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not self._allowed_host(host_name(host)):
            return f"control plane: Host {host!r} is not a name this fake is served under"
        origin = headers.get("origin")
        if origin is not None and not self._same_origin(origin, scope, host):
            return f"control plane: cross-origin request from {origin!r} refused"
        if not hmac.compare_digest(headers.get(TOKEN_HEADER, "").encode(), self.token.encode()):
            return "control plane: missing or wrong X-Drill-Token (see the env file)"
        return None

    def _allowed_host(self, name: str) -> bool:
        return name in self.hosts or (self.any_ip and _is_ip(name))

    @staticmethod
    def _same_origin(origin: str, scope: Any, host: str) -> bool:
        parts = urlsplit(origin)
        return parts.scheme == scope.get("scheme", "http") and \
            parts.netloc.lower() == host.strip().lower()

    def _error(self, reason: str) -> FakeError:
        if self.error_class is None:
            return Forbidden(reason)
        return self.error_class(reason, status=403)
