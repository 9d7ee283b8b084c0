"""How every vendor client reports an error answer: ``VendorError`` and ``check_response``.

The clients send what the vendors' own tools send (paths, versions, auth headers) and raise
``VendorError`` with the vendor's status and message on any non-2xx answer. The same
code talks to the real services, to ``drill serve`` or, in a drill, to in-process fakes.
"""

from __future__ import annotations

from typing import Any

import httpx


class VendorError(Exception):
    """A vendor API answered with an error status."""

    def __init__(self, vendor: str, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{vendor} {method} {path} -> {status}: {message}")
        self.vendor = vendor
        self.status = status
        self.message = message


def check_response(vendor: str, response: httpx.Response) -> Any:
    """The JSON body of a 2xx answer; raises VendorError with the vendor's message otherwise."""
    if response.is_success:
        return response.json() if response.content else None
    try:
        body = response.json()
    except ValueError:
        body = response.text
    message = body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") or inner.get("detail") or body if isinstance(inner, dict) \
            else inner
    raise VendorError(vendor, response.request.method, response.request.url.path,
                      response.status_code, str(message))
