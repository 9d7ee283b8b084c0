"""Named random streams: independent of each other and of the order they are asked for."""

from __future__ import annotations

import subprocess
import sys

from sim.rng import Streams


def test_stream_does_not_depend_on_other_streams() -> None:
    """Asking for another stream first does not shift a stream's draws."""
    a = Streams(9)
    a.get("other").random(100)
    b = Streams(9)
    assert a.get("traffic").random(5).tolist() == b.get("traffic").random(5).tolist()


def test_streams_are_stable_across_hash_seeds() -> None:
    """The same seed and name give the same draws under another PYTHONHASHSEED."""
    code = "from sim.rng import Streams; print(Streams(5).get('x').integers(0, 10**9))"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": h, "PATH": ""}, check=True).stdout
            for h in ("0", "123")}
    assert len(outs) == 1
