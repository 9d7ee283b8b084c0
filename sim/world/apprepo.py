"""The Contacts app's git repository for a drill: a real working clone and its bare origin.

``create_app_repo`` builds, in a directory, ``origin.git`` (bare) and ``contacts-web``
(a clone with ``origin`` set) holding the app's history, pushed:

- ``v1.9.0``: the app without the redesign (``ContactsPageOld`` only);
- ``v2.0.0``, the deployment commit: ``ContactsPageNew``, ``src/utils/featureFlags.ts``
  with the runbook's ``shouldShowNewContacts`` and the routing in ``App.tsx``;
- optionally a follow-up fix to the new page on top of it (``follow_up_fix``), which
  makes reverting the deployment commit conflict; ``head`` is then that fix.

The files each commit writes are ``sim.world.app_source``'s. Dates come from the
drill's clock and the identities are fixed, so the same clock epoch gives the same SHAs.
The bare remote carries two server-side hooks, installed once the history is pushed:
``pre-receive`` refuses every push while branch protection is on (``AppRepo.protect``),
and ``post-receive`` appends each pushed ``old new ref pushed_at`` to the queue file the
CI reads (``sim.world.ci``), as a push webhook would: ``pushed_at`` is the pusher's
``GIT_COMMITTER_DATE`` (ISO; the drill's own git sets it from the virtual clock), else
``@<Unix seconds>`` of the wall (a person's shell, in ``drill gameday``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from fakes.common.clock import Clock, to_datetime
from rollout.rollback.git import ONCALL, Git, Identity
from sim.world.app_source import follow_up_fix_tree, previous_tree, redesign_tree

DAY = 86400.0
RELEASE_ENGINEER = Identity("Release Engineer", "release@contacts.example")
PROTECTED = "protected branch: pushes to main need a passing CI"
FOLLOW_UP_AFTER = 300.0  # the follow-up lands before the release's deploy is READY

_PRE_RECEIVE = """#!/bin/sh
# Branch protection, switched on by the flag file: it holds the message pushers see.
if [ -f {flag} ]; then
    cat {flag} >&2
    exit 1
fi
exit 0
"""

_POST_RECEIVE = """#!/bin/sh
# The push webhook: one line per updated ref for the CI. The push time is the pusher's
# commit date (a drill sets it from its virtual clock), else the wall clock in Unix
# seconds after an @ (a person's push in a game day: the CI maps it as it maps clients).
pushed_at="${{GIT_COMMITTER_DATE:-@$(date -u +%s.%N)}}"
while read -r old new ref; do
    printf '%s %s %s %s\\n' "$old" "$new" "$ref" "$pushed_at" >> {queue}
done
"""


@dataclass(frozen=True)
class AppRepo:
    """The app's bare ``remote`` (origin), the ``work`` clone, and the CI's ``queue`` file.

    ``releases`` maps each release tag to its commit SHA; ``head`` is main after setup.
    """

    root: Path
    remote: Path
    work: Path
    queue: Path
    releases: dict[str, str]
    head: str

    @property
    def flag(self) -> Path:
        """The file whose presence makes ``pre-receive`` refuse pushes."""
        return self.remote / "drill-protected"

    def git(self, clock: Clock, identity: Identity = ONCALL) -> Git:
        """Git in the working clone, dated by ``clock`` (the on-call engineer's shell)."""
        return Git(self.work, home=self.root, when=lambda: to_datetime(clock),
                   identity=identity)

    def remote_git(self) -> Git:
        """Git in the bare remote (what the server and the CI see)."""
        return Git(self.remote, home=self.root)

    def protect(self, message: str = PROTECTED) -> None:
        """Branch protection on: every push is refused with ``message``."""
        self.flag.write_text(message + "\n", encoding="utf-8")

    def unprotect(self) -> None:
        self.flag.unlink(missing_ok=True)

    def deny_force_push(self) -> None:
        """Refuse non-fast-forward updates (git's own ``receive.denyNonFastForwards``)."""
        self.remote_git().run("config", "receive.denyNonFastForwards", "true")

    def clone(self, dest: Path, clock: Clock, identity: Identity = ONCALL) -> Git:
        """Another working clone of origin (a second engineer); returns git in it."""
        Git(dest.parent, home=self.root).run("clone", "--quiet", str(self.remote), dest.name)
        return Git(dest, home=self.root, when=lambda: to_datetime(clock), identity=identity)


def create_app_repo(root: Path, clock: Clock, *, previous: str = "1.9.0",
                    current: str = "2.0.0", flag_mode: str = "percentage",
                    previous_at: float = -7 * DAY - 600, current_at: float = -DAY - 600,
                    follow_up_fix: bool = False) -> AppRepo:
    """Create the app's repository and origin under ``root``; returns the AppRepo.

    Commits are dated ``previous_at`` / ``current_at`` virtual seconds on ``clock``'s
    epoch; ``flag_mode`` picks which of the runbook's three ``featureFlags.ts`` ships.
    """
    root.mkdir(parents=True, exist_ok=True)
    remote, work = root / "origin.git", root / "contacts-web"
    base = Git(root, home=root)
    base.run("init", "--quiet", "--bare", remote.name)
    base.run("init", "--quiet", work.name)
    git = Git(work, home=root, identity=RELEASE_ENGINEER)
    git.run("remote", "add", "origin", str(remote))

    def moment(t: float) -> datetime:
        return clock.epoch + timedelta(seconds=t)

    releases = {
        f"v{previous}": _release(git.at(moment(previous_at)), previous_tree(previous),
                                 f"chore(release): {previous}", f"v{previous}"),
        f"v{current}": _release(git.at(moment(current_at)), redesign_tree(current, flag_mode),
                                f"feat(contacts): redesigned Contacts page behind "
                                f"VITE_FEATURE_CONTACTS_REDESIGN ({current})", f"v{current}"),
    }
    if follow_up_fix:
        _commit(git.at(moment(current_at + FOLLOW_UP_AFTER)), follow_up_fix_tree(),
                "fix(contacts): label the contacts grid for screen readers")
    git.run("push", "--quiet", "origin", "main", *releases)
    repo = AppRepo(root, remote, work, root / "ci-queue.txt", releases, git.rev("HEAD"))
    _install_hooks(repo)
    return repo


def _release(git: Git, files: dict[str, str | None], message: str, tag: str) -> str:
    sha = _commit(git, files, message)
    git.run("tag", "--annotate", tag, "--message", f"release {tag}")
    return sha


def _commit(git: Git, files: dict[str, str | None], message: str) -> str:
    """Write (or, for None, delete) ``files``, stage everything, commit; returns the SHA."""
    for path, text in files.items():
        target = git.workdir / path
        if text is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git.run("add", "--all")
    git.run("commit", "--quiet", "--message", message)
    return git.rev("HEAD")


def _install_hooks(repo: AppRepo) -> None:
    repo.queue.touch()
    hooks = repo.remote / "hooks"
    hooks.mkdir(exist_ok=True)
    for name, text in (("pre-receive", _PRE_RECEIVE.format(flag=shlex.quote(str(repo.flag)))),
                       ("post-receive",
                        _POST_RECEIVE.format(queue=shlex.quote(str(repo.queue))))):
        hook = hooks / name
        hook.write_text(text, encoding="utf-8")
        hook.chmod(0o755)
