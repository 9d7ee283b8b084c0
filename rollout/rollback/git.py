"""Rollbacks through git: the runbook's Option C and the database rollback's step 5.

Option C (``git_revert``): ``git log --oneline`` to find the deployment commit,
``git revert`` it, ``git push origin main``, then wait until the platform serves a
production build of the revert. Step 5 of "Database Rollback"
(``force_push_previous_tag``): ``git checkout <previous-version-tag>`` then
``git push origin main --force``.

Both run real git (``Git``) in a working clone and make the real Vercel API calls to
watch the deployment the push triggers; they yield ``Manual`` for every command a person
types and ``Wait`` between polls. ``Git`` runs with a sealed environment (no user or
system config, ``HOME`` given, fixed identity, dates from an injected ``when``), so the
same inputs at the same (virtual) times make the same commit SHAs.

Raises ``RollbackFailed`` naming the step: "git log" (no such deployment commit),
"git revert" (conflict; the revert is aborted first), "git checkout", "git push" (the
remote refused, with its own message; or the push did not move the branch) and
"vercel build" (the deployment failed, or none came within ``timeout``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from rollout.clients.errors import VendorError
from rollout.clients.vercel import VercelAPI
from rollout.deploy.vercel import BUILD_FAILED
from rollout.steps import Manual, Procedure, RollbackFailed, Step, Wait

# Every invocation: no branch-name guessing, no signing, no line-ending rewriting.
_CONFIG = ("-c", "init.defaultBranch=main", "-c", "commit.gpgSign=false",
           "-c", "tag.gpgSign=false", "-c", "core.autocrlf=false",
           "-c", "advice.detachedHead=false")


class GitError(Exception):
    """A git command exited non-zero; carries its arguments, exit code and output."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.args_ = tuple(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(f"git {' '.join(args)} exited {returncode}: "
                         f"{(stderr or stdout).strip()}")


@dataclass(frozen=True)
class Identity:
    """Who commits: name and email, as author and committer."""

    name: str
    email: str


ONCALL = Identity("On-call Engineer", "oncall@contacts.example")


@dataclass(frozen=True)
class Git:
    """Real ``git`` in ``workdir`` with a sealed, reproducible environment.

    ``when`` gives the author and committer date of every command (a drill passes its
    virtual clock); None leaves dates to git (wall clock). ``home`` is ``HOME`` (default:
    the parent of ``workdir``); global and system config are never read.
    """

    workdir: Path
    home: Path | None = None
    when: Callable[[], datetime] | None = None
    identity: Identity = ONCALL

    def at(self, moment: datetime) -> Git:
        """The same runner with every date fixed at ``moment``."""
        return replace(self, when=lambda: moment)

    def env(self) -> dict[str, str]:
        """The whole environment git runs with: nothing is inherited but ``PATH``."""
        workdir = self.workdir.resolve()
        env = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C", "LANG": "C",
               "TZ": "UTC", "HOME": str(self.home or workdir.parent),
               "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_CEILING_DIRECTORIES": str(workdir.parent),
               "GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": "true",
               "GIT_AUTHOR_NAME": self.identity.name, "GIT_AUTHOR_EMAIL": self.identity.email,
               "GIT_COMMITTER_NAME": self.identity.name,
               "GIT_COMMITTER_EMAIL": self.identity.email}
        if self.when is not None:
            # ISO with fractions: git keeps whole seconds, hooks see the exact moment.
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = self.when().isoformat()
        return env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``git args…``; raises GitError on a non-zero exit when ``check``."""
        done = subprocess.run(["git", *_CONFIG, *args], cwd=self.workdir, env=self.env(),
                              capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise GitError(args, done.returncode, done.stdout, done.stderr)
        return done

    def out(self, *args: str) -> str:
        """Standard output of ``git args…``, stripped; raises GitError."""
        return self.run(*args).stdout.strip()

    def rev(self, ref: str) -> str:
        """The full SHA of the commit ``ref`` names; raises GitError."""
        return self.out("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


# ---- Option C: git revert ------------------------------------------------------------

def git_revert(git: Git, api: VercelAPI, project_id: str, release: str, *,
               remote: str = "origin", branch: str = "main", poll: float = 5.0,
               timeout: float = 1800.0) -> Procedure:
    """Option C: revert the deployment commit of ``release``, push, wait for its build.

    ``release`` is how the deployment commit shows in ``git log --oneline --decorate``:
    its tag (``v2.0.0``) or a SHA prefix. Returns the reverted commit, the revert's SHA,
    the READY production deployment built from it and whether it was promoted (it is
    not while an earlier instant rollback keeps auto-assignment off). Raises
    RollbackFailed.
    """
    yield Manual("git log --oneline")
    commit = _deployment_commit(git, branch, release)
    yield Manual(f"git revert --no-edit {commit[:7]}")
    revert_sha = _revert(git, commit)
    yield Manual(f"git push {remote} {branch}")
    before = _deployment_ids(api, project_id, revert_sha)
    _push(git, remote, branch)
    deployment = yield from _wait_production(api, project_id, revert_sha, before, poll, timeout)
    return {"reverted_sha": commit, "revert_sha": revert_sha, **_facts(deployment)}


def _deployment_commit(git: Git, branch: str, release: str) -> str:
    try:
        log = git.out("log", "--format=%H%x09%D", branch)
    except GitError as exc:
        raise RollbackFailed("git log", exc.stderr.strip() or str(exc)) from exc
    for line in log.splitlines():
        sha, _, refs = line.partition("\t")
        tags = {r.strip().removeprefix("tag: ") for r in refs.split(",") if "tag: " in r}
        if release in tags or (len(release) >= 7 and sha.startswith(release)):
            return sha
    raise RollbackFailed("git log", f"no commit on {branch} is {release}")


def _revert(git: Git, commit: str) -> str:
    done = git.run("revert", "--no-edit", commit, check=False)
    if done.returncode != 0:
        conflicted = git.run("rev-parse", "--quiet", "--verify", "REVERT_HEAD",
                             check=False).returncode == 0
        if conflicted:
            git.run("revert", "--abort", check=False)
        raise RollbackFailed("git revert", _revert_message(done, conflicted))
    return git.rev("HEAD")


def _revert_message(done: subprocess.CompletedProcess[str], conflicted: bool) -> str:
    lines = [ln.strip().rstrip(".") for ln in (done.stdout + done.stderr).splitlines()
             if ln.startswith(("CONFLICT", "error:"))]
    text = "; ".join(lines) or (done.stderr or done.stdout).strip()
    return text + ("; reverted nothing (git revert --abort)" if conflicted else "")


# ---- Database rollback, step 5: force-push the previous tag ----------------------------

def force_push_previous_tag(git: Git, api: VercelAPI, project_id: str, tag: str, *,
                            remote: str = "origin", branch: str = "main",
                            as_written: bool = True, poll: float = 5.0,
                            timeout: float = 1800.0) -> Procedure:
    """``git checkout <tag>`` then ``git push origin main --force``, then wait for the build.

    As written (``as_written``) the push sends the local branch ``main``, which the
    checkout of a tag (detached HEAD) left where it was: git answers "Everything
    up-to-date" and the remote does not move, reported as RollbackFailed("git push").
    ``as_written=False`` pushes what was checked out (``HEAD:main``). Raises
    RollbackFailed.
    """
    yield Manual(f"git checkout {tag}")
    target = _checkout(git, tag)
    refspec = branch if as_written else f"HEAD:{branch}"
    yield Manual(f"git push {remote} {refspec} --force")
    before = _deployment_ids(api, project_id, target)
    was = _remote_head(git, remote, branch)
    said = _push(git, remote, refspec, force=True)
    now = _remote_head(git, remote, branch)
    if now != target:
        raise RollbackFailed("git push", f"{remote}/{branch} is still {now[:7]}, not {tag} "
                                         f"({target[:7]}); git said: {said}")
    deployment = yield from _wait_production(api, project_id, target, before, poll, timeout)
    return {"tag": tag, "sha": target, "forced_from": was, **_facts(deployment)}


def _checkout(git: Git, tag: str) -> str:
    try:
        git.run("checkout", tag)
        return git.rev("HEAD")
    except GitError as exc:
        raise RollbackFailed("git checkout", exc.stderr.strip() or str(exc)) from exc


def _remote_head(git: Git, remote: str, branch: str) -> str:
    try:
        listed = git.out("ls-remote", remote, f"refs/heads/{branch}")
    except GitError as exc:
        raise RollbackFailed("git push", exc.stderr.strip() or str(exc)) from exc
    return listed.split("\t", 1)[0] if listed else ""


# ---- shared: the push and the wait for the build it triggers ----------------------------

def _push(git: Git, remote: str, refspec: str, force: bool = False) -> str:
    """Push; returns what git said. Raises RollbackFailed with the remote's own words."""
    done = git.run("push", remote, refspec, *(["--force"] if force else []), check=False)
    if done.returncode != 0:
        raise RollbackFailed("git push", remote_message(done.stderr))
    return remote_message(done.stderr)


