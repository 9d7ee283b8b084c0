"""How much a fake reads: request bodies and what they decompress to are bounded.

Real vendors refuse oversized payloads (PostHog's capture has an event payload size
limit, Sentry an envelope limit); a fake that read everything would let one request (a
398 KiB gzip body that expands to 400 MiB) take the whole of ``drill serve``'s memory.
The bounds are generous against any real client's payload and far below what hurts:

- ``MAX_BODY`` (20 MiB): the body as sent. ``BodyLimit`` answers 413 before the route
  runs, from ``Content-Length`` when given, else as soon as the streamed body passes it.
- ``MAX_DECODED`` (100 MiB): the body with its ``Content-Encoding`` undone.
  ``decompress`` inflates in ``CHUNK`` steps and stops past the bound, so the refusal
  costs at most the bound plus a chunk, never the bomb's full size.

Both refusals are 413 in the vendor's error shape.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

from fakes.common.errors import FakeError
from fakes.common.responses import error_response

MAX_BODY = 20 * 1024 * 1024
MAX_DECODED = 100 * 1024 * 1024
CHUNK = 1024 * 1024


class TooLarge(ValueError):
    """A body, or what it decompresses to, is over its bound."""


def decompress(raw: bytes, encoding: str, limit: int = MAX_DECODED) -> bytes:
    """``raw`` with ``encoding`` (gzip, deflate, br, zstd) undone, at most ``limit``
    bytes of it; raises TooLarge past that, the codec's own error when it does not
    decode."""
    if encoding in ("gzip", "x-gzip"):
        return _inflate(raw, 16 + zlib.MAX_WBITS, limit)
    if encoding == "deflate":
        try:
            return _inflate(raw, zlib.MAX_WBITS, limit)
        except zlib.error:  # raw deflate without the zlib header, as some clients send
            return _inflate(raw, -zlib.MAX_WBITS, limit)
    if encoding == "br":
        return _unbrotli(raw, limit)
    if encoding == "zstd":
        return _unzstd(raw, limit)
    raise ValueError(f"no decompressor for {encoding!r}")


def _inflate(raw: bytes, wbits: int, limit: int) -> bytes:
    """zlib/gzip/deflate in bounded steps; gzip members one after another, like
    ``gzip.decompress``."""
    out = bytearray()
    data = raw
    while data:
        d = zlib.decompressobj(wbits)
        while data and not d.eof:
            out += d.decompress(data, CHUNK)
            data = d.unconsumed_tail
            _check(len(out), limit)
        if not d.eof:
            raise zlib.error("incomplete or truncated stream")
        data = d.unused_data if wbits > zlib.MAX_WBITS else b""
    return bytes(out)


def _unbrotli(raw: bytes, limit: int) -> bytes:
    import brotli  # optional: installed with the 'test' extra and by drill serve users

    d = brotli.Decompressor()
    out = bytearray(d.process(raw, output_buffer_limit=CHUNK))
    _check(len(out), limit)
    while not d.is_finished():
        more = d.process(b"", output_buffer_limit=CHUNK)
        if not more:
            raise brotli.error("incomplete or truncated stream")
        out += more
        _check(len(out), limit)
    return bytes(out)


def _unzstd(raw: bytes, limit: int) -> bytes:
    # posthog-python's capture_compression='zstd' (posthog/capture_v1.py)
    import zstandard  # a project dependency (pyproject.toml)

    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw),
                                                        read_across_frames=True)
    out = bytearray()
    while chunk := reader.read(CHUNK):
        out += chunk
        _check(len(out), limit)
    return bytes(out)


def _check(size: int, limit: int) -> None:
    if size > limit:
        raise TooLarge(f"the decompressed body is over the {limit // (1024 * 1024)} MiB limit")


class BodyLimit:
    """ASGI middleware: a body over ``limit`` bytes is a 413 in the vendor's shape
    (``error_class``) before the route sees it; smaller bodies are replayed unchanged."""

    def __init__(self, app: Any, error_class: type[FakeError], limit: int = MAX_BODY) -> None:
        self.app = app
        self.error_class = error_class
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.strip().isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        body, more, first = bytearray(), True, None
        while more:
            message = await receive()
            if message["type"] != "http.request":
                first = message
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
        await self.app(scope, replay(bytes(body), first, receive), send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        mib = self.limit // (1024 * 1024)
        error = self.error_class(f"request body over the {mib} MiB limit", status=413)
        await error_response(error)(scope, receive, send)


def replay(body: bytes, first: Any, receive: Any) -> Any:
    """A ``receive`` that hands out the buffered body once, then defers to the real one."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return first if first is not None else \
                {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
