"""The app's own flag module in Node (``flag.module``): the runbook's three forms agree with
the Python port bit for bit; a changed module moves exposure as Node says and the parity
section names who differs; missing tools and broken modules are one-line exit-2 errors;
the same seed gives the same summary. Each test needs node; esbuild is installed through
``sim.nodetools`` (into ``DRILL_NODE_TOOLS``) on first use.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from rollout.release.flags import (
    INTERNAL_ENV_FLAG,
    ROLLOUT_ENV,
    FlagEnv,
    FlagMode,
    buckets,
    evaluate_population,
)
from sim.drills.incident import IncidentDrill
from sim.nodetools import ensure_esbuild
from sim.results.writer import digest_of, scenario_dump
from sim.scenario.loader import load_scenario
from sim.world.flag_eval import VITE_BUILTINS
from sim.world.node_module import NodeFlagModule
from tests.sim.drill_cli import drill

pytestmark = [pytest.mark.node, pytest.mark.skipif(shutil.which("node") is None,
                                                    reason="needs node on PATH")]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FLAGS = EXAMPLES / "flags"
EXAMPLE = EXAMPLES / "flag-module-remote.yaml"
SMALL = ("population.users=5000", "horizon=3h", "faults.0.at=1h",
         "monitoring.alert.threshold=12")
# The forms' internal lists, as the runbook writes them (examples/flags/*/featureFlags.ts)
LISTS = {"internal": ("user-id-1", "user-id-2", "user-id-3"),
         "percentage": ("user-id-1", "user-id-2")}
# import.meta.env states: parseInt and === 'true' quirks included
ENVS = [{}, {INTERNAL_ENV_FLAG: "true"}, {INTERNAL_ENV_FLAG: "TRUE", ROLLOUT_ENV: "50"},
        {INTERNAL_ENV_FLAG: "false"},
        *({INTERNAL_ENV_FLAG: "true", ROLLOUT_ENV: pct}
          for pct in ("50", "0", "100", " 7.9abc", "0x1f", "-5", "abc", "1e2"))]


@pytest.fixture(scope="module", autouse=True)
def tools() -> Path:
    """esbuild, installed by the harness's own code (once per machine)."""
    return ensure_esbuild("tests/sim/test_flag_module.py")


