"""The Node.js tools a drill needs to run the app's own flag module: node, and esbuild.

esbuild (pinned, ``ESBUILD_VERSION``) is installed from npm on first use with
``npm install --prefix DIR`` into ``DRILL_NODE_TOOLS`` (default
``~/.cache/rollout-drill/node-tools``), under a file lock so parallel runs install it once.
``check_node_tools`` is the cheap check a scenario's loader makes (is node on PATH; is
esbuild there, or npm to install it); ``ensure_esbuild`` installs. Both raise ``BadInput``
(exit 2) with one line that starts with ``where`` (the scenario file and field).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

from sim.errors import BadInput

ESBUILD_VERSION = "0.28.2"
TOOLS_ENV = "DRILL_NODE_TOOLS"
_INSTALL_TIMEOUT_S = 300


def tools_dir() -> Path:
    """Where the Node tools live: ``$DRILL_NODE_TOOLS`` or ``~/.cache/rollout-drill/node-tools``."""
    configured = os.environ.get(TOOLS_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "rollout-drill" / "node-tools"


def node_binary(where: str) -> str:
    """The ``node`` on PATH; raises BadInput when there is none."""
    node = shutil.which("node")
    if node is None:
        raise BadInput(f"{where}: running the flag module needs Node.js, and no 'node' is "
                       "on PATH")
    return node


def installed_esbuild(tools: Path) -> str | None:
    """The esbuild version installed under ``tools`` (None: not installed)."""
    try:
        meta = json.loads((tools / "node_modules" / "esbuild" / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = meta.get("version")
    return version if isinstance(version, str) else None


def check_node_tools(where: str) -> None:
    """Node is on PATH, and the pinned esbuild is installed or npm can install it;
    raises BadInput otherwise. Installs nothing."""
    node_binary(where)
    if installed_esbuild(tools_dir()) != ESBUILD_VERSION:
        _npm(where)


def ensure_esbuild(where: str) -> Path:
    """Install the pinned esbuild into ``tools_dir()`` unless it is there; returns the
    folder. Raises BadInput when node or npm is missing or the install fails."""
    node_binary(where)
    tools = tools_dir()
    if installed_esbuild(tools) == ESBUILD_VERSION:
        return tools
    npm = _npm(where)
    tools.mkdir(parents=True, exist_ok=True)
    with (tools / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be installing: wait for it
        if installed_esbuild(tools) != ESBUILD_VERSION:
            _install(npm, tools, where)
    return tools


def _npm(where: str) -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise BadInput(f"{where}: esbuild {ESBUILD_VERSION} is not installed in "
                       f"{tools_dir()} ({TOOLS_ENV}) and no 'npm' is on PATH to install it")
    return npm


def _install(npm: str, tools: Path, where: str) -> None:
    cmd = [npm, "install", "--prefix", str(tools), "--no-audit", "--no-fund", "--save-exact",
           "--loglevel=error", f"esbuild@{ESBUILD_VERSION}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BadInput(f"{where}: installing esbuild {ESBUILD_VERSION} failed ({exc})") from None
    if done.returncode != 0 or installed_esbuild(tools) != ESBUILD_VERSION:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BadInput(f"{where}: npm install esbuild@{ESBUILD_VERSION} into {tools} failed: "
                       f"{last}")
