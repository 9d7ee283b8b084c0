"""The Netlify account's records (accounts, sites, deploys, builds) and the ways the API
finds them.

An account is addressed by id or slug; a site by id, name or ``name.netlify.app`` host;
a deploy by id, and through a site only if it is that site's. Lookups raise the vendor's
NotFound. Creation order is kept to break ties between deploys created in the same
instant; ``paginate`` is Netlify's page/per_page pagination.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from fakes.netlify.errors import NotFound, Unprocessable
from fakes.netlify.lifecycle import DeployState
from fakes.netlify.models import DOMAIN, Account, Build, Deploy, Site

T = TypeVar("T")


class Directory:
    """Accounts, sites, deploys and builds by id, with the indexes their lookups need."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.sites: dict[str, Site] = {}
        self.deploys: dict[str, Deploy] = {}
        self.builds: dict[str, Build] = {}
        self._site_names: dict[str, str] = {}
        self._order: dict[str, int] = {}  # creation order, to break ties in time

    def name_taken(self, name: str) -> bool:
        return name in self._site_names

    def add_site(self, site: Site) -> None:
        self.sites[site.id] = site
        self._site_names[site.name] = site.id

    def add_deploy(self, site: Site, dep: Deploy, build: Build) -> None:
        self.deploys[dep.id] = dep
        self.builds[build.id] = build
        self._order[dep.id] = len(self._order)
        site.deploy_ids.append(dep.id)

    def account(self, account_id: str) -> Account:
        """An account by id or slug; raises NotFound."""
        account = self.accounts.get(account_id) or next(
            (a for a in self.accounts.values() if a.slug == account_id), None)
        if account is None:
            raise NotFound(f"Account {account_id} not found")
        return account

    def site(self, site_id: str) -> Site:
        """A site by id, name or ``name.netlify.app`` host (Netlify takes all three)."""
        name = site_id.removesuffix(f".{DOMAIN}")
        sid = site_id if site_id in self.sites else self._site_names.get(name)
        if sid is None:
            raise NotFound(f"Site {site_id} not found")
        return self.sites[sid]

    def deploy(self, deploy_id: str) -> Deploy:
        if deploy_id not in self.deploys:
            raise NotFound(f"Deploy {deploy_id} not found")
        return self.deploys[deploy_id]

    def build(self, build_id: str) -> Build:
        if build_id not in self.builds:
            raise NotFound(f"Build {build_id} not found")
        return self.builds[build_id]

    def branch_head(self, site: Site, branch: str) -> Deploy | None:
        """The site's latest deploy of ``branch``, whose source a new build checks out."""
        return next((d for d in self.newest_first(site.deploy_ids) if d.branch == branch),
                    None)

    def deploy_of(self, site: Site, deploy_id: str) -> Deploy:
        """A deploy of ``site``; raises NotFound, also for another site's deploy."""
        dep = self.deploy(deploy_id)
        if dep.site_id != site.id:
            raise NotFound(f"Deploy {deploy_id} not found on site {site.name}")
        return dep

    def env_scope(self, account_id: str, site_id: str | None) -> tuple[str, str | None]:
        """(account id, site id) for the env store; raises NotFound."""
        account = self.account(account_id)
        if site_id is None:
            return account.id, None
        site = self.site(site_id)
        if site.account_id != account.id:
            raise NotFound(f"Site {site_id} not found in account {account.slug}")
        return account.id, site.id

    def newest_first(self, deploy_ids: Iterable[str]) -> list[Deploy]:
        deploys = [self.deploys[i] for i in deploy_ids]
        deploys.sort(key=lambda d: (d.created, self._order[d.id]), reverse=True)
        return deploys


def paginate(items: list[T], page: int, per_page: int) -> list[T]:
    """Netlify's page/per_page pagination (1-based pages, at most 100 per page)."""
    per_page = min(max(1, per_page), 100)
    start = (max(1, page) - 1) * per_page
    return items[start:start + per_page]


def parse_state(state: str | None) -> DeployState | None:
    """The deploy state a listing filters on; raises Unprocessable for an unknown one."""
    if state is None:
        return None
    try:
        return DeployState(state)
    except ValueError:
        raise Unprocessable(f"unknown deploy state {state!r}") from None
