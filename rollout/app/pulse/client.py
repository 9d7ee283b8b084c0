"""The Pulse REST client the app runs: ``PulseContactService`` (``pulseContactService``).

It makes the calls the app makes (``GET /v1/contacts``, ``/v1/contacts/{id}``,
``/v1/account``). It never raises on an HTTP answer and never sleeps: every call returns
a ``Reply`` holding the value or a ``Failure`` saying what went wrong and whether, and
after how long, to retry (a 429's ``Retry-After``; a 504's ``X-Pulse-Simulated-Latency``,
the time the call hung, which a drill charges to its clock). A 200 whose body does not
parse is a ``malformed`` failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

T = TypeVar("T")
RETRYABLE = frozenset({"rate_limit", "api", "timeout", "transport", "malformed"})
API_KINDS = RETRYABLE | {"auth", "not_found", "invalid_request"}


@dataclass(frozen=True)
class Failure:
    """Why a call failed: ``kind`` is one of ``API_KINDS``; ``latency`` the seconds it hung."""

    kind: str
    message: str
    status: int | None = None
    retry_after: float | None = None
    latency: float = 0.0

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


@dataclass(frozen=True)
class Reply(Generic[T]):
    """One call's outcome: ``value`` when it worked, else ``failure``."""

    value: T | None
    failure: Failure | None
    status: int | None
    request_id: str | None


@dataclass(frozen=True)
class Page:
    """One page of ``GET /v1/contacts``: raw records, and where the next page starts."""

    records: list[Any]
    has_more: bool
    next_cursor: str | None


@dataclass(frozen=True)
class ConnectionCheck:
    """``testConnection()``'s answer. ``latency`` is the virtual time the call hung (a
    timed-out call), never a wall-clock measurement."""

    ok: bool
    status: int | None
    error: str | None = None
    latency: float = 0.0
    contacts_count: int | None = None
    notes: tuple[str, ...] = ()


class PulseContactService:
    """Pulse's REST API over a synchronous ``httpx.Client``; ``base_url`` with or without
    ``/v1``. ``timeout`` caps each call (and the time a hung call is charged)."""

    def __init__(self, http: httpx.Client, base_url: str, api_key: str,
                 timeout: float = 30.0) -> None:
        root = base_url.rstrip("/")
        self.http, self.timeout = http, timeout
        self.api = root if root.endswith("/v1") else root + "/v1"
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    def list_contacts(self, updated_since: str | None = None, limit: int = 200,
                      cursor: str | None = None) -> Reply[Page]:
        """One page of contacts with ``updated_at >= updated_since``, or from ``cursor``."""
        params = {"limit": limit} | ({"cursor": cursor} if cursor else
                                     {"updated_since": updated_since} if updated_since else {})
        return self._get("/contacts", params, _page)

    def get_contact(self, contact_id: str) -> Reply[dict[str, Any]]:
        return self._get(f"/contacts/{contact_id}", {}, _object)

    def get_account(self) -> Reply[dict[str, Any]]:
        return self._get("/account", {}, _account)

    def test_connection(self) -> ConnectionCheck:
        """``GET /v1/account``: proves the key and reachability, reports ``contacts_count``."""
        reply = self.get_account()
        if reply.failure is not None:
            return ConnectionCheck(False, reply.status,
                                   f"{reply.failure.kind}: {reply.failure.message}",
                                   reply.failure.latency)
        account = reply.value or {}
        limits = account.get("rate_limit") or {}
        notes = (f"account {account.get('id')} ({account.get('name')}), plan "
                 f"{account.get('plan')}, API {account.get('api_version')}",
                 f"rate limit: {limits.get('remaining')} of {limits.get('limit')} left")
        return ConnectionCheck(True, reply.status, None, 0.0, account["contacts_count"], notes)

    def _get(self, path: str, params: dict[str, Any],
             parse: Callable[[Any], T]) -> Reply[T]:
        try:
            response = self.http.get(self.api + path, params=params, headers=self._headers,
                                     timeout=self.timeout)
        except httpx.TimeoutException as exc:  # real time already passed: nothing to charge
            return Reply(None, Failure("timeout", f"no answer in {self.timeout:g}s: {exc}"),
                         None, None)
        except httpx.HTTPError as exc:
            return Reply(None, Failure("transport", str(exc) or type(exc).__name__), None, None)
        request_id = response.headers.get("X-Request-Id")
        if not response.is_success:
            return Reply(None, self._failure(response), response.status_code, request_id)
        try:
            value = parse(json.loads(response.content))
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            failure = Failure("malformed", f"unusable body ({len(response.content)} bytes): {exc}",
                              response.status_code)
            return Reply(None, failure, response.status_code, request_id)
        return Reply(value, None, response.status_code, request_id)

    def _failure(self, response: httpx.Response) -> Failure:
        status, headers = response.status_code, response.headers
        message = _error_message(response)
        if status == 429:
            wait = _seconds(headers.get("Retry-After"))
            return Failure("rate_limit", message, status, 1.0 if wait is None else wait)
        if status == 504:
            hung = _seconds(headers.get("X-Pulse-Simulated-Latency")) or 0.0
            return Failure("timeout", message, status, latency=min(hung, self.timeout))
        if status >= 500:
            return Failure("api", message, status, _seconds(headers.get("Retry-After")))
        kind = {401: "auth", 403: "auth", 404: "not_found"}.get(status, "invalid_request")
        return Failure(kind, message, status)


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return f"{error.get('type')}: {error.get('message')}"
    except (ValueError, AttributeError):
        return response.text[:200] or f"HTTP {response.status_code}"


def _seconds(text: str | None) -> float | None:
    try:
        return max(0.0, float(text)) if text is not None else None
    except ValueError:  # an HTTP-date Retry-After: not worth honouring exactly
        return None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {type(body).__name__}")
    return body


def _page(body: Any) -> Page:
    body = _object(body)
    data, has_more, cursor = body.get("data"), body.get("has_more"), body.get("next_cursor")
    if not isinstance(data, list) or not isinstance(has_more, bool):
        raise ValueError("not a list object: 'data' must be an array, 'has_more' a boolean")
    if has_more and not (isinstance(cursor, str) and cursor):
        raise ValueError("'has_more' is true but there is no 'next_cursor'")
    return Page(data, has_more, cursor if has_more else None)


def _account(body: Any) -> dict[str, Any]:
    body = _object(body)
    count = body.get("contacts_count")
    if isinstance(count, bool) or not isinstance(count, int):
        raise ValueError("the account has no integer 'contacts_count'")
    return body