def remote_message(stderr: str) -> str:
    """The remote's lines and the per-ref verdicts of a push, without local paths."""
    lines = [ln.strip() for ln in stderr.splitlines()
             if ln.startswith(("remote:", " ! ", "Everything up-to-date"))]
    return "\n".join(lines) or stderr.strip()


def _deployment_ids(api: VercelAPI, project_id: str, sha: str) -> set[str]:
    return {d["uid"] for d in _deployments_of(api, project_id, sha)}


def _deployments_of(api: VercelAPI, project_id: str, sha: str) -> list[dict[str, Any]]:
    try:
        listed = api.list_production_deployments(project_id)
    except VendorError as exc:
        raise RollbackFailed("vercel build", str(exc)) from exc
    return [d for d in listed if (d.get("meta") or {}).get("githubCommitSha") == sha]


def _facts(deployment: dict[str, Any]) -> dict[str, Any]:
    # READY is not served when auto-assignment is off (after an instant rollback):
    # Vercel then leaves the build STAGED until someone promotes it.
    return {"deployment_id": deployment["uid"], "url": deployment.get("url"),
            "promoted": deployment.get("readySubstate") == "PROMOTED"}


def _wait_production(api: VercelAPI, project_id: str, sha: str, before: set[str],
                     poll: float, timeout: float) -> Generator[Step, None, dict[str, Any]]:
    """Poll until a new production deployment of ``sha`` is READY; raises RollbackFailed."""
    waited = 0.0
    while True:
        fresh = [d for d in _deployments_of(api, project_id, sha) if d["uid"] not in before]
        if fresh:
            newest = fresh[0]  # the list is newest first
            if newest["state"] == "READY":
                return newest
            if newest["state"] in BUILD_FAILED:
                raise RollbackFailed("vercel build", f"deployment {newest['uid']} of "
                                                     f"{sha[:7]} ended {newest['state']}")
        if waited >= timeout:
            raise RollbackFailed("vercel build", f"no READY production deployment of "
                                                 f"{sha[:7]} after {timeout:.0f} s")
        state = fresh[0]["state"] if fresh else "not created yet"
        yield Wait(poll, f"production deployment of {sha[:7]}: {state}")
        waited += poll
