"""A vendor's real CLI against its fake served on 127.0.0.1: the one pattern the
sentry-cli, vercel and netlify tests share.

``npm_cli(spec, binary)`` installs the CLI from npm on first use (``tests.npm_tools``) or
skips the test (no node, no npm, no network); ``live_cli(app, argv, env, cwd)`` serves
``app`` for the block and yields ``run(*args, env=None)``, the CLI's completed process
with the host kept out (PATH only, plus the env the vendor's CLI reads).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.npm_tools import ensure_npm_package, why_not
from tests.servers import serve_in_thread

Run = Callable[..., subprocess.CompletedProcess[str]]


def npm_cli(spec: str, binary: str, overrides: dict[str, str] | None = None) -> Path:
    """The CLI's executable, installed with npm on first use; skips the test without it."""
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    executable = ensure_npm_package(spec, binary, overrides=overrides)
    if executable is None:
        pytest.skip(f"{binary} unavailable: {why_not(spec)}")
    return executable


@contextmanager
def live_cli(app: Any, argv: Callable[[str], list[str]], env: Callable[[str], dict[str, str]],
             cwd: Path, timeout: float = 60) -> Iterator[Run]:
    """Serve ``app``; yield ``run(*args, env=None)`` running ``argv(base_url) + args`` in
    ``cwd`` with PATH, ``env(base_url)`` and the call's extra ``env``."""
    with serve_in_thread(app) as base_url:
        base_env = {"PATH": os.environ.get("PATH", ""), **env(base_url)}
        prefix = argv(base_url)

        def run(*args: str, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*prefix, *args], env=base_env | (env or {}), cwd=cwd,
                                  capture_output=True, text=True, timeout=timeout,
                                  check=False)

        yield run
