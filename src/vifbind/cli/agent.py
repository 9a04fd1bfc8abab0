"""``vifbind agent``: the host agent daemon; ``vifbind agent check``: drift, changing nothing."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from vifbind.cli.app import app
from vifbind.cli.remote import AsJson, ServiceUrl, Token, TokenFile, connect, table
from vifbind.errors import InvalidInput

if TYPE_CHECKING:
    from vifbind.host.config import HostConfig

agent_app = typer.Typer(
    help="The host agent: report, watch, plug, reconcile.", invoke_without_command=True
)
app.add_typer(agent_app, name="agent")

HostOption = Annotated[
    str | None, typer.Option("--host", help="This host's name (default: the config's).")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", metavar="FILE", help="Host configuration (JSON or TOML)."),
]


class Stopped(Exception):
    """SIGTERM or SIGINT: leave the loop (the host stays as it is)."""


def host_config(host: str | None, config: Path | None) -> HostConfig:
    """The host configuration from ``--config``, its host name overridden by ``--host``."""
    from vifbind.host.config import HostConfig, load_config

    if config is None:
        if host is None:
            raise InvalidInput("--host: give the host's name, or a --config that has one")
        return HostConfig(host=host)
    loaded = load_config(config)
    return loaded if host is None else loaded.model_copy(update={"host": host})


@agent_app.callback()
def agent(
    ctx: typer.Context,
    host: HostOption = None,
    config: ConfigOption = None,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    heartbeat: Annotated[float, typer.Option(help="Seconds between reports.")] = 30.0,
    reconcile_every: Annotated[float, typer.Option(help="Seconds between reconciles.")] = 60.0,
    facts_every: Annotated[
        float, typer.Option(help="Seconds between two readings of the host's facts.")
    ] = 5.0,
) -> None:
    """Run the host agent until SIGTERM or SIGINT (the host is left as it is)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = (host, config, service, token, token_file)
        return
    from vifbind.host.agent import Agent, AgentSettings
    from vifbind.host.host import Host

    cfg = host_config(host, config)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    settings = AgentSettings(
        heartbeat=heartbeat, reconcile_every=reconcile_every, facts_every=facts_every
    )
    stopping: list[str] = []
    with Host(cfg) as the_host, connect(service, token, token_file) as client:
        the_agent = Agent(the_host, client, settings)

        def stop(signum: int, _frame: FrameType | None) -> None:
            # Interrupt only a wait for the service; work on the host always finishes.
            stopping.append(signal.Signals(signum).name)
            if the_agent.waiting:
                raise Stopped(stopping[0])

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        typer.echo(f"vifbind agent: host {cfg.host}, service {client.base_url}", err=True)
        with contextlib.suppress(Stopped):
            the_agent.run(lambda: bool(stopping))
    typer.echo(f"vifbind agent: stopped by {stopping[0]}; the host is left as it is", err=True)


@agent_app.command("check")
def check(
    ctx: typer.Context,
    host: HostOption = None,
    config: ConfigOption = None,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Compare the host with its bindings and report the drift; exit 1 when there is some."""
    from vifbind.host.agent import desired_from
    from vifbind.host.host import Host

    outer = ctx.obj or (None, None, None, None, None)
    cfg = host_config(host or outer[0], config or outer[1])
    with connect(service or outer[2], token or outer[3], token_file or outer[4]) as client:
        answer = client.watch_host(cfg.host)
    with Host(cfg) as the_host:
        drift = the_host.check(list(desired_from(answer.bindings).values()), answer.peers)
    if as_json:
        typer.echo(json.dumps([d.model_dump(mode="json") for d in drift], indent=2))
    else:
        table(
            f"drift on {cfg.host}",
            ["port or network", "what", "detail"],
            [(d.subject, d.kind, d.detail) for d in drift],
        )
    if drift:
        raise typer.Exit(1)
