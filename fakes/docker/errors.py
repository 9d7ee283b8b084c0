"""Docker Engine errors: small classes carrying their status, in Docker's body shape.

The Engine API answers every error as ``{"message": "..."}``; the docker CLI prints
``Error response from daemon: <message>``. ``fakes.common.app.make_app`` turns any of
these into a response.

    DockerError (400)          invalid parameter, malformed body, unsupported API version
    ├── NotModified     304    start a started container, stop a stopped one (no body)
    ├── Forbidden       403    remove a network that still has active endpoints
    ├── NotFound        404    no such container / image / network, page not found
    │   └── ManifestUnknown 404  the registry has no such tag (or repository)
    ├── Conflict        409    name in use, remove a running container without force
    └── ServerError     500    what the daemon itself failed at (port already allocated)
"""

from __future__ import annotations

from typing import Any

from fakes.common.errors import FakeError


class DockerError(FakeError):
    """Base of every Engine error; its body is Docker's ``{"message": ...}``."""

    status = 400
    code = "invalid_parameter"

    def body(self) -> Any:
        return {"message": self.message}


class NotModified(DockerError):
    """Docker's 304: the container already is in the asked state; the CLI treats it as ok."""

    status = 304
    code = "not_modified"

    def body(self) -> Any:
        return ""  # a 304 carries no body


class Forbidden(DockerError):
    status = 403
    code = "forbidden"


class NotFound(DockerError):
    status = 404
    code = "not_found"


class ManifestUnknown(NotFound):
    """The registry has no manifest for ``repository:tag``."""

    code = "manifest_unknown"


class Conflict(DockerError):
    status = 409
    code = "conflict"


class ServerError(DockerError):
    status = 500
    code = "system"


def no_such_container(ref: str) -> NotFound:
    return NotFound(f"No such container: {ref}")


def no_such_image(ref: str) -> NotFound:
    return NotFound(f"No such image: {ref}")


def no_such_network(ref: str) -> NotFound:
    return NotFound(f"network {ref} not found")
