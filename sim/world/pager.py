"""The on-call side of alerting in a drill: the endpoint Sentry's webhook reaches.

It verifies the signature as a real integration must, records the alert, and wakes the
responder. It is an ASGI app so that the alert travels over HTTP like the real one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rollout.incident.webhooks import verify_sentry_signature


@dataclass
class Pager:
    """Who is told: the webhook secret and the drill's callbacks."""

    secret: str
    on_alert: Callable[[dict[str, Any]], None]
    on_rejected: Callable[[str], None]


def build_pager_app(pager: Pager) -> FastAPI:
    """An app with ``POST /sentry-webhook`` that calls ``pager.on_alert(payload)`` when signed."""
    app = FastAPI(title="drill pager", openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/sentry-webhook")
    async def sentry_webhook(request: Request) -> JSONResponse:
        body = await request.body()
        if not verify_sentry_signature(body, request.headers.get("sentry-hook-signature", ""),
                                       pager.secret):
            pager.on_rejected("bad signature")
            return JSONResponse({"detail": "bad signature"}, status_code=401)
        pager.on_alert(json.loads(body))
        return JSONResponse({"ok": True})

    return app
