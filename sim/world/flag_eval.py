"""Who decides each user's variant: the Python port, or the app's own flag module in Node.

The harness asks one question wherever it decides a variant (``sim.world.served`` for the
fresh answer, ``sim.world.flag_client`` for a render from persisted flags): what does
``shouldShowNewContacts`` answer for these users, under this build, while each user's
posthog-js answers ``remote`` (-1 undefined, 0 false, 1 true; None: undefined for all)?

- ``PortEvaluator`` answers with ``rollout.release.flags.evaluate_population``, as the
  harness always did: scenarios without ``flag.module`` are unchanged to the byte.
- ``ModuleEvaluator`` answers from the module run in Node (``sim.world.node_module``).
  Per distinct state (the form, the build's baked env) it evaluates the whole population
  in one request under each PostHog answer a browser can hold (undefined; and false and
  true when the build reads the PostHog flag), and then only indexes that table: a
  user's answer is the row of what their browser holds. Beside each table it computes
  the port's and records every user where they differ (``parity``): a finding for
  summary.json's ``flag_module`` section, not an error.

``import.meta.env`` is what Vite inlines into a production build: the ``VITE_*``
variables the build baked plus the built-ins ``MODE``, ``BASE_URL``, ``PROD``, ``DEV`` and
``SSR`` (https://vite.dev/guide/env-and-mode, "Built-in Constants").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fakes.common.serving import LiveBuild
from rollout.release.flags import REMOTE_UNDEFINED, FlagMode, evaluate_population
from sim.scenario.model import Scenario
from sim.world.population import Population

# A `vite build` for production: mode 'production' sets PROD (and NODE_ENV), base '/'.
VITE_BUILTINS: dict[str, Any] = {"MODE": "production", "BASE_URL": "/", "PROD": True,
                                 "DEV": False, "SSR": False}
MAX_LISTED = 50  # differing user ids listed in summary.json; the total is always given
_ANSWERS: dict[int, bool | None] = {REMOTE_UNDEFINED: None, 0: False, 1: True}


class FlagEvaluator(Protocol):
    """What ``shouldShowNewContacts`` answers, for the population or some of its users."""

    def evaluate(self, mode: FlagMode, build: LiveBuild, remote: np.ndarray | None,
                 users: np.ndarray | None = None) -> np.ndarray: ...

    def section(self) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


class PortEvaluator:
    """The Python port (``rollout.release.flags``): what the harness has always run."""

    def __init__(self, population: Population) -> None:
        self.pop = population

    def evaluate(self, mode: FlagMode, build: LiveBuild, remote: np.ndarray | None,
                 users: np.ndarray | None = None) -> np.ndarray:
        """A bool per user (``users``' rows, or everyone); ``remote`` is per those users."""
        if users is None:
            return evaluate_population(mode, self.pop.buckets, self.pop.is_internal,
                                       build.env, remote)
        return evaluate_population(mode, self.pop.buckets[users], self.pop.is_internal[users],
                                   build.env, remote)

    def section(self) -> dict[str, Any] | None:
        return None

    def close(self) -> None:
        pass


@dataclass
class Parity:
    """Where the module and the port disagreed, over every state evaluated."""

    size: int
    states: list[dict[str, Any]] = field(default_factory=list)
    differing: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.differing = np.zeros(self.size, dtype=bool)

    def add(self, mode: FlagMode, env: dict[str, Any], answer: bool | None,
            module: np.ndarray, port: np.ndarray) -> None:
        assert self.differing is not None
        diff = module != port
        self.differing |= diff
        self.states.append({"mode": mode.value, "env": env, "posthog": _js(answer),
                            "module_exposure": float(module.mean()) if self.size else 0.0,
                            "port_exposure": float(port.mean()) if self.size else 0.0,
                            "differing": int(np.count_nonzero(diff))})


class ModuleEvaluator:
    """The app's flag module in Node, one population-wide request per distinct state."""

    def __init__(self, scenario: Scenario, population: Population, where: str) -> None:
        from sim.world.node_module import NodeFlagModule

        flag = scenario.flag
        assert flag.module is not None
        self.module, self.export = flag.module, flag.export_name
        self.module_sha256 = module_sha256(Path(flag.module))
        self.pop = population
        self.port = PortEvaluator(population)
        self.node = NodeFlagModule(flag.module, self.export, flag.posthog.key, population.ids,
                                   where)  # loads in the background until first use
        self.parity = Parity(population.size)
        self._tables: dict[tuple[object, ...], np.ndarray] = {}

    def evaluate(self, mode: FlagMode, build: LiveBuild, remote: np.ndarray | None,
                 users: np.ndarray | None = None) -> np.ndarray:
        """A bool per user, looked up in the state's table by what their browser holds."""
        table = self._table(mode, build)
        rows = users if users is not None else slice(None)
        if remote is None or table.shape[0] == 1:
            return table[0, rows].copy()
        held = np.asarray(remote, dtype=np.intp) - REMOTE_UNDEFINED  # -1, 0, 1 -> rows 0-2
        columns = users if users is not None else np.arange(self.pop.size)
        return table[held, columns]

    def _table(self, mode: FlagMode, build: LiveBuild) -> np.ndarray:
        key = (mode, build.vite_env)
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = self._compute(mode, build)
        return table

    def _compute(self, mode: FlagMode, build: LiveBuild) -> np.ndarray:
        """Run the module over everyone under each PostHog answer a browser can hold
        (only undefined when the build ignores PostHog), and compare with the port."""
        codes = [REMOTE_UNDEFINED, 0, 1] if mode is FlagMode.REMOTE else [REMOTE_UNDEFINED]
        env = {**dict(build.vite_env), **VITE_BUILTINS}
        table = self.node.evaluate(env, [_ANSWERS[c] for c in codes])
        for code, module in zip(codes, table, strict=True):
            remote = None if code == REMOTE_UNDEFINED else np.full(self.pop.size, code, np.int8)
            port = self.port.evaluate(mode, build, remote)
            self.parity.add(mode, dict(build.vite_env), _ANSWERS[code], module, port)
        return table

    def section(self) -> dict[str, Any] | None:
        """summary.json's ``flag_module``: the module (its file name and content digest,
        not where this machine keeps it: the summary is the same in any checkout), and
        where it disagreed with the port."""
        differing = self.parity.differing
        assert differing is not None
        where = np.flatnonzero(differing)
        return {"module": Path(self.module).name, "module_sha256": self.module_sha256,
                "export": self.export,
                "esbuild_version": self.node.esbuild_version,
                "states_evaluated": len(self.parity.states),
                "users_compared": self.pop.size,
                "differing_users": int(where.size),
                "differing_user_ids": [self.pop.id_of(int(i)) for i in where[:MAX_LISTED]],
                "states": self.parity.states}

    def close(self) -> None:
        self.node.close()


def module_sha256(path: Path) -> str:
    """The sha256 of the module file's bytes: what names a module in a summary and in the
    scenario digest (``sim.results.writer.digest_of``), never where it lies. Raises
    OSError when it cannot be read."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flag_evaluator(scenario: Scenario, population: Population) -> FlagEvaluator:
    """The port, or (``flag.module`` set) the module in Node; raises BadInput when Node,
    npm or esbuild is missing, or the module does not load."""
    if scenario.flag.module is None:
        return PortEvaluator(population)
    return ModuleEvaluator(scenario, population,
                           f"scenario '{scenario.name}': field 'flag.module'")


def _js(answer: bool | None) -> str:
    return "undefined" if answer is None else str(answer).lower()
