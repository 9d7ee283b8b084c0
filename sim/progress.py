"""The one progress bar long commands show: on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


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
