"""Where ``drill serve`` listens, and what that exposes.

On loopback (the default) only this machine reaches the fakes. Any other ``--host``
puts fakes that accept well-known demo credentials on a network: ``drill serve`` then
warns loudly on stderr, and the names the fakes answer to, the address the env file
points at and the TLS certificate's names follow the host given (a wildcard bind,
``0.0.0.0`` or ``::``, is reached by the machine's primary address).
"""

from __future__ import annotations

import ipaddress
import socket

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
            "reach this machine can call the fakes. Fresh random credentials and a "
            "control-plane token are in the env file; share it with care, and stop the "
            "fakes (Ctrl-C) when the rehearsal is over.")
