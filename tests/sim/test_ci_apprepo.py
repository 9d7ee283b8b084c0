"""sim.world.apprepo builds the Contacts app's real git history and a bare origin with hooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes.common.clock import ManualClock
from sim.world.apprepo import PROTECTED, AppRepo, create_app_repo


@pytest.fixture
def repo(tmp_path: Path) -> AppRepo:
    return create_app_repo(tmp_path / "app", ManualClock())


def _show(repo: AppRepo, rev: str, path: str) -> str:
    return repo.remote_git().out("show", f"{rev}:{path}")


def _tree(repo: AppRepo, rev: str) -> list[str]:
    return repo.remote_git().out("ls-tree", "-r", "--name-only", rev).splitlines()


def test_history_is_a_release_then_the_deployment_commit_pushed_and_tagged(repo: AppRepo):
    """origin/main: v1.9.0 (no redesign), then v2.0.0 adding the redesign; both tagged."""
    log = repo.remote_git().out("log", "--format=%H %s", "main").splitlines()
    assert [line.split(" ", 1)[0] for line in log] == [repo.releases["v2.0.0"],
                                                        repo.releases["v1.9.0"]]
    assert "(2.0.0)" in log[0] and log[1].endswith("1.9.0")
    assert repo.head == repo.releases["v2.0.0"]
    assert repo.remote_git().rev("v1.9.0") == repo.releases["v1.9.0"]
    assert json.loads(_show(repo, "v1.9.0", "package.json"))["version"] == "1.9.0"
    assert json.loads(_show(repo, "v2.0.0", "package.json"))["version"] == "2.0.0"
    assert "src/pages/ContactsPageNew.tsx" not in _tree(repo, "v1.9.0")
    assert {"src/pages/ContactsPageNew.tsx", "src/pages/ContactsPageOld.tsx",
            "src/utils/featureFlags.ts"} <= set(_tree(repo, "v2.0.0"))
    assert "shouldShowNewContacts(user?.id || '')" in _show(repo, "v2.0.0", "src/App.tsx")
    assert "hashCode(userId)" in _show(repo, "v2.0.0", "src/utils/featureFlags.ts")


def test_same_clock_same_shas_in_any_directory(tmp_path: Path):
    """Fixed identities and clock-derived dates: the same inputs give the same SHAs."""
    a = create_app_repo(tmp_path / "a", ManualClock())
    b = create_app_repo(tmp_path / "b" / "deeper", ManualClock())
    assert a.releases == b.releases
    tags = [r.remote_git().out("rev-parse", "v1.9.0", "v2.0.0") for r in (a, b)]
    assert tags[0] == tags[1]


def test_dates_come_from_the_clock(tmp_path: Path):
    """A different release time is a different commit; the date is the clock's epoch + t."""
    a = create_app_repo(tmp_path / "a", ManualClock(), current_at=-3600.0)
    assert a.remote_git().out("log", "-1", "--format=%cI", "v2.0.0") == \
        "2026-01-25T13:00:00+00:00"
    b = create_app_repo(tmp_path / "b", ManualClock(), current_at=-3599.0)
    assert a.releases["v2.0.0"] != b.releases["v2.0.0"]


def test_remote_flag_mode_ships_the_posthog_form(tmp_path: Path):
    """flag_mode picks which of the runbook's featureFlags.ts forms the release ships."""
    repo = create_app_repo(tmp_path / "app", ManualClock(), flag_mode="remote")
    flags = _show(repo, "v2.0.0", "src/utils/featureFlags.ts")
    assert "analytics.isFeatureEnabled('contacts_redesign')" in flags
    assert "src/utils/analytics.ts" in _tree(repo, "v2.0.0")


def test_follow_up_fix_lands_on_top_of_the_redesign(tmp_path: Path):
    """follow_up_fix adds a commit changing ContactsPageNew after the deployment commit."""
    repo = create_app_repo(tmp_path / "app", ManualClock(), follow_up_fix=True)
    assert repo.remote_git().out("rev-parse", "main~1") == repo.releases["v2.0.0"]
    assert 'aria-label="Contacts"' in _show(repo, "main", "src/pages/ContactsPageNew.tsx")
    assert repo.head == repo.remote_git().rev("main")


def test_post_receive_queues_each_pushed_ref_with_the_push_time(repo: AppRepo):
    """The webhook: old, new, ref and the pusher's (virtual) time, one line per ref."""
    clock = ManualClock(start=12.5)
    git = repo.git(clock)
    assert repo.queue.read_text() == ""  # setting up the history triggered nothing
    git.run("commit", "--allow-empty", "-m", "chore: poke CI")
    git.run("push", "origin", "main")
    old, new, ref, pushed_at = repo.queue.read_text().split()
    assert (old, new, ref) == (repo.head, git.rev("HEAD"), "refs/heads/main")
    assert pushed_at == "2026-01-25T14:00:12.500000+00:00"


def test_pre_receive_refuses_pushes_while_protected(repo: AppRepo):
    """protect(): the remote refuses with its message and keeps main where it was."""
    git = repo.git(ManualClock())
    git.run("commit", "--allow-empty", "-m", "chore: blocked")
    repo.protect()
    done = git.run("push", "origin", "main", check=False)
    assert done.returncode == 1
    assert f"remote: {PROTECTED}" in done.stderr
    assert repo.remote_git().rev("main") == repo.head and repo.queue.read_text() == ""
    repo.unprotect()
    git.run("push", "origin", "main")
    assert repo.remote_git().rev("main") == git.rev("HEAD")
