"""Statuspage's form-encoded bodies: Rails-style nested parameters.

Statuspage's API reference gives every write as ``curl -d "incident[name]=…" -d
"incident[status]=investigating" -d "incident[component_ids][]=…"``
(https://developer.statuspage.io/, e.g. "Create an incident"), which curl sends as
``application/x-www-form-urlencoded``; Statuspage is a Rails app and reads these the
way Rails nests parameters: ``a[b]=v`` is ``{"a": {"b": "v"}}``, ``a[b][]=v`` appends
``v`` to the list ``a.b``. ``read_fields`` gives a JSON body or such a form as the same
nested object, so a handler reads either. Form values are strings; ``form_bool`` reads
one as Rails casts a boolean (``"false"``, ``"0"``, ``"off"``, ``""`` are false).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from fakes.common.app import read_body, read_json
from fakes.common.errors import FakeError
from fakes.statuspage.errors import BadRequest

FORM = "application/x-www-form-urlencoded"
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_FALSE = {"false", "0", "off", "f", "no", ""}


async def read_fields(request: Request) -> Any:
    """The body as an object: JSON, or a Rails-style form; raises BadRequest."""
    if not request.headers.get("content-type", "").lower().startswith(FORM):
        return await read_json(request, BadRequest)
    try:
        raw = await read_body(request)
        pairs = parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=bool(raw))
    except FakeError as exc:
        raise BadRequest(exc.message, status=exc.status) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"malformed form body: {exc}") from exc
    return nest(pairs)


def nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``[("incident[name]", "x"), ("incident[component_ids][]", "c1")]`` →
    ``{"incident": {"name": "x", "component_ids": ["c1"]}}``; raises BadRequest."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise BadRequest(f"malformed parameter name {key!r}")
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _put(out, path, value, key)
    return out


def _put(node: dict[str, Any], path: list[str], value: str, key: str) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        node[head] = value
    elif rest == [""]:
        if not isinstance(node.setdefault(head, []), list):
            raise BadRequest(f"parameter {key!r} mixes a list and a value")
        node[head].append(value)
    else:
        child = node.setdefault(head, {})
        if not isinstance(child, dict):
            raise BadRequest(f"parameter {key!r} mixes an object and a value")
        _put(child, rest, value, key)


def form_bool(value: Any, default: bool = True) -> bool:
    """A boolean field from JSON (a bool) or a form (a string), as Rails casts it."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE
    return bool(value)
