"""``vifbind host list|show``."""

from __future__ import annotations

from typing import Annotated

import typer

from vifbind.cli.app import app
from vifbind.cli.remote import AsJson, ServiceUrl, Token, TokenFile, connect, emit_json, table
from vifbind.contract.api import HostView

host_app = typer.Typer(help="Compute hosts and their reports.", no_args_is_help=True)
app.add_typer(host_app, name="host")


def show(hosts: list[HostView], title: str) -> None:
    """A table of hosts."""
    table(
        title,
        ["host", "hypervisor", "cluster", "vif types", "report age", "agent"],
        [
            (
                h.host,
                h.report.hypervisor,
                h.report.cluster or "",
                ", ".join(f"{t} {'/'.join(v)}" for t, v in sorted(h.report.vif_types.items())),
                f"{h.age_seconds:.0f} s",
                h.report.agent_version or "",
            )
            for h in hosts
        ],
    )


@host_app.command("list")
def list_hosts(
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """List hosts that reported."""
    hosts = connect(service, token, token_file).list_hosts()
    emit_json(hosts) if as_json else show(hosts, "hosts")


@host_app.command("show")
def show_host(
    name: Annotated[str, typer.Argument(metavar="HOST")],
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Show a host's report."""
    host = connect(service, token, token_file).get_host(name)
    if as_json:
        emit_json(host)
        return
    show([host], "host")
    typer.echo(host.report.model_dump_json(indent=2))
