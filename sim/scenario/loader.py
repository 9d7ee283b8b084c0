"""Reading scenario files: YAML in, a validated ``Scenario`` or one clear error out.

``load_scenario(path, overrides)`` reads the file (strict YAML: ``sim.scenario.yamlfile``),
applies ``--set key.path=value`` overrides (and ``--set @FILE`` overlays of many:
``sim.scenario.overlay``), validates (within the documented limits of
``sim.scenario.limits``), and raises ``ScenarioError`` naming the file, the field and
what is allowed. Nothing runs before validation succeeds. A ``flag.module`` is resolved
against the scenario file's folder, must exist, and needs Node (``sim.nodetools``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioError
from sim.nodetools import check_node_tools
from sim.scenario.faults import FAULT_KINDS
from sim.scenario.model import Scenario
from sim.scenario.overlay import drop_calibration, merge_calibration, read_overlay
from sim.scenario.yamlfile import YamlProblem, parse_yaml

DEFAULT_SCENARIO = "critical-bug-flag-disable"
_MODULE_SUFFIXES = (".ts", ".js", ".mts", ".mjs", ".cts", ".cjs", ".tsx", ".jsx")
# How pydantic names a union member in an error's location: by its tag or its class.
_FAULT_LOC_NAMES = frozenset([*FAULT_KINDS, *(m.__name__ for m in FAULT_KINDS.values())])
_INNER_FIELD = re.compile(r"^([A-Za-z_][\w.]*): (.*)$", re.DOTALL)


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Validate the scenario at ``path`` with ``overrides``; raises ScenarioError."""
    source = str(path)
    data = _read_yaml(Path(path), source)
    return resolve_flag_module(validate_scenario(data, source, overrides), Path(path).parent,
                               source)


def resolve_flag_module(scenario: Scenario, base: Path, source: str) -> Scenario:
    """``scenario`` with ``flag.module`` made absolute against ``base``; raises
    ScenarioError when the file is missing or Node (or npm, esbuild missing) is not there."""
    module = scenario.flag.module
    if module is None:
        return scenario
    resolved = (base / module).resolve()
    if resolved.suffix not in _MODULE_SUFFIXES:
        raise ScenarioError(source, "flag.module", f"a {', '.join(_MODULE_SUFFIXES)} file, "
                            f"not {module!r}")
    if not resolved.is_file():
        raise ScenarioError(source, "flag.module", f"no such file: {resolved}")
    check_node_tools(f"{source}: field 'flag.module'")
    flag = scenario.flag.model_copy(update={"module": str(resolved)})
    return scenario.model_copy(update={"flag": flag})


def load_default(overrides: Iterable[str] = ()) -> Scenario:
    """The scenario embedded in the package, used when ``drill run`` names none."""
    text = resources.files("sim.defaults").joinpath(f"{DEFAULT_SCENARIO}.yaml").read_text()
    source = f"<embedded {DEFAULT_SCENARIO}.yaml>"
    return validate_scenario(_parse_yaml(text, source), source, overrides)


def validate_scenario(data: Any, source: str, overrides: Iterable[str] = ()) -> Scenario:
    """A ``Scenario`` from already-parsed data; raises ScenarioError."""
    if not isinstance(data, Mapping):
        raise ScenarioError(source, "", "a scenario file is a YAML mapping of fields")
    merged = copy.deepcopy(dict(data))
    for item in overrides:
        if item.startswith("@"):
            _apply_overlay(merged, Path(item[1:]), source)
        else:
            _apply_override(merged, item, source)
    try:
        return Scenario.model_validate(merged)
    except ValidationError as exc:
        raise _explain(exc, source) from None


def _read_yaml(path: Path, source: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "", f"cannot be read ({exc})") from None
    return _parse_yaml(text, source)


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return parse_yaml(text)
    except YamlProblem as exc:
        raise ScenarioError(source, "", str(exc)) from None


def _apply_overlay(data: dict[str, Any], path: Path, source: str) -> None:
    pairs, records = read_overlay(path)
    for key, value in pairs:  # a key the scenario has no place for is the overlay's error
        _set_path(data, key, value, f"--set @{path}")
    merge_calibration(data, records)


def _apply_override(data: dict[str, Any], item: str, source: str) -> None:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"--set {item}", "", "write --set key.path=value or --set @FILE")
    try:
        value = parse_yaml(raw) if raw.strip() else ""
    except YamlProblem:
        value = raw
    _set_path(data, key, value, source)
    drop_calibration(data, key.strip())  # the hand's value is no longer the calibration's


def _set_path(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    node: Any = data
    parts = key.strip().split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            node = _list_item(node, part, key, source)
            continue
        node = node.setdefault(part, {})
        if not isinstance(node, dict | list):
            raise ScenarioError(source, key, f"'{part}' is not a mapping, cannot set below it")
    if isinstance(node, list):
        index = _list_index(node, parts[-1], key, source)
        node[index] = value
    else:
        node[parts[-1]] = value


def _list_index(node: list[Any], part: str, key: str, source: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ScenarioError(source, key, f"'{part}' is not an index of a {len(node)}-item list")
    return int(part)


def _list_item(node: list[Any], part: str, key: str, source: str) -> Any:
    return node[_list_index(node, part, key, source)]


def _explain(exc: ValidationError, source: str) -> ScenarioError:
    error = exc.errors()[0]
    loc = [str(p) for p in error["loc"] if not str(p).startswith("function-")]
    loc = [p for p in loc if p not in _FAULT_LOC_NAMES]
    field = ".".join(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc[:-1])
        return ScenarioError(source, field, f"unknown field; allowed here: {', '.join(allowed)}")
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "union_tag_invalid":
        tag = (error.get("ctx") or {}).get("tag", error["input"])
        message = f"unknown kind {tag!r}; allowed: {_fault_kinds()}"
    if kind == "union_tag_not_found":
        message = f"each fault needs a 'kind'; allowed: {_fault_kinds()}"
    if "input" in error and kind not in ("missing", "union_tag_invalid") \
            and not isinstance(error["input"], dict | list):
        message += f" (got {_short(error['input'])})"
    inner = _INNER_FIELD.match(message)
    if inner:  # a model-level rule names the field it is about
        field = ".".join(p for p in (field, inner.group(1)) if p)
        message = inner.group(2)
    return ScenarioError(source, field, message)


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: the message stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _fault_kinds() -> str:
    return ", ".join(FAULT_KINDS)


def _allowed_fields(loc: list[str]) -> list[str]:
    model: Any = Scenario
    for part in loc:
        if part.isdigit():
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return sorted(model.model_fields)


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    metadata = getattr(annotation, "__origin__", None)
    return _model_of(metadata) if metadata not in (None, annotation) else None
