"""Installing a vendor's npm CLI for the tests that run it against a fake.

``ensure_npm_package("netlify-cli@26", "netlify")`` installs the package once into
``tests/.node_modules/<slug>/`` (gitignored) and returns the path of its executable,
or None when npm is missing or the install fails; ``why_not(spec)`` then says why, so
the test can ``pytest.skip`` with a clear reason. ``ensure_npm_module("posthog-js@1.449.2",
"posthog-js")`` does the same for a package without an executable (a browser SDK) and
returns the folder of the installed module. Later calls with the same spec find
the stamp file and cost nothing; a file lock keeps parallel test processes from
installing into the same folder at once. Installs prefer npm's cache (``--prefer-offline``),
so a warm machine installs without going to the registry for every tarball.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent / ".node_modules"
_failures: dict[str, str] = {}


def ensure_npm_package(name_spec: str, bin_name: str, *,
                       overrides: dict[str, str] | None = None,
                       timeout: float = 300.0) -> Path | None:
    """The executable ``bin_name`` of ``name_spec`` installed here, or None (see ``why_not``).

    ``overrides`` goes into the installing package.json (npm's ``overrides``: the vercel
    CLI needs ``{"sandbox": "4.5.0"}`` on this registry).
    """
    return _ensure(name_spec, Path("node_modules") / ".bin" / bin_name, overrides, timeout)


def ensure_npm_module(name_spec: str, module: str, *, timeout: float = 300.0) -> Path | None:
    """The folder of ``module`` (``posthog-js``, ``@sentry/browser``) after installing
    ``name_spec`` here, or None (see ``why_not``)."""
    manifest = _ensure(name_spec, Path("node_modules") / module / "package.json", None,
                       timeout)
    return manifest.parent if manifest else None


def _ensure(name_spec: str, target: Path, overrides: dict[str, str] | None,
            timeout: float) -> Path | None:
    """``target`` (relative to the install folder) once ``name_spec`` is installed."""
    npm = shutil.which("npm")
    if npm is None:
        return _fail(name_spec, "npm is not on PATH")
    folder = ROOT / _slug(name_spec)
    stamp = json.dumps({"spec": name_spec, "overrides": overrides or {}}, sort_keys=True)
    executable = folder / target
    folder.mkdir(parents=True, exist_ok=True)
    with open(ROOT / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _installed(folder, stamp, executable):
            return executable
        return _install(npm, name_spec, folder, stamp, executable, overrides, timeout)


def why_not(name_spec: str) -> str:
    """Why the last ``ensure_npm_package(name_spec, …)`` returned None."""
    return _failures.get(name_spec, "it was not attempted")


def _installed(folder: Path, stamp: str, executable: Path) -> bool:
    stamp_file = folder / ".installed"
    return (executable.exists() and stamp_file.exists()
            and stamp_file.read_text() == stamp)


def _install(npm: str, name_spec: str, folder: Path, stamp: str, executable: Path,
             overrides: dict[str, str] | None, timeout: float) -> Path | None:
    (folder / ".installed").unlink(missing_ok=True)
    manifest = {"name": f"drill-tool-{_slug(name_spec)}", "private": True,
                "overrides": overrides or {}}
    (folder / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log = folder / "install.log"
    env = os.environ | {"NO_UPDATE_NOTIFIER": "1", "npm_config_update_notifier": "false",
                        "npm_config_fund": "false", "npm_config_audit": "false"}
    command = [npm, "install", "--no-audit", "--no-fund", "--prefer-offline",
               "--loglevel=error", name_spec]
    try:
        with open(log, "w") as out:
            done = subprocess.run(command, cwd=folder, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _fail(name_spec, f"npm install {name_spec} did not finish: {exc}")
    if done.returncode != 0 or not executable.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        return _fail(name_spec, f"npm install {name_spec} failed (exit {done.returncode}): "
                                f"{' | '.join(tail)} (full log: {log})")
    (folder / ".installed").write_text(stamp)
    _failures.pop(name_spec, None)
    return executable


def _fail(name_spec: str, reason: str) -> Path | None:
    _failures[name_spec] = reason
    return None


def _slug(name_spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name_spec).strip("-")
