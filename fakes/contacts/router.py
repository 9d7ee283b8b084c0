"""HTTP face of the Contacts app: ``GET /contacts``, ``GET /health``, ``/_fake/state``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from fakes.common.app import make_app
from fakes.common.control import state_router
from fakes.common.errors import FakeError, InvalidRequest
from fakes.contacts.backend import ContactsBackend


class ContactsError(FakeError):
    """The app's own errors: ``{"error": message}``."""

    def body(self) -> Any:
        return {"error": self.message}


def build_router(backend: ContactsBackend) -> APIRouter:
    router = APIRouter()

    @router.get("/contacts")
    async def get_contacts_page(user_id: str = "") -> dict[str, Any]:
        if len(user_id) > 256:
            raise InvalidRequest("user_id is too long")
        return backend.get_contacts_page(user_id)

    @router.get("/health")
    async def get_health() -> dict[str, Any]:
        return backend.get_health()
    router.include_router(state_router(backend))

    return router


def build_app(backend: ContactsBackend) -> FastAPI:
    app = make_app("Contacts app (fake)", ContactsError)
    app.include_router(build_router(backend))
    return app
