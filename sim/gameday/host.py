"""Serving a game day: the drill's fakes and the live view on loopback TCP, in a thread.

Each fake the drill has is served over its own port, its app built over the drill's own
backend (so what a person changes is what the traffic reads), with the scenario's API
faults in front (a rollback API that is down is down for people too), its ``/_fake/``
control plane behind a fresh token (``DRILL_FAKE_TOKEN``, as ``drill serve`` guards it),
and wrapped in a ``CallRecorder`` (the responder's timeline). The view gets a port too.
On the git paths the env file also names the app's bare origin (``DRILL_APP_REPO``): a
person clones it, reverts and pushes to main, and the drill's CI deploys the push. The servers run
on one asyncio loop in a background thread; ``GamedayHost`` starts them, says where they
listen (the env file a person sources, as ``drill serve`` writes it) and stops them.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from fakes.common.descriptor import Vendor
from fakes.common.fault_router import install
from fakes.common.faults import FaultInjector
from fakes.common.guard import ControlGuard
from fakes.common.redact import secrets_in
from sim.gameday.drill import GamedayDrill
from sim.gameday.recorder import CallRecorder
from sim.serve import TOKEN_ENV, bind, write_env_file
from sim.serve_host import served_names
from sim.world.fakes import drill_vendors

VIEW_ENV = "DRILL_GAMEDAY_URL"
REPO_ENV = "DRILL_APP_REPO"  # the app's bare origin, on the git paths


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the game day's runner."""

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        return None

    def capture_signals(self) -> Any:  # uvicorn ≥ 0.29
        import contextlib

        return contextlib.nullcontext()


def _state_of(backend: Any) -> Any:
    """A backend's ``/_fake/state`` document (what holds its secrets), or nothing."""
    state = getattr(backend, "state", None)
    return state() if callable(state) else {}


@dataclass
class GamedayHost:
    """The servers of one game day and the variables that reach them."""

    drill: GamedayDrill
    view: Any
    host: str = "127.0.0.1"
    env: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    _servers: list[_Server] = field(default_factory=list)
    _thread: threading.Thread | None = None

    def apps(self) -> dict[str, Any]:
        """Service name → the app people reach (each fake recorded, then the view)."""
        d = self.drill
        apps: dict[str, Any] = {
            v.name: CallRecorder(self._app(v), v.name, d.clock, d.lock, d.calls, d.on_call,
                                 d.catch_up, secrets_in(_state_of(d.world.backend(v))))
            for v in drill_vendors(d.s)}
        apps["view"] = self.view
        return apps

    def _app(self, vendor: Vendor[Any]) -> Any:
        """The vendor's app over the drill's backend; a vendor the scenario's API faults
        may target refuses people's calls as it refuses the drill's (the same rules, on
        the drill's clock, drawn from their own stream)."""
        d = self.drill
        app = vendor.app(d.world.backend(vendor), True)
        if vendor.api_faults:
            seed = int(d.streams.get(f"gameday.api_faults.{vendor.name}").integers(0, 2**31))
            install(app, FaultInjector(d.clock, seed, rules=d.faults.rules_for(vendor.name)))
        # /_fake/* (reset, faults, state) is the facilitator's, as under drill serve
        app.add_middleware(ControlGuard, token=self.token,
                           hosts=(self.host, *served_names(self.host)), any_ip=False,
                           error_class=getattr(app.state, "fake_error_class", None))
        return app

    def start(self, env_file: Path | None) -> None:
        """Bind every port, start the servers, write ``env_file``; returns once all listen."""
        ready = threading.Event()
        sockets = []
        for name, app in self.apps().items():
            sock = bind(self.host, 0)
            url = f"http://{self.host}:{sock.getsockname()[1]}"
            self.urls[name] = url
            self._add_env(name, url)
            config = uvicorn.Config(app, log_level="warning", lifespan="off",
                                    access_log=False)
            self._servers.append(_Server(config))
            sockets.append(sock)
        self._thread = threading.Thread(target=self._run, args=(sockets, ready),
                                        name="gameday-servers", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the game day's servers did not start")
        repo = self.drill.world.app_repo
        if repo is not None:  # the git paths: people clone, revert and push to main
            self.env[REPO_ENV] = str(repo.remote)
        if env_file is not None:
            write_env_file(env_file, self.env)

    def _add_env(self, name: str, url: str) -> None:
        if name == "view":
            self.env[VIEW_ENV] = url
            self.env[TOKEN_ENV] = self.token
            return
        vendor = next(v for v in drill_vendors(self.drill.s) if v.name == name)
        self.env.update(vendor.env(self.drill.world.backend(vendor), url))

    def _run(self, sockets: list[Any], ready: threading.Event) -> None:
        async def main() -> None:
            tasks = [asyncio.create_task(s.serve(sockets=[sock]))
                     for s, sock in zip(self._servers, sockets, strict=True)]
            while not all(s.started for s in self._servers):
                if any(t.done() for t in tasks):
                    return
                await asyncio.sleep(0.01)
            ready.set()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run(main())

    def stop(self) -> None:
        """Ask every server to exit and wait for the thread (a few seconds at most)."""
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
