"""A sweep worker's lifecycle: it stops when told to, and dies with the drill that started it.

``init_worker`` runs in each pool worker as it starts:

* Ctrl-C is ignored: the terminal sends SIGINT to the whole process group, and it is the
  parent's to handle (it keeps the finished runs and stops the pool);
* SIGTERM unwinds the running drill (its world closes, its temporary folders go:
  ``sim.tempdirs``) and exits within ``GRACE_S``: it is how the parent stops a pool
  mid-run;
* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` (man 2 prctl) has the kernel send that
  SIGTERM when the worker's parent (the fork server) exits, which it does when the drill
  exits or is killed;
* everywhere, a thread polls the drill's own pid and sends the same SIGTERM once it is
  gone: a sweep killed with SIGKILL leaves no worker running for minutes.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing.util
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.errors import EXIT_TERMINATED
from sim.tempdirs import pid_alive, remove_all

PR_SET_PDEATHSIG = 1  # linux/prctl.h
POLL_S = 0.5
GRACE_S = 3.0  # a drill's world closes in well under a second; the parent waits 5 s


def init_worker(parent: int) -> None:
    """Set up a worker of the drill process ``parent`` (see the module docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    # A pool worker ends through os._exit, which skips atexit; multiprocessing's own exit
    # runs its finalizers, so the folders go however the worker ends.
    multiprocessing.util.Finalize(None, remove_all, exitpriority=10)
    _die_with_parent()
    threading.Thread(target=_watch, args=(parent,), name="drill-parent-watch",
                     daemon=True).start()


def _terminated(signum: int, frame: Any) -> None:
    """Unwind the running drill (its world closes: a git child it waits on is killed, its
    folders go), then exit for sure: the pool's worker loop would catch the SystemExit
    and wait for the next chunk, so a timer ends the process ``GRACE_S`` later."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _silence()
    timer = threading.Timer(GRACE_S, _hard_exit)
    timer.daemon = True
    timer.start()
    raise SystemExit(EXIT_TERMINATED)


def _silence() -> None:
    """A worker stopped on purpose has nothing to report: the objects a half-built drill
    leaves behind ("Exception ignored in ... __del__") must not add lines to the drill's
    one-line stderr."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _hard_exit() -> None:
    """End the worker now: its children first (a git it ran would go on writing into the
    folders), then its folders."""
    for child in _children():
        with contextlib.suppress(OSError):  # gone already
            os.kill(child, signal.SIGKILL)
    remove_all()
    os._exit(EXIT_TERMINATED)


def _children() -> list[int]:
    """This process's child processes (Linux's /proc; elsewhere none are known)."""
    return [pid for pid, fields in proc_stats() if len(fields) > 1
            and fields[1] == str(os.getpid())]


def proc_stats() -> Iterator[tuple[int, list[str]]]:
    """Each live process's pid and its ``/proc/<pid>/stat`` fields after the command name
    (state, ppid, pgrp, session, …: ``proc(5)``); none where there is no /proc. The name
    is skipped by its closing parenthesis, since a name may hold spaces."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), stat.read_text().rpartition(")")[2].split()
        except OSError:  # gone since the listing
            continue


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
