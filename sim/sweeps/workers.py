"""A sweep worker's lifecycle: it stops when told to, and dies with the drill that started it.

``init_worker`` runs in each pool worker as it starts:

* Ctrl-C is ignored: the terminal sends SIGINT to the whole process group, and it is the
  parent's to handle (it keeps the finished runs and stops the pool);
* SIGTERM removes the worker's temporary folders (``sim.tempdirs``) and exits at once:
  it is how the parent stops a pool mid-run;
* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` (man 2 prctl) has the kernel send that
  SIGTERM when the worker's parent (the fork server) exits, which it does when the drill
  exits or is killed;
* everywhere, a thread polls the drill's own pid and sends the same SIGTERM once it is
  gone: a sweep killed with SIGKILL leaves no worker running for minutes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from typing import Any

from sim.errors import EXIT_TERMINATED
from sim.tempdirs import pid_alive, remove_all

PR_SET_PDEATHSIG = 1  # linux/prctl.h
POLL_S = 0.5


def init_worker(parent: int) -> None:
    """Set up a worker of the drill process ``parent`` (see the module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    _die_with_parent()
    threading.Thread(target=_watch, args=(parent,), name="drill-parent-watch",
                     daemon=True).start()


def _terminated(signum: int, frame: Any) -> None:
    remove_all()
    os._exit(EXIT_TERMINATED)  # nothing of a half-run drill is worth unwinding


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the watch thread still polls
        pass


def _watch(parent: int) -> None:
    while pid_alive(parent):
        time.sleep(POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)
