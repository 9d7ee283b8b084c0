"""Running ``drill`` for tests: in this process (fast, patchable) or as a real subprocess."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from sim.cli import main
from sim.sweeps.workers import proc_stats

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


@dataclass
class Outcome:
    """What one ``drill`` invocation did: its exit code and its two streams."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def drill(*args: str) -> Outcome:
    """``drill ARGS`` through the real entry point (``sim.cli.main``), in this process;
    the SIGTERM handler it installs is put back afterwards."""
    out, err = io.StringIO(), io.StringIO()
    previous = signal.getsignal(signal.SIGTERM)
    code = 0
    try:
        with mock.patch.object(sys, "argv", ["drill", *args]), redirect_stdout(out), \
                redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return Outcome(code, out.getvalue(), err.getvalue())


def spawn(*args: str, tmpdir: Path, **kwargs: object) -> subprocess.Popen[str]:
    """``drill ARGS`` as its own process in its own session, TMPDIR set to ``tmpdir``."""
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-c", "from sim.cli import main; main()", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **kwargs)  # type: ignore[call-overload]


def session_processes(sid: int) -> list[int]:
    """The live (not zombie) processes of session ``sid``, from /proc."""
    return [pid for pid, fields in proc_stats()
            if len(fields) > 3 and int(fields[3]) == sid and fields[0] != "Z"]
