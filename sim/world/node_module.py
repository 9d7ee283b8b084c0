"""The app's own flag module in one long-lived Node process, spoken to in JSON lines.

``NodeFlagModule`` starts ``node flag_runner.cjs`` (shipped beside this module as package
data), has it bundle the module with esbuild (``sim.nodetools`` installs it) and hands it
the population's ids once (any strings: JSON carries even lone surrogates); ``evaluate``
then asks, for one build's ``import.meta.env`` and a list of PostHog answers (None =
undefined, False, True), what the exported function returns for every user: one request
per state, never one per visit. A module that does not bundle, lacks the export, throws or
returns a non-boolean raises ``BadInput`` (exit 2), one line naming the module.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import IO, Any

import numpy as np

from sim.errors import BadInput
from sim.nodetools import TOOLS_ENV, ensure_esbuild, node_binary

RUNNER = "flag_runner.cjs"
_ONE = ord("1")
_CLOSE_TIMEOUT_S = 5.0


class NodeFlagModule:
    """One Node process running ``export`` of ``module`` over a fixed list of user ids."""

    def __init__(self, module: str, export: str, flag_key: str,
                 ids: np.ndarray | Sequence[str], where: str) -> None:
        self.module, self.export = module, export
        tools = ensure_esbuild(where)
        runner = str(resources.files("sim.world").joinpath(RUNNER))
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _stop)
        self._proc = subprocess.Popen(
            [node_binary(where), runner], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, env={**os.environ, TOOLS_ENV: str(tools)})
        self._finalizer = weakref.finalize(self, _stop, self._proc, self._stderr)
        self.size = len(ids)
        # Node starts, takes the ids and bundles while the drill builds its world (a thread
        # writes the request; the pipe blocks until node reads): the answer is read at
        # first use (``esbuild_version``, ``evaluate``), where a failure raises BadInput.
        self._loading = threading.Thread(target=self._load, daemon=True,
                                         args=(module, export, flag_key, ids))
        self._loading.start()
        self._version: str | None = None

    def _load(self, module: str, export: str, flag_key: str,
              ids: np.ndarray | Sequence[str]) -> None:
        users = ids.astype(str).tolist() if isinstance(ids, np.ndarray) else list(ids)
        self._send({"op": "load", "module": module, "export": export, "flagKey": flag_key,
                    "ids": users})

    @property
    def esbuild_version(self) -> str:
        """The esbuild that bundled the module (waits for the load to finish)."""
        if self._version is None:
            self._loading.join()
            self._version = str(self._receive()["esbuild"])
        return self._version

    def evaluate(self, env: Mapping[str, Any], remote: Sequence[bool | None]) -> np.ndarray:
        """A bool array (len(remote), users): the function's answer for every user under
        ``env`` (``import.meta.env``) while posthog-js answers each of ``remote``."""
        self.esbuild_version  # noqa: B018 (the load's answer comes first)
        answer = self._ask({"op": "eval", "env": dict(env), "remote": list(remote)})
        columns = answer["columns"]
        out = np.empty((len(remote), self.size), dtype=bool)
        for row, text in enumerate(columns):
            out[row] = np.frombuffer(text.encode("ascii"), dtype=np.uint8) == _ONE
        return out

    def close(self) -> None:
        """End the Node process (idempotent)."""
        self._finalizer()

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        self._send(request)
        return self._receive()

    def _send(self, request: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(request).encode() + b"\n")
            self._proc.stdin.flush()
        except OSError:
            pass  # node is gone: _receive reads nothing and says why

    def _receive(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        try:
            line = self._proc.stdout.readline()
        except OSError:
            line = b""
        if not line:
            raise BadInput(f"{self.module}: node exited while running it: {self._last_error()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise BadInput(f"{self.module}: {self.export}: {answer['error']}")
        return answer

    def _last_error(self) -> str:
        self._proc.wait(timeout=_CLOSE_TIMEOUT_S)
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {self._proc.returncode}"


def _stop(proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
    """Close the runner's stdin (it exits at end of input); kill it if it lingers."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=_CLOSE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
        stderr.close()
