"""The scenario's version check follows git's own rules: ``tag_problem`` agrees with the
real ``git check-ref-format`` on every name here, accepted or refused."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scenario.refname import refname_problem, tag_problem

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

NAMES = ["1.0.0", "2.0.0-rc.1", "2.0.0+build.5", "release/2.0", "1.0/", "1.0.", ".1.0",
         "1..0", "1.0.lock", "1.0.lock/x", "x/.hidden", "a//b", "@", "a@{1}", "a@b", "a b",
         "a~1", "a^", "a:b", "a?", "a*", "a[1]", "a\\b", "a\x7f", "a\tb", "ünï", "-1",
         "1.0-", "foo./bar", "x/y.lock.z", "x.", "@{", "a/@/b"]


def _git_accepts(name: str) -> bool:
    run = subprocess.run(["git", "check-ref-format", name], capture_output=True, check=False)
    return run.returncode == 0


@pytest.mark.parametrize("version", NAMES)
def test_a_version_is_refused_exactly_when_git_refuses_its_tag(version: str) -> None:
    """``refs/tags/v<version>``: our verdict is git's."""
    assert (tag_problem(version) is None) == _git_accepts(f"refs/tags/v{version}")


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.text(alphabet=st.sampled_from("a1./@{}~^:?*[\\ -_\x01\x7fé"), min_size=1,
               max_size=12))
def test_any_short_name_gets_gits_verdict(name: str) -> None:
    """Names drawn from the characters the rules are about, against the real git."""
    assert (refname_problem(f"refs/tags/{name}") is None) == \
        _git_accepts(f"refs/tags/{name}")
