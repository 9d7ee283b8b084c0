"""The fake Netlify's state: a user, accounts, env vars, sites, deploys, what is published.

A pure state machine over an injected clock; no HTTP here (``router.py`` is the HTTP
face). Deploys follow the transition table in ``lifecycle.py``: one created at t, with
queue time q and build time d (both drawn from injected samplers), is ``enqueued`` at t,
``building`` at t+q and ``ready`` (or ``error``) at t+q+d. Every public method first
calls ``_advance()``, which applies every transition due by now in time order, so the
published deploy changes at the exact virtual time even when nobody looked in between.
The records live in ``models.py`` and are found through ``directory.py``; a deploy's
build steps are in ``builds.py``, what a site publishes in ``publishing.py``, the env
var bookkeeping in ``env.py`` (its endpoints in ``env_api.py``, mixed in).

Truths the drill rests on:

- A deploy bakes the env of its context when its build starts (Vite inlines
  ``import.meta.env.VITE_*`` at build time); changing a variable changes nothing served
  until a new build is ready and published.
- A ready production deploy is published at once, unless auto publishing is stopped:
  a locked deploy ("Stop auto publishing") holds the site until it is unlocked, and
  unlocking publishes nothing by itself.
- Restore (publish an older deploy) and rollback (re-publish the previously published
  one) swap what is served without a build, ``publish_propagation`` seconds after the
  request. They do not lock: with auto publishing on, the next production build
  overwrites them, as Netlify's docs warn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from fakes.common.builds import Seconds, build_timeline, seconds
from fakes.common.clock import Clock
from fakes.netlify import publishing
from fakes.netlify.builds import BUILD_FAILED, CANCELED, move, new_deploy
from fakes.netlify.directory import Directory, paginate, parse_state
from fakes.netlify.env import EnvStore
from fakes.netlify.env_api import EnvVarAPI
from fakes.netlify.errors import NotFound, Unauthorized, Unprocessable
from fakes.netlify.file_deploys import FileDigest, parse_digest
from fakes.netlify.lifecycle import DeployState, Due, Schedule, can_fire
from fakes.netlify.models import (
    Account,
    Build,
    Deploy,
    Site,
    User,
    check_context,
    finite,
    hex_id,
    uuid_id,
)


class NetlifyBackend(EnvVarAPI):
    """The fake Netlify: one user, the account ``drill``, its sites, deploys and env vars.

    ``build_time``, ``queue_time`` and ``build_fails`` are samplers (seeded by the caller),
    drawn once per new build; ``publish_propagation`` is how long a restore or rollback
    takes to be served: seconds, or a sampler drawn once per publish.
    ``file_processing_time`` is how long a file-digest deploy (``netlify deploy --dir``)
    takes from its last file to ``ready``: Netlify documents no figure, so it is an input
    (default 1 s); no drill deploys this way.

    Returned records are the live objects, current as of the last call into the backend:
    read ``get_deploy(id).state`` again rather than keeping an old ``state``.
    """

    def __init__(self, clock: Clock, token: str = "drill_token",
                 build_time: Callable[[], float] = lambda: 60.0,
                 queue_time: Callable[[], float] = lambda: 0.0,
                 publish_propagation: Seconds = 2.0,
                 build_fails: Callable[[], bool] = lambda: False,
                 file_processing_time: Seconds = 1.0) -> None:
        self.clock = clock
        self.token = token
        self.build_time = build_time
        self.queue_time = queue_time
        self.publish_propagation = publish_propagation
        self.build_fails = build_fails
        self.file_processing_time = file_processing_time
        self.reset()

    # ---- control plane -------------------------------------------------------------

    def reset(self) -> None:
        """Forget every site, deploy and variable; ids start over, so runs repeat exactly."""
        self._counters: Counter[str] = Counter()
        self._schedule = Schedule()
        self.user = User(hex_id("user:1"), "drill@example.com", "Drill Runner", 0.0)
        self.directory = Directory()
        self.env_vars = EnvStore(lambda: uuid_id(self._next("env-value")))
        self._digests: dict[str, FileDigest] = {}
        self.create_account("drill", "Drill")

    def state(self) -> dict[str, Any]:
        """Everything, JSON-ready, for ``/_fake/state`` and for debugging a drill."""
        self._advance()
        return {
            "now": self.clock.now(),
            "user": asdict(self.user),
            "accounts": [asdict(a) for a in self.directory.accounts.values()],
            "sites": [asdict(s) | {"published_since": finite(s.published_since),
                                   "auto_publishing": s.auto_publishing}
                      for s in self.directory.sites.values()],
            "deploys": [asdict(d) for d in self.directory.deploys.values()],
            "env": [asdict(v) for v in self.env_vars.all()],
            "pending": [{"at": d.at, "event": d.event, "subject": d.subject}
                        for d in self._schedule.pending()],
        }

    def next_transition_at(self) -> float | None:
        """Virtual time of the next scheduled transition, or None when nothing is pending."""
        self._advance()
        return self._schedule.next_at()

    # ---- user and accounts ---------------------------------------------------------

    def authenticate(self, token: str | None) -> User:
        """The user a bearer token belongs to; raises Unauthorized for any other token."""
        if token != self.token:
            raise Unauthorized()
        return self.user

    def get_current_user(self) -> User:
        return self.user

    def create_account(self, slug: str, name: str | None = None) -> Account:
        """A new account (team); raises Unprocessable when the slug is taken."""
        self._advance()
        if any(a.slug == slug for a in self.directory.accounts.values()):
            raise Unprocessable(f"Account {slug} already exists")
        account = Account(hex_id(self._next("account")), slug, name or slug, self.clock.now())
        self.directory.accounts[account.id] = account
        return account

    def list_accounts_for_user(self) -> list[Account]:
        self._advance()
        return list(self.directory.accounts.values())

    def get_account(self, account_id: str) -> Account:
        """An account by id or slug; raises NotFound."""
        self._advance()
        return self.directory.account(account_id)

    # ---- sites ---------------------------------------------------------------------

    def create_site(self, name: str, account_slug: str = "drill",
                    repo_branch: str = "main") -> Site:
        """A new site in an account; raises NotFound (account) or Unprocessable (name)."""
        self._advance()
        account = self.directory.account(account_slug)
        if not name or self.directory.name_taken(name):
            raise Unprocessable(f"Site name {name!r} is taken or empty")
        now = self.clock.now()
        site = Site(uuid_id(self._next("site")), name, account.id, now, now, repo_branch)
        self.directory.add_site(site)
        return site

    def get_site(self, site_id: str) -> Site:
        """A site by id or name; raises NotFound."""
        self._advance()
        return self.directory.site(site_id)

    def list_sites(self, name: str | None = None, page: int = 1,
                   per_page: int = 100) -> list[Site]:
        """Sites oldest first, those whose name contains ``name`` when given."""
        self._advance()
        picked = [s for s in self.directory.sites.values() if name is None or name in s.name]
        return paginate(picked, page, per_page)

    # ---- deploys and builds --------------------------------------------------------

    def create_deploy(self, site_id: str, *, context: str = "production", branch: str = "main",
                      commit_ref: str | None = None, title: str | None = None,
                      meta: dict[str, Any] | None = None, ready_at: float | None = None,
                      publish: bool = True) -> Deploy:
        """Start a build; a production deploy is published when ready unless ``publish``
        is False (a draft) or auto publishing is stopped.

        ``ready_at`` seeds a deploy whose build ends then (usually <= 0, already ready)
        without drawing from the samplers. Raises NotFound or Unprocessable.
        """
        self._advance()
        site = self.directory.site(site_id)
        context = check_context(context)
        timeline = build_timeline(self.clock.now(), ready_at, self.queue_time,
                                  self.build_time, self.build_fails)
        dep, build = new_deploy(site, hex_id(self._next("deploy")), hex_id(self._next("build")),
                                context, branch, commit_ref, title, dict(meta or {}),
                                not publish, timeline)
        self.directory.add_deploy(site, dep, build)
        self._schedule.add(dep.created, "enqueue", dep.id)
        self._schedule.add(dep.building_at, "start_build", dep.id)
        self._schedule.add(dep.ready_at, "fail_build" if dep.fails else "finish_build", dep.id)
        self._advance()
        return dep

    def create_site_build(self, site_id: str, *, branch: str | None = None,
                          title: str | None = None) -> Build:
        """"Trigger deploy": build the site's branch (production) or another (branch-deploy)."""
        self._advance()
        site = self.directory.site(site_id)
        branch = branch or site.repo_branch
        context = "production" if branch == site.repo_branch else "branch-deploy"
        head = self.directory.branch_head(site, branch)
        dep = self.create_deploy(site.id, context=context, branch=branch, title=title,
                                 commit_ref=head.commit_ref if head else None,
                                 meta=dict(head.meta) if head and head.meta else None)
        return self.directory.builds[dep.build_id]

    def get_site_build(self, build_id: str) -> Build:
        self._advance()
        return self.directory.build(build_id)

    def list_site_builds(self, site_id: str, page: int = 1, per_page: int = 100) -> list[Build]:
        """Builds newest first."""
        self._advance()
        deploys = self.directory.newest_first(self.directory.site(site_id).deploy_ids)
        return paginate([self.directory.builds[d.build_id] for d in deploys], page, per_page)

    def get_deploy(self, deploy_id: str) -> Deploy:
        self._advance()
        return self.directory.deploy(deploy_id)

    def get_site_deploy(self, site_id: str, deploy_id: str) -> Deploy:
        """A deploy of that site; raises NotFound (also for another site's deploy)."""
        self._advance()
        return self.directory.deploy_of(self.directory.site(site_id), deploy_id)

    def list_site_deploys(self, site_id: str, *, page: int = 1, per_page: int = 100,
                          production: bool | None = None, state: str | None = None,
                          branch: str | None = None, latest_published: bool | None = None,
                          deploy_previews: bool | None = None) -> list[Deploy]:
        """Deploys newest first. ``production``/``deploy_previews`` filter on the context,
        ``latest_published`` keeps only the deploy served now; raises Unprocessable (state)."""
        self._advance()
        site = self.directory.site(site_id)
        wanted = parse_state(state)
        picked = [d for d in self.directory.newest_first(site.deploy_ids)
                  if (production is None or d.is_production == production)
                  and (deploy_previews is None
                       or (d.context == "deploy-preview") == deploy_previews)
                  and (wanted is None or d.state is wanted)
                  and (branch is None or d.branch == branch)
                  and (not latest_published or d.id == site.published_deploy_id)]
        return paginate(picked, page, per_page)

    def cancel_site_deploy(self, deploy_id: str) -> Deploy:
        """Cancel an unfinished deploy (it ends in ``error``); raises NotFound or
        Unprocessable (already ready or failed)."""
        self._advance()
        dep = self.directory.deploy(deploy_id)
        move(dep, "cancel", self.clock.now())  # raises first when it already ended
        dep.error_message = CANCELED
        return dep

    def update_site_deploy(self, site_id: str, deploy_id: str, body: Any) -> Deploy:
        """updateSiteDeploy with a files digest (``netlify deploy --dir``): the deploy
        takes files instead of a build and waits in ``uploading`` for the contents it
        lacks (``required_files``). Its env is the context's now: the CLI built the folder
        locally with the site's variables. Raises NotFound or Unprocessable."""
        self._advance()
        dep = self.get_site_deploy(site_id, deploy_id)
        digest = parse_digest(body)
        draft = body.get("draft", dep.draft)
        if not isinstance(draft, bool):
            raise Unprocessable("draft must be a boolean")
        move(dep, "receive_digest", self.clock.now())  # raises once files or a build came
        site = self.directory.sites[dep.site_id]
        dep.draft, self._digests[dep.id] = draft, digest
        dep.env = self.env_vars.resolved(site.account_id, site.id, dep.context, dep.branch)
        self._maybe_uploaded(dep)
        return dep

    def upload_deploy_file(self, deploy_id: str, path: str, content: bytes) -> dict[str, Any]:
        """uploadDeployFile: one file of a digest deploy; once none is lacking, Netlify
        processes the deploy (``file_processing_time``) and it becomes ready. Raises
        NotFound or Unprocessable."""
        self._advance()
        dep = self.directory.deploy(deploy_id)
        digest = self._digests.get(dep.id)
        if digest is None or dep.state is not DeployState.UPLOADING:
            raise Unprocessable(f"Deploy {deploy_id} is not waiting for files")
        record = digest.receive(path, content)
        self._maybe_uploaded(dep)
        return record

    def required_files(self, deploy_id: str) -> list[str]:
        """The SHA-1s a digest deploy still lacks ([] for a built deploy)."""
        digest = self._digests.get(deploy_id)
        return digest.required if digest else []

    def _maybe_uploaded(self, dep: Deploy) -> None:
        if self._digests[dep.id].required:
            return
        now = self.clock.now()
        move(dep, "finish_upload", now)
        dep.ready_at = now + seconds(self.file_processing_time)
        self._schedule.add(dep.ready_at, "finish_processing", dep.id)

    def published_deploy(self, site_id: str) -> Deploy:
        """What the site serves now; raises NotFound when it serves nothing.

        The simulation calls this every tick: O(1) unless a transition has fallen due.
        """
        self._advance()
        site = self.directory.sites.get(site_id) or self.directory.site(site_id)
        if site.published_deploy_id is None:
            raise NotFound(f"Site {site.name} has no published deploy")
        return self.directory.deploys[site.published_deploy_id]

    # ---- publishing ------------------------------------------------------------------

    def restore_site_deploy(self, site_id: str, deploy_id: str) -> Deploy:
        """Publish a ready deploy of the site ("Publish deploy"), ``publish_propagation``
        seconds from now, no build. Raises NotFound or Unprocessable (not ready)."""
        self._advance()
        site = self.directory.site(site_id)
        dep = publishing.check_ready(self.directory.deploy_of(site, deploy_id), "published")
        publishing.request_publish(site, dep, "restore", self.clock.now(),
                                   seconds(self.publish_propagation), self._schedule)
        self._advance()
        return dep

    def rollback_site_deploy(self, site_id: str) -> None:
        """Re-publish the deploy published before the current one, ``publish_propagation``
        seconds from now. Raises NotFound or Unprocessable (nothing to roll back to)."""
        self._advance()
        site = self.directory.site(site_id)
        previous = self.directory.deploys[publishing.previously_published(site)]
        publishing.request_publish(site, previous, "rollback", self.clock.now(),
                                   seconds(self.publish_propagation), self._schedule)
        self._advance()

    def lock_deploy(self, deploy_id: str) -> Deploy:
        """Stop auto publishing, held by this (ready) deploy; publishes nothing.

        Raises NotFound or Unprocessable (not ready).
        """
        self._advance()
        dep = publishing.check_ready(self.directory.deploy(deploy_id), "locked")
        publishing.hand_lock(self.directory.sites[dep.site_id], dep, self.clock.now(),
                  self.directory.deploys)
        return dep

    def unlock_deploy(self, deploy_id: str) -> Deploy:
        """Resume auto publishing if this deploy held the lock; later ready production
        deploys publish again, ones already ready do not. Raises NotFound."""
        self._advance()
        dep = self.directory.deploy(deploy_id)
        publishing.unlock(self.directory.sites[dep.site_id], dep, self.clock.now())
        return dep

    # ---- transitions -----------------------------------------------------------------

    def _advance(self) -> None:
        """Apply every transition due by now, earliest first (cheap when none is due)."""
        now = self.clock.now()
        due_at = self._schedule.next_at()
        if due_at is None or due_at > now:
            return
        for due in self._schedule.pop_due(now):
            self._apply(due)

    def _apply(self, due: Due) -> None:
        if due.event == "publish":
            publishing.land(self.directory.sites[due.subject], due, self.directory.deploys)
            return
        dep = self.directory.deploys[due.subject]
        if not can_fire(dep.state, due.event):
            return  # canceled before this transition fell due
        if due.event == "start_build":
            # Vite inlines import.meta.env.VITE_* now: later env edits miss this build.
            site = self.directory.sites[dep.site_id]
            dep.env = self.env_vars.resolved(site.account_id, site.id, dep.context, dep.branch)
        if due.event == "fail_build":
            dep.error_message = BUILD_FAILED
        move(dep, due.event, due.at)
        if dep.state is DeployState.READY:
            publishing.auto_publish(self.directory.sites[dep.site_id], dep, due.at,
                                    self.directory.deploys)

    def _next(self, kind: str) -> str:
        # Counter-derived, never random: the same run mints the same ids.
        self._counters[kind] += 1
        return f"{kind}:{self._counters[kind]}"
