"""``vifbind network create|list|show|delete``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vifbind.cli.app import app
from vifbind.cli.remote import AsJson, ServiceUrl, Token, TokenFile, connect, emit_json, table
from vifbind.contract.api import NetworkView
from vifbind.errors import InvalidInput

network_app = typer.Typer(help="Networks and their segments.", no_args_is_help=True)
app.add_typer(network_app, name="network")


def parse_segment(text: str) -> dict[str, Any]:
    """``geneve:ID``, ``vxlan:ID``, ``vlan:PHYSNET:ID`` or ``flat:PHYSNET`` as a segment."""
    kind, _, rest = text.partition(":")
    parts = rest.split(":") if rest else []
    try:
        if kind in ("geneve", "vxlan") and len(parts) == 1:
            return {"type": kind, "segmentation_id": int(parts[0])}
        if kind == "vlan" and len(parts) == 2:
            return {"type": kind, "physnet": parts[0], "segmentation_id": int(parts[1])}
        if kind == "flat" and len(parts) == 1:
            return {"type": kind, "physnet": parts[0]}
    except ValueError:
        pass
    raise InvalidInput(
        f"--segment: {text!r} is not geneve:ID, vxlan:ID, vlan:PHYSNET:ID or flat:PHYSNET",
        field="segment",
    )


def show(networks: list[NetworkView], title: str) -> None:
    """A table of networks."""
    table(
        title,
        ["id", "name", "mtu", "segments", "revision"],
        [
            (n.id, n.name, n.mtu, ", ".join(s.describe() for s in n.segments), n.revision)
            for n in networks
        ],
    )


@network_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Name of the network.")],
    segment: Annotated[
        list[str],
        typer.Option(help="geneve:ID, vxlan:ID, vlan:PHYSNET:ID or flat:PHYSNET (repeatable)."),
    ],
    mtu: Annotated[int, typer.Option(help="MTU of the network.")] = 1500,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Create a network."""
    segments = [parse_segment(s) for s in segment]
    network = connect(service, token, token_file).create_network(segments, name=name, mtu=mtu)
    emit_json(network) if as_json else show([network], "network created")


@network_app.command("list")
def list_networks(
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """List networks."""
    networks = connect(service, token, token_file).list_networks()
    emit_json(networks) if as_json else show(networks, "networks")


@network_app.command("show")
def show_network(
    network_id: Annotated[str, typer.Argument(metavar="ID")],
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Show one network."""
    network = connect(service, token, token_file).get_network(network_id)
    emit_json(network) if as_json else show([network], "network")


@network_app.command("delete")
def delete(
    network_id: Annotated[str, typer.Argument(metavar="ID")],
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
) -> None:
    """Delete a network that has no ports."""
    connect(service, token, token_file).delete_network(network_id)
    typer.echo(f"network {network_id} deleted", err=True)
