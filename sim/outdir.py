"""Output folders: checked before anything runs, written complete or not at all.

``check_out_dir``/``check_out_file`` refuse (``BadInput``, exit 2), before any run, an
output path that is not a directory (a file), lies under a file, has a name longer than
the file system allows, or sits where this process cannot write (permissions, a
read-only file system): the check creates and removes a probe file, the one test that
root and read-only mounts cannot fool.

``staged_dir(target, marker)`` is where a run or a sweep writes: a sibling folder
``.<name>.partial-<pid>`` holding an ``INCOMPLETE`` file while it fills, moved into place
only once every file is written. A folder at ``target`` with its ``marker``
(``summary.json``, ``sweep.json``) is therefore complete; a crash, a SIGKILL or a full
disk leaves at most a hidden ``.partial-`` folder (removed on failure, and by the next
write beside it once its process is gone). When ``target`` already holds files, the old
marker goes first and the new marker last, so no marker ever stands beside a mix of
files.

A run's default folder is ``results/<scenario>/<YYYYmmdd-HHMMSS>-seed<N>`` (``run_dir``),
and ``results/<scenario>/latest`` names the newest one (``mark_latest``; ``find_run``
resolves it for ``drill show`` and ``drill report``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sim.errors import BadInput, OutputError
from sim.tempdirs import pid_alive

INCOMPLETE = "INCOMPLETE"
_PARTIAL = ".{name}.partial-"
_PARTIAL_LEN = len(".partial-") + 1 + 10  # the staging name adds these (a pid: 10 digits)
_PATH_MAX = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096


def check_out_dir(path: Path, option: str = "--out") -> None:
    """Raises BadInput unless ``path`` is, or can be made, a folder this process writes in."""
    try:
        _check_names(path, option, extra=_PARTIAL_LEN)
        if path.exists() and not path.is_dir():
            raise BadInput(f"{option} {path}: exists and is not a directory")
        _check_writable(path, option)
    except OSError as exc:  # e.g. a path the file system cannot even look up
        raise BadInput(f"{option} {path}: {exc.strerror or exc}") from None


def check_out_file(path: Path, option: str) -> None:
    """Raises BadInput unless ``path`` is, or can be made, a file this process writes."""
    try:
        _check_names(path, option, extra=len(".tmp-") + 8)
        if path.is_dir():
            raise BadInput(f"{option} {path}: is a directory, not a file")
        _check_writable(path.parent, option, shown=path)
    except OSError as exc:
        raise BadInput(f"{option} {path}: {exc.strerror or exc}") from None


def _check_names(path: Path, option: str, extra: int) -> None:
    limit = _name_max(path)
    if len(os.fsencode(path.absolute())) + extra >= _PATH_MAX:
        raise BadInput(f"{option} {str(path)[:40]}…: the path is too long (this system "
                       f"allows {_PATH_MAX} bytes)")
    for part in path.parts:
        size = len(os.fsencode(part)) + (extra if part == path.name else 0)
        if size > limit:
            raise BadInput(f"{option} {path}: the name '{part[:40]}…' is too long "
                           f"({len(os.fsencode(part))} bytes; this file system allows "
                           f"{limit - extra if part == path.name else limit})")


def _name_max(path: Path) -> int:
    ancestor = _nearest_existing(path)
    try:
        return int(os.pathconf(ancestor, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not _exists(path) and path != path.parent:
        path = path.parent
    return path


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # too long a name, say: not a folder that exists
        return False


def _check_writable(path: Path, option: str, shown: Path | None = None) -> None:
    ancestor = _nearest_existing(path)
    shown = path if shown is None else shown
    if not ancestor.is_dir():
        raise BadInput(f"{option} {shown}: {ancestor} is a file, not a directory")
    try:
        fd, probe = tempfile.mkstemp(dir=ancestor, prefix=".drill-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise BadInput(f"{option} {shown}: cannot write in {ancestor} "
                       f"({exc.strerror or exc})") from None


@contextmanager
def staged_dir(target: Path, marker: str) -> Iterator[Path]:
    """A fresh sibling folder to write ``target``'s files into, moved into place when the
    block ends without error; raises OutputError when writing fails."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(target)
        stage = target.parent / f"{_PARTIAL.format(name=target.name)}{os.getpid()}"
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir()
        (stage / INCOMPLETE).write_text(f"being written by drill (pid {os.getpid()}); "
                                        "not a complete result\n", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write results to {target}: {exc}") from None
    try:
        yield stage
        (stage / INCOMPLETE).unlink()
        _publish(stage, target, marker)
    except OSError as exc:
        raise OutputError(f"cannot write results to {target}: {exc}") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _publish(stage: Path, target: Path, marker: str) -> None:
    """Move ``stage`` to ``target``: one rename when ``target`` is new (or an empty
    folder), else entry by entry with the marker removed first and moved last."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        os.rename(stage, target)
        return
    (target / marker).unlink(missing_ok=True)
    for entry in sorted(stage.iterdir(), key=lambda p: p.name == marker):
        dest = target / entry.name
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        os.replace(entry, dest)


def remove_stale_partials(target: Path) -> list[Path]:
    """Remove ``target``'s staging folders whose writing process is gone."""
    pattern = re.compile(re.escape(_PARTIAL.format(name=target.name)) + r"(\d+)$")
    removed = []
    for entry in target.parent.glob(f".{glob_escape(target.name)}.partial-*"):
        owner = pattern.match(entry.name)
        if owner and not pid_alive(int(owner.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters made literal."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_file(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (a temporary file renamed over it); raises
    OutputError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 is not what write_text gives
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None


# ---- where runs go, and how to find them again -------------------------------------------

LATEST = "latest"


def run_dir(results: Path, name: str, seed: int, now: datetime) -> Path:
    """A new run's default folder: ``results/<scenario>/<YYYYmmdd-HHMMSS>-seed<N>`` (local
    time, as people read it), ``-2``, ``-3``… appended when that second is already taken."""
    base = results / name / f"{now.strftime('%Y%m%d-%H%M%S')}-seed{seed}"
    candidate, n = base, 1
    while _exists(candidate):
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def mark_latest(run: Path) -> None:
    """Point ``<run's parent>/latest`` at ``run``: a relative symlink, or a file holding
    the folder's name where symlinks cannot be made; replaced atomically either way."""
    link = run.parent / LATEST
    tmp = run.parent / f".{LATEST}.tmp-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        try:
            os.symlink(run.name, tmp)
        except OSError:  # a file system without symlinks (FAT, some mounts)
            tmp.write_text(run.name + "\n", encoding="utf-8")
        if link.is_dir() and not link.is_symlink():
            raise OutputError(f"cannot mark {link}: a folder of that name is in the way")
        os.replace(tmp, link)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {link}: {exc}") from None


def find_run(where: Path, marker: str = "summary.json") -> Path:
    """The run folder ``where`` names: a folder holding ``marker``, or one whose ``latest``
    (symlink or file) names it — ``results/<scenario>`` — or, for a bare scenario name,
    ``results/<name>/latest``. Raises BadInput naming what was looked for."""
    candidates = [where] if where.exists() else [Path("results") / where]
    for folder in candidates:
        latest = folder / LATEST
        if (folder / marker).is_file():
            return folder
        if latest.is_symlink() or latest.is_dir():
            if (latest / marker).is_file():
                return folder / os.readlink(latest) if latest.is_symlink() else latest
        elif latest.is_file():
            named = folder / latest.read_text(encoding="utf-8").strip()
            if (named / marker).is_file():
                return named
    looked = " or ".join(str(c) for c in candidates)
    raise BadInput(f"{where}: no run found (looked for {looked}/{marker} and "
                   f"{looked}/{LATEST}); give a run folder, results/<scenario> or a scenario "
                   "name")
