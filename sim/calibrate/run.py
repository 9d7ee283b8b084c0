"""The calibration itself: read each vendor given, fit each sample, make the overlay.

``calibrate(...)`` returns the overlay text and notes for the user (inputs left alone,
records dropped). It raises BadInput when nothing can be read or two platforms would
both set ``world.build_time``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from sim.calibrate import sources
from sim.calibrate.fit import Fit, fit_sample
from sim.calibrate.overlay import overlay_text
from sim.calibrate.posthog import copied_flag, pick_flag, posthog_flags
from sim.calibrate.sentry import Copied, copied_rule, pick_rule, sentry_rules
from sim.calibrate.sessions import measured_rate, project_id, session_counts
from sim.calibrate.sources import Api, Sample
from sim.errors import BadInput
from sim.scenario.model import Scenario
from sim.scenario.monitoring import AlertRule
from sim.scenario.traffic import PostHogFlagSpec as FlagSpec
from sim.scenario.traffic import Traffic

TIMEOUT_S = 30.0


def calibrate(vendor: Mapping[str, str | None], files: Mapping[str, Path],
              scenario_path: Path | None, days: float, min_samples: int,
              now: datetime, platform: str | None = None) -> tuple[str, list[str]]:
    """The overlay text and the notes; raises BadInput (see the module). ``platform``
    (default: the scenario's ``world.platform``) picks Vercel's or Netlify's builds when
    both were read."""
    since = now - timedelta(days=days)
    scenario = _scenario(scenario_path)
    with httpx.Client(timeout=TIMEOUT_S) as client:
        samples = _read(vendor, files, since, now, client)
        copied = _sentry(vendor, scenario, client) + _posthog(vendor, scenario, client)
        copied += _sessions(vendor, scenario, client, days, min_samples)
    samples = _one_platform(samples, platform or (
        scenario.world.platform if scenario is not None else None))
    if not samples and not copied:
        raise BadInput("drill calibrate: nothing to read; give a vendor's token and "
                       "project/site (or its environment variables) or --from-file")
    fitted, notes = _fit_all(samples, scenario, min_samples)
    if not fitted and not copied:
        raise BadInput("drill calibrate: no input had enough samples: " + "; ".join(notes))
    return overlay_text(fitted, copied, now, notes), notes


def _read(vendor: Mapping[str, str | None], files: Mapping[str, Path], since: datetime,
          until: datetime, client: httpx.Client) -> list[Sample]:
    samples: list[Sample] = []
    samples += _vercel(vendor, files.get("vercel"), since, client)
    samples += _netlify(vendor, files.get("netlify"), since, client)
    samples += _pagerduty(vendor, files.get("pagerduty"), since, until, client)
    return samples


def _vercel(v: Mapping[str, str | None], export: Path | None, since: datetime,
            client: httpx.Client) -> list[Sample]:
    if export is not None:
        items = sources.export_items(sources.read_export(export), "deployments")
        return sources.vercel_samples(iter([items]), f"Vercel export {export.name}")
    token, project = v.get("vercel_token"), v.get("vercel_project")
    if not token or not project:
        return []
    api = Api("vercel", v.get("vercel_url") or "https://api.vercel.com", f"Bearer {token}",
              client)
    pages = sources.vercel_pages(api, project, v.get("vercel_team"), since)
    return sources.vercel_samples(pages, "Vercel GET /v6/deployments (production, READY)")


def _netlify(v: Mapping[str, str | None], export: Path | None, since: datetime,
             client: httpx.Client) -> list[Sample]:
    if export is not None:
        items = sources.export_items(sources.read_export(export), "deploys")
        return sources.netlify_samples(iter([items]), f"Netlify export {export.name}", since)
    token, site = v.get("netlify_token"), v.get("netlify_site")
    if not token or not site:
        return []
    base = (v.get("netlify_url") or "https://api.netlify.com").rstrip("/") + "/api/v1"
    api = Api("netlify", base, f"Bearer {token}", client)
    return sources.netlify_samples(sources.netlify_pages(api, site),
                                   "Netlify GET /sites/{site_id}/deploys (production, ready)",
                                   since)


def _pagerduty(v: Mapping[str, str | None], export: Path | None, since: datetime,
               until: datetime, client: httpx.Client) -> list[Sample]:
    if export is not None:
        data = sources.read_export(export)
        return sources.pagerduty_samples(sources.export_items(data, "incidents"),
                                         sources.export_items(data, "log_entries"),
                                         f"PagerDuty export {export.name}")
    token, ca_cert = v.get("pagerduty_token"), v.get("pagerduty_ca_cert")
    if not token:
        return []
    with _client(ca_cert) if ca_cert else nullcontext(client) as pd_client:
        api = Api("pagerduty", v.get("pagerduty_url") or "https://api.pagerduty.com",
                  f"Token token={token}", pd_client)
        incidents = sources.pagerduty_all(api, "/incidents", "incidents", since, until)
        entries = sources.pagerduty_all(api, "/log_entries", "log_entries", since, until)
    return sources.pagerduty_samples(incidents, entries,
                                     "PagerDuty GET /incidents + /log_entries")


def _sentry(v: Mapping[str, str | None], scenario: Scenario | None,
            client: httpx.Client) -> list[Copied]:
    token, org = v.get("sentry_token"), v.get("sentry_org")
    if not token or not org:
        return []
    api = Api("sentry", v.get("sentry_url") or "https://sentry.io", f"Bearer {token}", client)
    own = (scenario.monitoring.alert if scenario is not None else AlertRule()).name
    rule = pick_rule(sentry_rules(api, org), v.get("sentry_project"), v.get("sentry_alert"),
                     own)
    return [copied_rule(rule, org)]


def _sessions(v: Mapping[str, str | None], scenario: Scenario | None,
              client: httpx.Client, days: float, min_samples: int) -> list[Copied]:
    token, org = v.get("sentry_token"), v.get("sentry_org")
    if not token or not org or not v.get("sentry_sessions"):
        return []
    api = Api("sentry", v.get("sentry_url") or "https://sentry.io", f"Bearer {token}", client)
    slug = v.get("sentry_project")
    project = project_id(api, org, slug) if slug else None
    counts, start, end = session_counts(api, org, days, v.get("sentry_environment"), project)
    views = (scenario.traffic if scenario is not None else Traffic()).pageviews_per_visit
    return [measured_rate(counts, start, end, org, views, min_samples,
                          f"{slug} (id {project})" if slug else None)]


def _posthog(v: Mapping[str, str | None], scenario: Scenario | None,
             client: httpx.Client) -> list[Copied]:
    token, project = v.get("posthog_token"), v.get("posthog_project")
    if not token or not project:
        return []
    api = Api("posthog", v.get("posthog_url") or "https://us.posthog.com", f"Bearer {token}",
              client)
    key = v.get("posthog_flag") or (scenario.flag.posthog.key if scenario is not None
                                    else FlagSpec().key)
    return [copied_flag(pick_flag(posthog_flags(api, project), key), project)]


def _client(ca_cert: str) -> httpx.Client:
    """A client trusting ``ca_cert`` (drill serve's self-signed PagerDuty); raises
    BadInput when it cannot be read."""
    try:
        context = ssl.create_default_context(cafile=ca_cert)
    except (OSError, ssl.SSLError) as exc:
        raise BadInput(f"--pagerduty-ca-cert {ca_cert}: cannot be read ({exc})") from None
    return httpx.Client(timeout=TIMEOUT_S, verify=context)


def _one_platform(samples: list[Sample], platform: str | None) -> list[Sample]:
    """``samples`` with one platform's builds: ``platform``'s when both were read."""
    builds = [s for s in samples if s.field == "world.build_time"]
    if len(builds) < 2:
        return samples
    if platform not in ("vercel", "netlify"):
        raise BadInput("drill calibrate: Vercel and Netlify would both set "
                       "world.build_time; pick one with --platform vercel|netlify "
                       "(or --scenario, whose world.platform picks)")
    other = "netlify" if platform == "vercel" else "vercel"
    return [s for s in samples if not s.source.lower().startswith(other)]


def _scenario(path: Path | None) -> Scenario | None:
    if path is None:
        return None
    from sim.scenario.loader import load_scenario

    return load_scenario(path)


def _fit_all(samples: list[Sample], scenario: Scenario | None,
             min_samples: int) -> tuple[list[tuple[Sample, Fit]], list[str]]:
    fitted: list[tuple[Sample, Fit]] = []
    notes: list[str] = []
    for sample in samples:
        if sample.dropped:
            notes.append(f"{sample.field}: {sample.dropped} record(s) without a positive "
                         "duration left out")
        if len(sample.values) < min_samples:
            notes.append(f"{sample.field}: {len(sample.values)} sample(s) < --min-samples "
                         f"{min_samples}: left as the scenario has it")
            continue
        fitted.append((sample, fit_sample(sample.values, family_of(scenario, sample.field))))
    return fitted, notes


def family_of(scenario: Scenario | None, path: str) -> str:
    """The distribution family ``path`` has in ``scenario`` (or by default); an unset
    (null) distribution is fitted as the lognormal the model draws in its place."""
    node: Any = scenario if scenario is not None else None
    section, name = path.split(".")
    holder = getattr(node, section) if node is not None \
        else Scenario.model_fields[section].default
    spec = getattr(holder, name, None)
    return str(getattr(spec, "dist", None) or "lognormal")
