"""Writing a calibration as a scenario overlay (``drill run … --set @FILE``).

One line per calibrated input, ``key.path: {dist: …}``, with a comment beside it citing
the API and what was measured, the sample size, the date range, the KS figures and the
95 % intervals; then the ``calibration`` list the loader merges into the scenario
(``sim.scenario.overlay``) so the reports can name each input's source.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sim.calibrate.fit import Fit
from sim.calibrate.sentry import Copied
from sim.calibrate.sources import Sample

# Bare words YAML reads as something other than a string.
_YAML_WORDS = frozenset({"null", "Null", "NULL", "true", "True", "TRUE", "false", "False",
                         "FALSE", "yes", "Yes", "no", "No", "on", "On", "off", "Off", "y", "n"})


def overlay_text(fitted: list[tuple[Sample, Fit]], copied: list[Copied], written: datetime,
                 notes: list[str]) -> str:
    """The overlay file's text for ``fitted`` and ``copied`` inputs; ``notes`` become
    header comments."""
    lines = [f"# drill calibrate overlay, written {_day(written, True)}",
             "# Use: drill run SCENARIO --set @THIS_FILE (or --set @THIS_FILE with sweep,",
             "# check, baseline, validate). Each value cites the history it was fitted to.",
             *[f"# {note}" for note in notes]]
    for sample, fit in fitted:
        lines.append(f"{sample.field}: {_flow(fit.spec)}  # {_comment(sample, fit)}")
    for c in copied:
        how = "copied from" if c.family == "copied" else "measured from"
        extra = "" if c.family == "copied" else \
            f"; n={c.n}, {_day(c.first or c.at)}..{_day(c.at)}; 95% CI {c.interval}"
        lines += [f"{key}: {_scalar(value)}  # {how} {c.source}{extra}"
                  for key, value in c.pairs]
    lines.append("calibration:")
    lines += [f"  - {_flow(_record(sample, fit))}" for sample, fit in fitted]
    lines += [f"  - {_flow(_copied_record(c))}" for c in copied]
    return "\n".join(lines) + "\n"


def _comment(sample: Sample, fit: Fit) -> str:
    interval = fit.interval_text()
    return (f"{sample.source}; n={fit.n}, {_range(sample)}; {fit.goodness_text()}"
            + (f"; 95% CI {interval}" if interval else ""))


def _record(sample: Sample, fit: Fit) -> dict[str, object]:
    return {"field": sample.field, "source": sample.source, "n": fit.n,
            "first": _day(min(sample.times), True), "last": _day(max(sample.times), True),
            "family": fit.family,
            "ks_statistic": None if fit.ks_statistic is None else round(fit.ks_statistic, 4),
            "ks_pvalue": None if fit.ks_pvalue is None else round(fit.ks_pvalue, 4),
            "interval": fit.interval_text() or None}


def _copied_record(c: Copied) -> dict[str, object]:
    record: dict[str, object] = {
        "field": c.field, "source": c.source, "n": c.n, "first": _day(c.first or c.at, True),
        "last": _day(c.at, True), "family": c.family}
    return {**record, "interval": c.interval} if c.interval else record


def _range(sample: Sample) -> str:
    return f"{_day(min(sample.times))}..{_day(max(sample.times))}"


def _day(at: datetime, full: bool = False) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ" if full else "%Y-%m-%d")


def _flow(mapping: Mapping[str, object]) -> str:
    """A YAML flow mapping; strings JSON-quoted (valid YAML), floats to 6 digits."""
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in mapping.items()) + "}"


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str) and value.isidentifier() and value not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
