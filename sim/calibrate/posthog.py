"""The team's PostHog flag definition, copied into the scenario's ``flag.posthog``.

``GET /api/projects/{project_id}/feature_flags/`` (personal API key as Bearer), paged by
its ``next`` link (posthog.com/docs/api/feature-flags). The flag is the one keyed
``--posthog-flag`` (default: the scenario's ``flag.posthog.key``). It sets
``flag.posthog.key``, ``.active`` and ``.rollout_percentage``: the list's
``rollout_percentage`` for a simple flag, else that of its one release condition
without properties; a flag targeting properties has no single percentage the model can
hold, and is refused. Nothing is fitted: a copied input, cited as such.
"""

from __future__ import annotations

from typing import Any

from sim.calibrate.sentry import Copied, when
from sim.calibrate.sources import MAX_PAGES, Api
from sim.errors import BadInput

FIELD = "flag.posthog"


def posthog_flags(api: Api, project: str) -> list[dict[str, Any]]:
    """Every feature flag of the project, following the ``next`` links."""
    flags: list[dict[str, Any]] = []
    url: str | None = api.base_url.rstrip("/") + f"/api/projects/{project}/feature_flags/"
    params: dict[str, Any] = {"limit": 100}
    for _ in range(MAX_PAGES):
        if not url:
            break
        body = api.get_response(url, params).json()
        flags += list(body.get("results") or [])
        url, params = body.get("next"), {}
    return flags


def pick_flag(flags: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The live flag keyed ``key``; raises BadInput naming the keys when there is none."""
    for flag in flags:
        if flag.get("key") == key and not flag.get("deleted"):
            return flag
    keys = ", ".join(repr(f.get("key")) for f in flags if not f.get("deleted")) or "none"
    raise BadInput(f"posthog: no flag {key!r}; pick one with --posthog-flag KEY "
                   f"(flags: {keys})")


def rollout_of(flag: dict[str, Any]) -> float:
    """The flag's one rollout percentage; raises BadInput when it targets properties."""
    simple = flag.get("rollout_percentage")
    if simple is not None:
        return float(simple)
    groups = (flag.get("filters") or {}).get("groups") or []
    if len(groups) == 1 and not groups[0].get("properties"):
        pct = groups[0].get("rollout_percentage")
        return 100.0 if pct is None else float(pct)
    raise BadInput(f"posthog: flag {flag.get('key')!r} (id {flag.get('id')}) targets "
                   "properties or several conditions; the scenario holds one rollout "
                   "percentage")


def copied_flag(flag: dict[str, Any], project: str) -> Copied:
    """The ``flag.posthog.*`` overrides a PostHog flag definition makes."""
    pairs: list[tuple[str, Any]] = [
        (f"{FIELD}.key", flag.get("key")), (f"{FIELD}.active", bool(flag.get("active"))),
        (f"{FIELD}.rollout_percentage", rollout_of(flag))]
    source = (f"PostHog GET /api/projects/{project}/feature_flags/ flag "
              f"{flag.get('key')!r} (id {flag.get('id')})")
    return Copied(FIELD, pairs, source, when(flag.get("updated_at") or flag.get("created_at"),
                                             f"PostHog flag {flag.get('key')!r}"))
