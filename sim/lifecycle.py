"""How a ``drill`` process starts and ends: its signals, its leftovers, its crash report.

* ``install_signal_handlers`` turns SIGTERM into ``SystemExit(143)``, so ``finally``
  blocks and ``atexit`` run (a drill's world closes, its temporary folders go) as they
  do on Ctrl-C;
* ``sweep_stale`` (``sim.tempdirs``) removes what processes killed outright left behind;
* ``crash_report`` writes an internal error's traceback to a file and returns the one
  line the CLI prints instead of it.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, TracebackType

from sim.errors import EXIT_TERMINATED
from sim.tempdirs import sweep_stale

__all__ = ["crash_report", "install_signal_handlers", "sweep_stale"]

_OURS = ("/sim/", "/rollout/", "/fakes/")


def install_signal_handlers() -> None:
    """SIGTERM exits through ``SystemExit`` (exit 143), unwinding like Ctrl-C."""
    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut cleanup
    raise SystemExit(EXIT_TERMINATED)


def crash_report(exc: BaseException, folder: Path | None = None) -> str:
    """Write ``exc``'s traceback to ``drill-crash-<time>-<pid>.txt`` in ``folder``
    (default TMPDIR); returns one line naming what failed, where, and that file."""
    text = "".join(traceback.format_exception(exc))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(tempfile.gettempdir()) if folder is None else folder
    path = folder / f"drill-crash-{stamp}-{os.getpid()}.txt"
    try:
        path.write_text(f"drill {' '.join(sys.argv[1:])}\n\n{text}", encoding="utf-8")
        details = f"traceback in {path}"
    except OSError as write_error:
        details = f"no traceback file ({write_error.strerror}); rerun with --debug"
    message = " ".join(str(exc).split())
    message = message if len(message) <= 160 else message[:160] + "…"
    return (f"internal error: {type(exc).__name__}{': ' + message if message else ''} "
            f"(at {_where(exc.__traceback__)}); {details}")


def _where(tb: TracebackType | None) -> str:
    """The innermost frame of the harness's own code (else the innermost frame at all)."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return "unknown place"
    ours = [f for f in frames if any(p in f.filename.replace("\\", "/") for p in _OURS)]
    frame = (ours or frames)[-1]
    return f"{_short_path(frame.filename)}:{frame.lineno} in {frame.name}"


def _short_path(filename: str) -> str:
    name = filename.replace("\\", "/")
    for marker in _OURS:
        if marker in name:
            return marker.strip("/") + "/" + name.rsplit(marker, 1)[1]
    return filename
