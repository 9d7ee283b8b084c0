"""The Contacts app the users hit, serving what the runbook's world serves now (the
start's ``serving``: the live build and the remote flag)."""

from __future__ import annotations

from fakes.common.descriptor import Start, Vendor
from fakes.contacts.backend import ContactsBackend


def create(start: Start) -> ContactsBackend:
    """Raises ValueError when the start says nothing of what production serves."""
    serving = start.serving
    if serving is None:
        raise ValueError("the Contacts app needs the world it serves (Start.serving)")
    return ContactsBackend(start.clock, serving.flag_mode, serving.live_build,
                           serving.remote_flag, serving.internal_ids)


def env(contacts: ContactsBackend, url: str) -> dict[str, str]:
    return {"CONTACTS_APP_URL": url}


CONTACTS = Vendor("contacts", create, env)
