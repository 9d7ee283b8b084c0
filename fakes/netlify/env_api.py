"""The env var endpoints of the fake Netlify, over the backend's ``EnvStore``.

``EnvVarAPI`` is mixed into ``NetlifyBackend``: each method checks the account (and
site) through the directory, applies what fell due (``_advance``) and hands the
bookkeeping to ``env.EnvStore``. Only builds started after a change see it: running
and finished builds keep the env they baked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fakes.common.clock import Clock
from fakes.netlify.directory import Directory
from fakes.netlify.env import EnvStore
from fakes.netlify.models import EnvVar


class EnvVarAPI:
    """getEnvVars, createEnvVars, getEnvVar, updateEnvVar, setEnvVarValue, deletes."""

    clock: Clock
    directory: Directory
    env_vars: EnvStore

    def _advance(self) -> None:
        raise NotImplementedError

    def get_env_vars(self, account_id: str, *, site_id: str | None = None,
                     context_name: str | None = None, scope: str | None = None) -> list[EnvVar]:
        """Variables a site sees (or the account's shared ones), optionally only those
        with a value for ``context_name`` (or ``all``) and in ``scope``; raises NotFound."""
        self._advance()
        return self.env_vars.visible(*self.directory.env_scope(account_id, site_id),
                                     context_name=context_name, scope=scope)

    def create_env_vars(self, account_id: str, env_vars: Iterable[Any], *,
                        site_id: str | None = None) -> list[EnvVar]:
        """Add variables given in Netlify's JSON shape (``key, scopes, values, is_secret``),
        all or none; raises NotFound or Unprocessable (bad field, key already set)."""
        self._advance()
        return self.env_vars.create(*self.directory.env_scope(account_id, site_id), env_vars,
                                    self.clock.now())

    def get_env_var(self, account_id: str, key: str, *,
                    site_id: str | None = None) -> EnvVar:
        self._advance()
        return self.env_vars.lookup(*self.directory.env_scope(account_id, site_id), key)

    def update_env_var(self, account_id: str, key: str, env_var: Any, *,
                       site_id: str | None = None) -> EnvVar:
        """Replace a whole variable (PUT); raises NotFound or Unprocessable."""
        self._advance()
        return self.env_vars.replace(*self.directory.env_scope(account_id, site_id), key,
                                     env_var, self.clock.now())

    def set_env_var_value(self, account_id: str, key: str, *, value: Any,
                          context: Any = "all", context_parameter: Any = None,
                          site_id: str | None = None) -> EnvVar:
        """Set a variable's value for one context (PATCH); raises NotFound or Unprocessable.

        The variable must exist at that level (the site's own one when ``site_id`` is
        given, a shared one otherwise). Only builds started after this see the value:
        running and finished builds keep theirs.
        """
        self._advance()
        var = self.env_vars.own(*self.directory.env_scope(account_id, site_id), key)
        return self.env_vars.set_value(var, value, context, context_parameter, self.clock.now())

    def delete_env_var(self, account_id: str, key: str, *, site_id: str | None = None) -> None:
        """Remove a variable; raises NotFound."""
        self._advance()
        self.env_vars.delete(*self.directory.env_scope(account_id, site_id), key)

    def delete_env_var_value(self, account_id: str, key: str, value_id: str, *,
                             site_id: str | None = None) -> None:
        """Remove one value of a variable; raises NotFound."""
        self._advance()
        var = self.env_vars.own(*self.directory.env_scope(account_id, site_id), key)
        self.env_vars.delete_value(var, value_id, self.clock.now())

    def site_env(self, site_id: str, context: str = "production",
                 branch: str | None = None) -> dict[str, str]:
        """Key → value of the variables a build of ``context`` would bake in now."""
        self._advance()
        site = self.directory.site(site_id)
        return self.env_vars.resolved(site.account_id, site.id, context, branch)
