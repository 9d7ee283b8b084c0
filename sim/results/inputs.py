"""Which timing inputs a run used, and where each came from: calibrated (from which
vendor API, how many samples, their date range, the fit), stated in the scenario, or
left at the model's default.

``inputs_section(scenario)`` is summary.json's ``inputs`` and report.md's "Inputs"
section. It is written for a calibrated scenario (one with a ``calibration`` section,
``drill calibrate``'s overlay applied); an uncalibrated run's outputs are as before.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.calibration import TIMING_INPUTS
from sim.scenario.model import Scenario
from sim.scenario.monitoring import AlertRule
from sim.scenario.traffic import PostHogFlagSpec
from sim.scenario.units import DistSpec


def inputs_section(scenario: Scenario) -> dict[str, Any] | None:
    """``{calibrated: {path: provenance}, stated: {path: value}, defaults: {path: value}}``,
    or None for a scenario without calibration."""
    if not scenario.calibration:
        return None
    calibrated = {c.field: {**c.model_dump(mode="json", exclude={"field"}),
                            "value": describe(value_of(scenario, c.field), c.field)}
                  for c in scenario.calibration}
    stated: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for path in TIMING_INPUTS:
        if path in calibrated:
            continue
        value = value_of(scenario, path)
        into = defaults if value == value_of(None, path) else stated
        into[path] = describe(value, path)
    return {"calibrated": calibrated, "stated": stated, "defaults": defaults}


def value_of(scenario: Scenario | None, path: str) -> Any:
    """The value at ``section.name`` in ``scenario`` (None: the model's default)."""
    section, name = path.split(".")
    holder = getattr(scenario, section) if scenario is not None \
        else Scenario.model_fields[section].default
    return getattr(holder, name)


def describe(value: Any, path: str = "") -> str:
    """``value`` as a report line gives it (a null escalated ack delay is the first
    level's: ``IncidentComms.level_ack_delay``)."""
    if isinstance(value, DistSpec):
        return value.describe()
    if isinstance(value, AlertRule):
        return (f"{value.aggregate} {value.threshold_type} {value.threshold:g} over "
                f"{value.time_window / 60:g} min, query {value.query!r}")
    if isinstance(value, PostHogFlagSpec):
        return (f"{value.key} {'active' if value.active else 'inactive'} at "
                f"{value.rollout_percentage:g} %")
    if path.startswith("traffic.error_rate"):
        return f"{value:.6g} per page view"
    if value is None:
        return "as incident.ack_delay" if path == "incident.escalated_ack_delay" \
            else "never (null)"
    return f"{value:g} s"


def inputs_lines(section: dict[str, Any]) -> list[str]:
    """report.md's lines for the section."""
    lines = [_calibrated_line(path, c) for path, c in section["calibrated"].items()]
    lines += [f"- `{path}` = {v}: stated in the scenario" for path, v in section["stated"].items()]
    lines += [f"- `{path}` = {v}: the model's default (not calibrated)"
              for path, v in section["defaults"].items()]
    return lines


def _calibrated_line(path: str, c: dict[str, Any]) -> str:
    if c["family"] == "binomial":  # a share measured, not fitted
        return (f"- `{path}` = {c['value']}: measured from {c['source']}; n={c['n']}, "
                f"{c['first'][:10]}..{c['last'][:10]}; 95% CI {c['interval']}")
    if c["family"] == "copied":  # copied from the team's configuration, not fitted
        return f"- `{path}` = {c['value']}: copied from {c['source']} ({c['first'][:10]})"
    if c["ks_statistic"] is None:  # a fit with no test (a fixed value)
        return (f"- `{path}` = {c['value']}: calibrated from {c['source']}; n={c['n']}, "
                f"{c['first'][:10]}..{c['last'][:10]}; no goodness-of-fit test")
    return (f"- `{path}` = {c['value']}: calibrated from {c['source']}; n={c['n']}, "
            f"{c['first'][:10]}..{c['last'][:10]}; KS D={c['ks_statistic']:.3f} "
            f"p={c['ks_pvalue']:.3f}" + (f"; 95% CI {c['interval']}" if c["interval"] else ""))
