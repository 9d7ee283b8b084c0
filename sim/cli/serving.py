"""``drill serve``: every fake as a live service, with the runbook's world in place."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.group import cli


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port-base", type=click.IntRange(0, 65500), default=0,
              help="First port (each fake at a fixed offset); 0 picks free ports.")
@click.option("--env-file", type=click.Path(path_type=Path), help="Write export lines here.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="Virtual seconds per wall second.")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path),
              help="Seed the world from this scenario (default: the embedded drill).")
def serve_cmd(host: str, port_base: int, env_file: Path | None, speed: float,
              scenario_path: Path | None) -> None:
    """Serve every fake on loopback until Ctrl-C, with the runbook's world in place."""
    import asyncio

    from fakes.common.clock import WallClock
    from sim.scenario.loader import load_default, load_scenario
    from sim.serve import build_services, serve

    scenario = load_scenario(scenario_path) if scenario_path else load_default()
    clock = WallClock(speed=speed)  # real clients compare our timestamps with their own now
    workdir = (env_file.parent if env_file else Path.cwd()) / ".drill-serve"
    services = build_services(scenario, clock, workdir)
    asyncio.run(serve(services, clock, host, port_base, env_file,
                      lambda text: click.echo(text, nl=True)))
    click.echo("drill serve: stopped")
