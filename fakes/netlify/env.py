"""Netlify's environment variables: account-scoped, optionally per site, a value per context.

A variable lives under an account (``/accounts/{id or slug}/env``); with ``site_id`` it
belongs to that site only, without it every site of the account shares it, and a site's
own variable hides a shared one of the same key. Each variable has ``values``, one per
deploy context (``all``, ``production``, ``deploy-preview``, ``branch-deploy``, ``branch``
with a branch name in ``context_parameter``, ``dev``…) and ``scopes`` (``builds`` is the
one a build sees). ``EnvStore`` is pure bookkeeping; the backend validates the account
and site and reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fakes.netlify.errors import NotFound, Unprocessable
from fakes.netlify.models import (
    EnvValue,
    EnvVar,
    check_key,
    check_scopes,
    check_unique_contexts,
    check_value,
    env_for,
)

# What ``all`` stands for, context by context (netlify/cli src/utils/env/index.ts
# SUPPORTED_CONTEXTS without ``all``).
SPLIT_CONTEXTS = ("production", "deploy-preview", "branch-deploy", "dev", "dev-server")
Scope = tuple[str, str | None]  # (account id, site id or None for shared variables)


class EnvStore:
    """Every account's variables; ``new_id`` mints value ids (deterministically)."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        self._vars: dict[Scope, dict[str, EnvVar]] = {}

    def visible(self, account_id: str, site_id: str | None, *,
                context_name: str | None = None, scope: str | None = None) -> list[EnvVar]:
        """What a site sees (shared, then its own, its own winning), or the shared ones;
        only those with a value for ``context_name`` (or ``all``) and in ``scope`` when
        given."""
        shared = self._vars.get((account_id, None), {})
        if site_id is None:
            seen = list(shared.values())
        else:
            seen = list((dict(shared) | self._vars.get((account_id, site_id), {})).values())
        return [v for v in seen if (scope is None or scope in v.scopes)
                and (context_name is None
                     or any(x.context in (context_name, "all") for x in v.values))]

    def lookup(self, account_id: str, site_id: str | None, key: str) -> EnvVar:
        """The variable ``key`` as a site (or the account) sees it; raises NotFound."""
        var = next((v for v in self.visible(account_id, site_id) if v.key == key), None)
        if var is None:
            raise NotFound(f"Environment variable {key} not found")
        return var

    def own(self, account_id: str, site_id: str | None, key: str) -> EnvVar:
        """The variable ``key`` set at exactly this level (site or shared); raises NotFound."""
        var = self._vars.get((account_id, site_id), {}).get(key)
        if var is None:
            raise NotFound(f"Environment variable {key} not found")
        return var

    def create(self, account_id: str, site_id: str | None, items: Iterable[Any],
               now: float) -> list[EnvVar]:
        """Add variables, all or none; raises Unprocessable on a bad item or a taken key."""
        level = self._vars.setdefault((account_id, site_id), {})
        made = [self._parse(item, site_id, now) for item in items]
        keys = [v.key for v in made]
        taken = sorted({k for k in keys if k in level or keys.count(k) > 1})
        if taken:
            raise Unprocessable(f"Environment variable {taken[0]} already exists")
        for var in made:
            level[var.key] = var
        return made

    def replace(self, account_id: str, site_id: str | None, key: str, item: Any,
                now: float) -> EnvVar:
        """PUT: the variable becomes ``item`` (which may rename it); raises NotFound or
        Unprocessable."""
        level = self._vars.get((account_id, site_id), {})
        old = self.own(account_id, site_id, key)
        item = dict(item) if isinstance(item, dict) else item
        if isinstance(item, dict):
            item.setdefault("key", key)
        new = self._parse(item, site_id, now)
        if new.key != key and new.key in level:
            raise Unprocessable(f"Environment variable {new.key} already exists")
        new.created = old.created
        del level[key]
        level[new.key] = new
        return new

    def set_value(self, var: EnvVar, value: Any, context: Any, context_parameter: Any,
                  now: float) -> EnvVar:
        """PATCH: set the value for one context, keeping that value's id when it exists.

        An ``all`` value never sits beside values for deploy contexts: netlify-cli reads a
        variable's value for a context as the first value whose context is ``all`` or that
        context (netlify/cli src/utils/env/index.ts, ``getValueForContext``), so both at
        once would read back the stale ``all``. Setting one context on a variable valued
        for ``all`` splits ``all`` into a value per deploy context first (the contexts
        netlify-cli itself expands ``all`` into: src/commands/env/env-set.ts, secrets);
        setting ``all`` replaces the per-context values. Branch values stay: they are
        overrides, read before ``all``."""
        value, context, parameter = check_value(value, context, context_parameter)
        if context == "all":
            var.values = [v for v in var.values if v.context in ("all", "branch")]
        elif context != "branch":
            self._split_all(var)
        current = next((v for v in var.values
                        if (v.context, v.context_parameter) == (context, parameter)), None)
        if current is None:
            var.values.append(EnvValue(self._new_id(), value, context, parameter))
        else:
            current.value = value
        var.updated = now
        return var

    def _split_all(self, var: EnvVar) -> None:
        """Replace ``var``'s ``all`` value by one value per deploy context."""
        whole = next((v for v in var.values if v.context == "all"), None)
        if whole is None:
            return
        var.values.remove(whole)
        have = {v.context for v in var.values}
        var.values.extend(EnvValue(self._new_id(), whole.value, context, None)
                          for context in SPLIT_CONTEXTS if context not in have)

    def delete(self, account_id: str, site_id: str | None, key: str) -> None:
        """Remove a variable; raises NotFound."""
        self.own(account_id, site_id, key)
        del self._vars[(account_id, site_id)][key]

    def delete_value(self, var: EnvVar, value_id: str, now: float) -> None:
        """Remove one value of a variable; raises NotFound."""
        kept = [v for v in var.values if v.id != value_id]
        if len(kept) == len(var.values):
            raise NotFound(f"Environment variable value {value_id} not found")
        var.values, var.updated = kept, now

    def resolved(self, account_id: str, site_id: str, context: str,
                 branch: str | None = None) -> dict[str, str]:
        """Key → value a build of ``context`` on ``branch`` sees (``builds`` scope only)."""
        return env_for(self.visible(account_id, site_id), context, branch)

    def all(self) -> list[EnvVar]:
        return [v for level in self._vars.values() for v in level.values()]

    def _parse(self, item: Any, site_id: str | None, now: float) -> EnvVar:
        """A new EnvVar from its JSON shape; raises Unprocessable."""
        if not isinstance(item, dict):
            raise Unprocessable("each environment variable must be an object")
        key = check_key(item.get("key"))
        raw_values = item.get("values", [])
        if not isinstance(raw_values, list):
            raise Unprocessable(f"values of {key} must be a list")
        values = [self._parse_value(v) for v in raw_values]
        check_unique_contexts(values)
        is_secret = item.get("is_secret", False)
        if not isinstance(is_secret, bool):
            raise Unprocessable("is_secret must be a boolean")
        return EnvVar(key, check_scopes(item.get("scopes")), values, is_secret, site_id,
                      now, now)

    def _parse_value(self, raw: Any) -> EnvValue:
        if not isinstance(raw, dict):
            raise Unprocessable("each value must be an object")
        value, context, parameter = check_value(raw.get("value"), raw.get("context", "all"),
                                                raw.get("context_parameter"))
        return EnvValue(self._new_id(), value, context, parameter)
