"""``drill calibrate``: read the team's history, fit each timing, write the overlay.

Which vendors are read follows from what is given: Vercel with a token and a project,
Netlify with a token and a site, PagerDuty with a REST API key, Sentry (its metric alert
rule, copied into ``monitoring.alert``) with a token and an organization, PostHog (its
flag definition, copied into ``flag.posthog``) with a personal API key and a project;
the first three also from a JSON export (``--from-file vercel=deployments.json``).
Tokens come from flags or the vendors' usual environment variables, travel only in the
Authorization header, and are never printed, logged or written. An input with fewer
than ``--min-samples`` samples is left at the scenario's value and said so. Exit 2 on
bad input or a refusing API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from sim.errors import BadInput

EXPORT_VENDORS = ("vercel", "netlify", "pagerduty")


def _options(f: Callable[..., Any]) -> Callable[..., Any]:
    for name, env, help_text in reversed((
            ("--vercel-url", "VERCEL_API_URL", "Vercel API base (https://api.vercel.com)."),
            ("--vercel-token", "VERCEL_TOKEN", "Vercel token (never written anywhere)."),
            ("--vercel-project", "VERCEL_PROJECT_ID", "Vercel project id or name."),
            ("--vercel-team", "VERCEL_ORG_ID", "Vercel team id (teamId)."),
            ("--netlify-url", "NETLIFY_API_URL", "Netlify API base (https://api.netlify.com)."),
            ("--netlify-token", "NETLIFY_AUTH_TOKEN", "Netlify token (never written)."),
            ("--netlify-site", "NETLIFY_SITE_ID", "Netlify site id."),
            ("--pagerduty-url", "PAGERDUTY_API_URL",
             "PagerDuty REST API base (https://api.pagerduty.com)."),
            ("--pagerduty-token", "PAGERDUTY_API_TOKEN",
             "PagerDuty REST API key (never written)."),
            ("--pagerduty-ca-cert", "PAGERDUTY_CA_CERT",
             "A CA certificate to trust for PagerDuty (drill serve's fake)."),
            ("--sentry-url", "SENTRY_URL", "Sentry base URL (https://sentry.io)."),
            ("--sentry-token", "SENTRY_AUTH_TOKEN", "Sentry auth token (never written)."),
            ("--sentry-org", "SENTRY_ORG", "Sentry organization slug."),
            ("--sentry-project", "SENTRY_PROJECT", "Sentry project slug (picks its rules)."),
            ("--sentry-alert", "DRILL_SENTRY_ALERT",
             "The alert rule to copy (default: the scenario's rule name)."),
            ("--sentry-environment", "SENTRY_ENVIRONMENT",
             "The environment whose sessions are measured (default: all)."),
            ("--posthog-url", "POSTHOG_HOST", "PostHog base URL (https://us.posthog.com)."),
            ("--posthog-token", "POSTHOG_PERSONAL_API_KEY",
             "PostHog personal API key (never written)."),
            ("--posthog-project", "POSTHOG_PROJECT_ID", "PostHog project id."),
            ("--posthog-flag", "DRILL_POSTHOG_FLAG",
             "The flag to copy (default: the scenario's flag.posthog.key)."))):
        f = click.option(name, envvar=env, show_envvar=True, help=help_text)(f)
    return f


@click.command("calibrate")
@_options
@click.option("--sentry-sessions", is_flag=True,
              help="Also measure traffic.error_rate_old from Sentry's release health "
                   "(needs the Sentry token and organization).")
@click.option("--from-file", "exports", multiple=True, metavar="VENDOR=PATH",
              help="Read a vendor's history from a JSON export instead of its API.")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path),
              help="Fit each input to this scenario's distribution family.")
@click.option("--days", type=click.FloatRange(min=1, max=3650), default=90.0,
              show_default=True, help="How far back to read.")
@click.option("--min-samples", type=click.IntRange(min=2), default=20, show_default=True,
              help="Fewer samples leave an input at the scenario's value.")
@click.option("--platform", type=click.Choice(["vercel", "netlify"]),
              help="Whose builds set world.build_time when both are read "
                   "(default: the --scenario's world.platform).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Overlay file to write (default: print it).")
def calibrate_cmd(exports: tuple[str, ...], scenario_path: Path | None, days: float,
                  min_samples: int, platform: str | None, out: Path | None,
                  **vendor: str | None) -> None:
    """Fit scenario timings to your vendors' history; write a --set @FILE overlay."""
    from sim.calibrate.run import calibrate
    from sim.outdir import check_out_file, write_file

    if out is not None:
        check_out_file(out, "--out")
    files = _exports(exports)
    text, notes = calibrate(vendor, files, scenario_path, days, min_samples,
                            datetime.now(UTC), platform)
    for note in notes:
        click.echo(f"drill calibrate: {note}", err=True)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_file(out, text)
        click.echo(f"drill calibrate: wrote {out}", err=True)


def _exports(items: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for item in items:
        vendor, sep, path = item.partition("=")
        if not sep or vendor not in EXPORT_VENDORS or not path:
            raise BadInput(f"--from-file {item}: write VENDOR=PATH, VENDOR one of "
                           + ", ".join(EXPORT_VENDORS))
        found[vendor] = Path(path)
    return found
