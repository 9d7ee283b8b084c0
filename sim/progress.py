"""How long commands show progress: a bar on a terminal, a line per finished unit elsewhere.

On a terminal a tqdm bar on stderr moves with every run; where output goes to a file or a
pipe (a CI job, ``drill check > log``) a bar is noise and silence looks hung, so each
finished unit (a scenario, a grid point) prints one line there instead, flushed at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def progress_bar(total: int, label: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``; draws a tqdm bar when ``enabled`` and stderr is a TTY."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="run", file=sys.stderr, leave=False,
              dynamic_ncols=True) as bar:
        yield bar.update


def line_sink(stream: TextIO) -> Callable[[str], None] | None:
    """``print(line)`` onto ``stream``, flushed, when it is not a terminal; None on one."""
    if _isatty(stream):
        return None

    def emit(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()
    return emit


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: not a terminal
        return False
