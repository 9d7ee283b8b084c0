"""Fake Statuspage: the app's status page with its Contacts component."""

from __future__ import annotations

from fakes.common.descriptor import Start, Vendor
from fakes.statuspage.backend import StatuspageBackend


def create(start: Start) -> StatuspageBackend:
    return StatuspageBackend(start.clock)


def env(sp: StatuspageBackend, url: str) -> dict[str, str]:
    return {"STATUSPAGE_API_URL": url + "/v1", "STATUSPAGE_API_KEY": sp.api_key,
            "STATUSPAGE_PAGE_ID": sp.default_page_id}


STATUSPAGE = Vendor("statuspage", create, env)
