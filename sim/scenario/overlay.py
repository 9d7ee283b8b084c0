"""Overlay files: many ``--set`` overrides in one YAML file, ``--set @FILE``.

An overlay is a mapping of dotted scenario paths to values, exactly what ``--set
key.path=value`` takes, one per line; ``drill calibrate`` writes one, with a comment
beside each value citing where it came from. Its ``calibration`` key is the list of
provenance records (``sim.scenario.calibration``), merged into the scenario's own: a
record replaces the scenario's record of the same field. A hand ``--set`` after it that
changes a calibrated input (the input, a part of it, or a section holding it) drops that
input's record: the value is then the hand's, not the calibration's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.scenario.yamlfile import YamlProblem, parse_yaml

CALIBRATION_KEY = "calibration"


def read_overlay(path: Path) -> tuple[list[tuple[str, Any]], list[Any]]:
    """The overlay's ``(key.path, value)`` overrides and its calibration records.

    Raises ScenarioError naming the overlay file when it cannot be read or is not a
    mapping of dotted paths.
    """
    source = f"--set @{path}"
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such overlay file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "", f"cannot be read ({exc})") from None
    except YamlProblem as exc:
        raise ScenarioError(source, "", str(exc)) from None
    if not isinstance(data, Mapping):
        raise ScenarioError(source, "", "an overlay is a YAML mapping of key.path: value")
    records = data.get(CALIBRATION_KEY, [])
    if not isinstance(records, list):
        raise ScenarioError(source, CALIBRATION_KEY, "a list of calibration records")
    pairs = [(str(k), v) for k, v in data.items() if k != CALIBRATION_KEY]
    return pairs, records


def merge_calibration(data: dict[str, Any], records: list[Any]) -> None:
    """Add ``records`` to ``data``'s calibration, replacing those of the same field."""
    fields = {r.get("field") for r in records if isinstance(r, Mapping)}
    kept = [r for r in data.get(CALIBRATION_KEY) or []
            if not (isinstance(r, Mapping) and r.get("field") in fields)]
    data[CALIBRATION_KEY] = kept + list(records)


def drop_calibration(data: dict[str, Any], key: str) -> None:
    """Remove the calibration records that a hand override of ``key`` makes untrue: the
    record of ``key`` itself, of an input ``key`` is a part of, or of an input inside
    ``key``."""
    records = data.get(CALIBRATION_KEY)
    if not isinstance(records, list):
        return
    data[CALIBRATION_KEY] = [r for r in records if not (
        isinstance(r, Mapping) and isinstance(r.get("field"), str)
        and _overlaps(key, r["field"]))]


def _overlaps(key: str, field: str) -> bool:
    return key == field or key.startswith(field + ".") or field.startswith(key + ".")
