"""Netlify's extension API (``https://api.netlifysdk.com``), the part netlify-cli asks.

Every netlify-cli command that resolves the site's config lists the site's installed
extensions first (@netlify/config ``lib/api/site_info.js``, ``getExtensions``:
``GET {base}/team/{account_id}/integrations/installations/meta/{site_id}``, or
``GET {base}/site/{site_id}/integrations/safe`` without an account), with no token; a
failure there makes the CLI fall back to offline config, without the site's account,
and ``env:set`` then fails ("Missing required path variable 'account_id'"). The drill's
sites have no extensions installed: the answer is an empty list, or a 404 for a site
the fake does not know. The fake serves this host's paths beside the REST API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fakes.netlify.backend import NetlifyBackend


def extension_router(backend: NetlifyBackend) -> APIRouter:
    """The two extension listings, both empty for a known site."""
    router = APIRouter()

    @router.get("/team/{account_id}/integrations/installations/meta/{site_id}")
    async def list_team_site_extensions(account_id: str, site_id: str) -> list[Any]:
        backend.get_account(account_id)
        backend.get_site(site_id)
        return []

    @router.get("/site/{site_id}/integrations/safe")
    async def list_site_extensions(site_id: str) -> list[Any]:
        backend.get_site(site_id)
        return []

    return router
