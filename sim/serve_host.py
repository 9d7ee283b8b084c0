"""Where ``drill serve`` listens, and what that exposes.

On loopback (the default) only this machine reaches the fakes. Any other ``--host``
puts fakes that accept well-known demo credentials on a network: ``drill serve`` then
warns loudly on stderr, replaces every credential with one derived from a per-serve
random secret (``fresh_credentials``), and the names the fakes answer to, the address
the env file points at and the TLS certificate's names follow the host given (a
wildcard bind, ``0.0.0.0`` or ``::``, is reached by the machine's primary address).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from typing import Any

from fakes.common.guard import LOOPBACK_NAMES, WILDCARDS


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def advertised(host: str) -> str:
    """The address clients are pointed at: ``host``, or for a wildcard bind the primary
    address (the one a route to the outside leaves from; 127.0.0.1 when there is none)."""
    if host not in WILDCARDS:
        return host
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent by a UDP connect
        return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def served_names(host: str) -> list[str]:
    """The Host names the fakes answer their control plane under, besides loopback."""
    names = {host, advertised(host)}
    if not is_loopback(host):
        names |= {socket.gethostname(), socket.getfqdn()}
    return sorted(n for n in names if n and n not in WILDCARDS)


def warning(host: str) -> str:
    """The stderr warning for a non-loopback ``--host``."""
    return (f"drill serve: WARNING: listening on {host}, not loopback: anyone who can "
            "reach this machine can call the fakes. Fresh random API credentials "
            "(Vercel, Netlify, PostHog, Sentry, Statuspage, Pulse), the Slack webhook URL "
            "and bot token, the PagerDuty routing key and the control-plane token are in "
            "the env file, "
            "new at every start. Share it with care; stop the fakes (Ctrl-C) when done.")


def derive(secret: bytes, label: str, length: int = 32) -> str:
    """``length`` hex digits of HMAC-SHA256(``secret``, ``label``): one credential per
    label, each unguessable without the per-serve secret and unrelated to the others."""
    return hmac.new(secret, label.encode(), hashlib.sha256).hexdigest()[:length]


def fresh_credentials(name: str, backend: Any, secret: bytes) -> bool:
    """Replace the well-known demo credentials of vendor ``name``'s ``backend`` with ones
    derived from ``secret`` (``drill serve``'s per-serve random secret; the env file then
    carries these): API tokens and keys, the Slack webhook URL's secret and bot token, the
    PagerDuty routing key. False for a vendor that takes no credentials."""
    def key(label: str, length: int = 32) -> str:
        return derive(secret, f"{name}/{label}", length)

    if name in ("vercel", "netlify"):
        backend.token = f"drill_{name}_{key('token')}"
    elif name == "posthog":
        backend.project_api_key = f"phc_{key('project_api_key')}"
        backend.personal_api_key = f"phx_{key('personal_api_key')}"
    elif name == "sentry":
        backend.auth_token, backend.public_key = f"sntrys_{key('auth_token')}", key("dsn")
    elif name == "statuspage":
        backend.api_key = key("api_key")
    elif name == "pulse":
        backend.api_keys = frozenset({f"pulse_{key('api_key')}"})
    elif name == "slack":
        backend.rekey(key("webhook"))
        backend.bot_token = f"xoxb-{key('bot_token')}"
    elif name == "pagerduty":
        backend.rekey(key("routing_key"))  # 32 hex digits: the form PagerDuty accepts
    else:
        return False
    return True
