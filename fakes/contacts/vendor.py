"""The Contacts app the users hit, serving what the runbook's world serves now (the
start's ``serving``: the live build and the remote flag)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fakes.common.descriptor import Start, Vendor
from fakes.contacts.backend import ContactsBackend

if TYPE_CHECKING:
    from fastapi import FastAPI


def create(start: Start) -> ContactsBackend:
    """Raises ValueError when the start says nothing of what production serves."""
    serving = start.serving
    if serving is None:
        raise ValueError("the Contacts app needs the world it serves (Start.serving)")
    return ContactsBackend(start.clock, serving.flag_mode, serving.live_build,
                           serving.remote_flag, serving.internal_ids)


def app(backend: ContactsBackend, live: bool) -> FastAPI:
    from fakes.contacts.router import build_app

    return build_app(backend)


def env(contacts: ContactsBackend, url: str) -> dict[str, str]:
    return {"CONTACTS_APP_URL": url}


CONTACTS = Vendor("contacts", create, app, env)
