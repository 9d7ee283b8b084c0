"""``drill gameday``: run a game day live, and ``drill gameday ack`` to acknowledge its page.

``drill gameday SCENARIO [--speed X] [--host H] [--env-file F] [--out DIR] [--assist]``
runs the scenario live (``sim.gameday.runner``) and exits as ``drill run`` does (0 every
target met, 1 one missed, 2 bad input; 130 when the facilitator ended it before users
recovered, the results written and marked ``"complete": false``). ``drill gameday ack``
acknowledges the open PagerDuty incident through the PagerDuty fake's Events API (``event_action:
acknowledge``, https://developer.pagerduty.com/docs/events-api-v2/trigger-events/),
finding the game day from ``DRILL_GAMEDAY_URL`` and PagerDuty from
``PAGERDUTY_EVENTS_URL`` / ``PAGERDUTY_ROUTING_KEY`` (the env file's variables).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from sim.errors import EXIT_INTERRUPTED, BadInput

ACK_SOURCE = "drill gameday ack"


class _Gameday(click.Group):
    """``drill gameday SCENARIO …`` runs; ``drill gameday ack`` is the one subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("gameday", cls=_Gameday)
def gameday() -> None:
    """Run a drill live for people to respond to with their real tools, and measure them."""


@gameday.command("run")
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="Virtual seconds per wall second.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--env-file", type=click.Path(path_type=Path),
              help="Write the fakes' export lines here (source it in the responders' shells).")
@click.option("--out", type=click.Path(path_type=Path), help="Results folder.")
@click.option("--assist", is_flag=True,
              help="The modelled on-call and responder act as in a simulated run.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a scenario field.")
def run_cmd(scenario: Path | None, speed: float, host: str, env_file: Path | None,
            out: Path | None, assist: bool, overrides: tuple[str, ...]) -> None:
    """Run SCENARIO (default: the embedded drill) live until resolved, the horizon or End."""
    from sim.gameday.runner import GamedayOptions, run_gameday
    from sim.outdir import check_out_dir, check_out_file
    from sim.scenario.loader import load_default, load_scenario
    from sim.serve_host import is_loopback

    loaded = load_scenario(scenario, overrides) if scenario else load_default(overrides)
    if not is_loopback(host):
        raise BadInput(f"gameday: --host {host}: a game day serves on loopback only")
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path("results") / loaded.name / f"{stamp}-gameday"
    check_out_dir(out)
    if env_file is not None:
        check_out_file(env_file, "--env-file")
    options = GamedayOptions(speed=speed, host=host, env_file=env_file, assist=assist)
    doc = run_gameday(loaded, out, options, on_ready=_announce)
    _report(doc, out)
    if not doc["gameday"]["complete"]:  # an interruption, not a missed target
        click.echo("drill gameday: ended before users recovered; the results are marked "
                   'incomplete ("complete": false)', err=True)
        raise SystemExit(EXIT_INTERRUPTED)
    raise SystemExit(0 if doc["passed"] else 1)


def _announce(host: Any) -> None:
    lines = [f"drill gameday: live view {host.urls['view']}/", ""]
    lines += [f"  {k}={v}" for k, v in host.env.items()]
    click.echo("\n".join(lines) + "\n", err=True)


def _report(doc: dict[str, Any], out: Path) -> None:
    section = doc["gameday"]
    click.echo(f"drill gameday: {doc['scenario']} — {'PASS' if doc['passed'] else 'FAIL'}")
    for row in section["scoreboard"]:
        measured = "—" if row["measured"] is None else f"{row['measured']:.0f} s"
        model = "—" if row["modelled"] is None else f"{row['modelled']:.0f} s"
        target = "" if row["target"] is None else f" (target < {row['target']} s)"
        click.echo(f"  {row['metric']:<24} {measured:>8}  modelled {model:>8}{target}")
    if section["rollback_call"]:
        c = section["rollback_call"]
        click.echo(f"  rolled back by {c['source']}: {c['method']} {c['service']}{c['path']}")
    click.echo(f"  results: {out}")


@gameday.command("ack")
@click.option("--url", envvar="DRILL_GAMEDAY_URL", required=True, help="The game day's view.")
@click.option("--pagerduty", envvar="PAGERDUTY_EVENTS_URL", required=True,
              help="The PagerDuty fake's Events API base URL.")
@click.option("--routing-key", envvar="PAGERDUTY_ROUTING_KEY", required=True)
def ack_cmd(url: str, pagerduty: str, routing_key: str) -> None:
    """Acknowledge the game day's open page, as the on-call's PagerDuty app would."""
    import httpx  # here, not at the top: `drill --help` imports no HTTP client

    try:
        _acknowledge(url, pagerduty, routing_key)
    except httpx.HTTPError as exc:
        raise BadInput(f"gameday ack: cannot reach the game day ({exc}); is "
                       "`drill gameday` running, and the env file sourced?") from None


def _acknowledge(url: str, pagerduty: str, routing_key: str) -> None:
    import httpx

    answer = httpx.get(f"{url.rstrip('/')}/api/state", timeout=10)
    try:
        state = answer.json()
    except ValueError:
        raise BadInput(f"gameday ack: {url} is not a game day's view (it answered "
                       f"{answer.status_code}, not JSON); check DRILL_GAMEDAY_URL") from None
    open_ = [i for i in state.get("incidents", []) if i.get("status") == "triggered"]
    if not open_:
        raise BadInput("gameday ack: no triggered PagerDuty incident to acknowledge")
    response = httpx.post(f"{pagerduty.rstrip('/')}/v2/enqueue", timeout=10,
                          headers={"X-Drill-Source": ACK_SOURCE},
                          json={"routing_key": routing_key, "event_action": "acknowledge",
                                "dedup_key": open_[0]["dedup_key"]})
    if response.status_code >= 300:
        raise BadInput(f"gameday ack: PagerDuty answered {response.status_code}: "
                       f"{response.text[:200]}")
    click.echo(f"acknowledged {open_[0]['dedup_key']}")
