"""The temporary folders a drill makes (its database, its app repository) and their end.

Each folder is named ``<prefix><pid>-<random>`` in TMPDIR, after the process that owns
it, and is kept in this process's register until removed:

* a drill removes its folders when its world closes (``remove_temp_dir``);
* whatever is still registered is removed at interpreter exit (``atexit``), which also
  runs on SIGTERM once the CLI's handler turns it into ``SystemExit``, and by a sweep
  worker's own SIGTERM handler (``remove_all``);
* a process killed outright (SIGKILL) cannot clean up: the next ``drill`` start removes
  the folders whose owning process is gone (``sweep_stale``).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

PREFIXES = ("drill-db-", "drill-repo-")
_OWNED = re.compile(rf"^(?:{'|'.join(map(re.escape, PREFIXES))})(\d+)-")
_LIVE: set[Path] = set()
_ATTEMPTS = 5


def make_temp_dir(prefix: str) -> Path:
    """A new folder ``<prefix><pid>-…`` in TMPDIR, registered for removal."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown temporary folder prefix {prefix!r}")
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
    _LIVE.add(path)
    return path


def remove_temp_dir(path: Path) -> None:
    """Remove ``path`` (a folder from ``make_temp_dir``) and forget it."""
    for _ in range(_ATTEMPTS):  # a child still writing (git) can refill it once
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            break
        time.sleep(0.05)
    _LIVE.discard(path)


def remove_all() -> None:
    """Remove every folder this process made: those it holds, and any named after it
    (one made as a signal arrived, before it was registered)."""
    for path in list(_LIVE):
        remove_temp_dir(path)
    for prefix in PREFIXES:
        for path in Path(tempfile.gettempdir()).glob(f"{prefix}{os.getpid()}-*"):
            remove_temp_dir(path)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs (one of another user's counts; a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:  # not a pid this system can have
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has exited but is not reaped yet (Linux's /proc; elsewhere False)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def sweep_stale(root: Path | None = None) -> list[Path]:
    """Remove the drill folders in ``root`` (TMPDIR) whose owning process is gone;
    returns those removed."""
    root = Path(tempfile.gettempdir()) if root is None else root
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    for entry in entries:
        owner = _OWNED.match(entry.name)
        if owner and int(owner.group(1)) != os.getpid() and not pid_alive(int(owner.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


atexit.register(remove_all)