def population_ids(n: int) -> list[str]:
    """``n`` ids: the simulation's form, random strings of many scripts (non-BMP, NUL,
    lone surrogates), the hash's edge cases and the runbook's internal ids."""
    rng = np.random.default_rng(12)
    sim_ids = [f"usr_{x:012x}" for x in rng.integers(0, 2**48, size=n // 2).tolist()]
    alphabet = [(0x20, 0x7F), (0xA0, 0x2FF), (0x4E00, 0x4FFF), (0xD800, 0xDFFF),
                (0x1F600, 0x1F64F), (0, 0x20)]
    odd = []
    for _ in range(n - n // 2 - 8):
        picks = rng.integers(0, len(alphabet), size=int(rng.integers(0, 20)))
        odd.append("".join(chr(int(rng.integers(*alphabet[k]))) for k in picks))
    edge = ["", "polygenelubricants", "GydZG_", "DESIGNING WORKHOUSES", *LISTS["internal"],
            "user-id-10"]
    return sim_ids + odd + edge


def port(form: str, ids: list[str], env: dict[str, str], remote: int | None) -> np.ndarray:
    """The Python port's answer for every id under ``env`` (and PostHog ``remote``)."""
    internal = np.isin(np.array(ids, dtype=object), list(LISTS.get(form, ())))
    answers = None if remote is None else np.full(len(ids), remote, dtype=np.int8)
    return evaluate_population(FlagMode(form), buckets(ids), internal,
                               FlagEnv.from_mapping(env), answers)


def test_the_runbooks_three_forms_agree_with_the_port_bit_for_bit() -> None:
    """Each example module (the runbook's internal, percentage and remote forms, verbatim)
    gives, for 100,000 ids under every env state and every PostHog answer, exactly the
    port's answer."""
    ids = population_ids(100_000)
    for form in ("internal", "percentage", "remote"):
        node = NodeFlagModule(str(FLAGS / form / "featureFlags.ts"), "shouldShowNewContacts",
                              "contacts_redesign", ids, "test")
        try:
            for env in ENVS:
                table = node.evaluate({**env, **VITE_BUILTINS}, [None, False, True])
                for row, remote in zip(table, (None, 0, 1), strict=True):
                    expected = port(form, ids, env, remote)
                    assert np.array_equal(row, expected), (form, env, remote)
        finally:
            node.close()


def hashed_33(user_id: str) -> int:
    """The modified module's hash, from its definition: ``(hash << 5) + hash + char``."""
    h = 0
    for unit in np.frombuffer(user_id.encode("utf-16-le", "surrogatepass"), dtype="<u2"):
        h = (33 * h + int(unit)) & 0xFFFF_FFFF
    return h - (1 << 32) if h & 0x8000_0000 else h


def modified_module(tmp_path: Path) -> Path:
    """The percentage form with its hash changed from × 31 to × 33."""
    text = (FLAGS / "percentage" / "featureFlags.ts").read_text()
    changed = text.replace("hash = (hash << 5) - hash + char;", "hash = (hash << 5) + hash + char;")
    assert changed != text
    path = tmp_path / "featureFlags.ts"
    path.write_text(changed)
    return path


def test_a_changed_hash_moves_exposure_as_node_says_and_parity_names_who_differs(
        tmp_path: Path) -> None:
    """With the module's hash changed, the drill serves what the module says (its
    exposure, computed here from the change's definition), not the port's, and the
    flag_module section counts and names exactly the users where the two differ."""
    module = modified_module(tmp_path)
    scenario = load_scenario(EXAMPLE, (*SMALL, "flag.mode=percentage", f"flag.module={module}",
                                       "population.internal_users=0",
                                       "flag.env.VITE_ROLLOUT_PERCENTAGE='50'",
                                       "responder.path=vercel-env-var"))
    run = IncidentDrill(scenario, 7)
    result = run.run_and_close()
    ids = run.population.id_of
    n = run.population.size
    module_new = np.array([abs(hashed_33(ids(i))) % 100 < 50 for i in range(n)])
    port_new = run.population.buckets < 50
    differing = np.flatnonzero(module_new != port_new)
    assert 0 < differing.size < n
    section = result.flag_module
    assert section is not None
    assert section["differing_users"] == differing.size
    assert section["differing_user_ids"] == [ids(int(i)) for i in differing[:50]]
    first = section["states"][0]
    assert first["module_exposure"] == pytest.approx(module_new.mean())
    assert first["port_exposure"] == pytest.approx(port_new.mean())
    assert result.stats.series["exposure_pct"][0] == pytest.approx(100 * module_new.mean())
    assert module_new.mean() != port_new.mean()


def test_the_example_scenario_runs_with_no_difference_and_reports_it(tmp_path: Path) -> None:
    """The example scenario's module is the runbook's remote form: summary.json has a
    flag_module section with nobody differing, report.md a section on it; the numbers are
    those of the same drill on the port."""
    out = drill("run", str(EXAMPLE), *(f"--set={s}" for s in SMALL), "--out",
                str(tmp_path / "m"), "--no-html")
    assert out.code in (0, 1), out.err
    doc = json.loads((tmp_path / "m" / "summary.json").read_text())
    section = doc["flag_module"]
    module = FLAGS / "remote" / "featureFlags.ts"  # named by file and content, not by place
    assert section["module"] == "featureFlags.ts" and str(FLAGS) not in json.dumps(doc)
    assert section["module_sha256"] == hashlib.sha256(module.read_bytes()).hexdigest()
    assert section["export"] == "shouldShowNewContacts"
    assert section["esbuild_version"] == "0.28.2"
    assert section["states_evaluated"] >= 3 and section["differing_users"] == 0
    assert "## Flag module" in (tmp_path / "m" / "report.md").read_text()
    text = EXAMPLE.read_text()
    plain = tmp_path / "plain.yaml"
    plain.write_text("\n".join(line for line in text.splitlines()
                               if not line.lstrip().startswith(("module:", "export:"))))
    drill("run", str(plain), *(f"--set={s}" for s in SMALL), "--out", str(tmp_path / "p"),
          "--no-html")
    on_port = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert "flag_module" not in on_port
    for key in ("metrics", "timeline", "facts", "impact"):
        assert doc[key] == on_port[key]


def test_same_seed_twice_gives_the_same_summary(tmp_path: Path) -> None:
    """Determinism: the drill with a module run twice on one seed writes identical
    summaries."""
    docs = []
    for name in ("a", "b"):
        drill("run", str(EXAMPLE), *(f"--set={s}" for s in SMALL), "--out",
              str(tmp_path / name), "--no-html")
        docs.append((tmp_path / name / "summary.json").read_text())
    assert docs[0] == docs[1]


def test_without_node_the_run_is_one_line_exit_2(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """No node on PATH: exit 2, one line naming the scenario file and flag.module."""
    monkeypatch.setenv("PATH", str(tmp_path))
    out = drill("run", str(EXAMPLE), "--out", str(tmp_path / "o"), "--no-html")
    assert out.code == 2
    assert len(out.err_lines) == 1
    assert str(EXAMPLE) in out.err and "flag.module" in out.err and "node" in out.err


def test_without_npm_and_no_esbuild_the_run_is_one_line_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Node there, esbuild not installed and no npm to install it: exit 2, one line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    node = shutil.which("node")
    assert node is not None
    (bin_dir / "node").symlink_to(node)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("DRILL_NODE_TOOLS", str(tmp_path / "empty"))
    out = drill("run", str(EXAMPLE), "--out", str(tmp_path / "o"), "--no-html")
    assert out.code == 2
    assert len(out.err_lines) == 1
    assert str(EXAMPLE) in out.err and "flag.module" in out.err and "npm" in out.err


@pytest.mark.parametrize("body", ["throw new Error('boom: no user store');", "return 1;"])
def test_a_module_that_throws_or_answers_a_non_boolean_is_one_line_exit_2(
        tmp_path: Path, body: str) -> None:
    """A module that throws, or returns something else than a boolean: exit 2, one line
    naming the module."""
    module = tmp_path / "featureFlags.ts"
    module.write_text(f"export function shouldShowNewContacts(userId: string): boolean "
                      f"{{ {body} }}\n")
    out = drill("run", str(EXAMPLE), f"--set=flag.module={module}", *(f"--set={s}" for s in SMALL),
                "--out", str(tmp_path / "o"), "--no-html")
    assert out.code == 2, out.err
    assert len(out.err_lines) == 1
    assert str(module) in out.err


def test_a_missing_module_file_or_export_is_exit_2(tmp_path: Path) -> None:
    """A flag.module that does not exist, or lacks the export: exit 2, one line."""
    out = drill("run", str(EXAMPLE), "--set=flag.module=nowhere/featureFlags.ts")
    assert out.code == 2 and len(out.err_lines) == 1 and "flag.module" in out.err
    out = drill("run", str(EXAMPLE), "--set=flag.export=isContactsRedesignEnabled",
                *(f"--set={s}" for s in SMALL), "--out", str(tmp_path / "o"), "--no-html")
    assert out.code == 2 and len(out.err_lines) == 1
    assert "isContactsRedesignEnabled" in out.err


def test_unset_fields_leave_the_dump_and_digest_as_they_were() -> None:
    """A scenario without flag.module dumps (scenario.json, digest) without the new keys;
    with one, its digest follows the module's content, not where the file lives."""
    plain = load_scenario(ROOT / "scenarios" / "critical-bug-flag-disable.yaml")
    assert "module" not in scenario_dump(plain)["flag"]
    assert "export" not in scenario_dump(plain)["flag"]
    with_module = load_scenario(EXAMPLE)
    moved = with_module.model_copy(update={"flag": with_module.flag.model_copy(
        update={"module": os.path.relpath(with_module.flag.module or "")})})
    assert digest_of(moved) == digest_of(with_module)
