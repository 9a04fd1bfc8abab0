"""``vifbind port create|list|show|delete``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vifbind.cli.app import app
from vifbind.cli.remote import AsJson, ServiceUrl, Token, TokenFile, connect, emit_json, table
from vifbind.contract.api import PortView
from vifbind.errors import InvalidInput

port_app = typer.Typer(help="Ports.", no_args_is_help=True)
app.add_typer(port_app, name="port")


def parse_pair(text: str) -> dict[str, Any]:
    """``IP`` or ``MAC,IP`` as an allowed address pair."""
    mac, sep, ip = text.rpartition(",")
    if sep and not mac:
        raise InvalidInput(f"--allowed-pair: {text!r} is not IP or MAC,IP", field="allowed-pair")
    return {"mac": mac, "ip": ip} if sep else {"ip": text}


def show(ports: list[PortView], title: str) -> None:
    """A table of ports."""
    table(
        title,
        ["id", "network", "mac", "fixed ips", "vnic", "security", "device", "revision"],
        [
            (
                p.id,
                p.network_id,
                p.mac,
                ", ".join(p.fixed_ips),
                p.vnic_type,
                "on" if p.port_security else "off",
                p.device_id,
                p.revision,
            )
            for p in ports
        ],
    )


@port_app.command("create")
def create(
    network: Annotated[str, typer.Option(help="Network id.")],
    ip: Annotated[list[str] | None, typer.Option(help="Fixed IP (repeatable).")] = None,
    mac: Annotated[str | None, typer.Option(help="MAC (allocated when absent).")] = None,
    device_id: Annotated[str, typer.Option(help="Guest using the port.")] = "",
    vnic_type: Annotated[str, typer.Option(help="normal, direct, direct-physical, …")] = "normal",
    port_security: Annotated[
        bool, typer.Option("--port-security/--no-port-security", help="Anti-spoofing.")
    ] = True,
    security_group: Annotated[list[str] | None, typer.Option(help="Repeatable.")] = None,
    allowed_pair: Annotated[
        list[str] | None, typer.Option(help="IP or MAC,IP; repeatable.")
    ] = None,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Create a port."""
    fields: dict[str, Any] = {
        "fixed_ips": ip or [],
        "device_id": device_id,
        "vnic_type": vnic_type,
        "port_security": port_security,
        "security_groups": security_group or [],
        "allowed_address_pairs": [parse_pair(p) for p in allowed_pair or []],
    }
    if mac is not None:
        fields["mac"] = mac
    port = connect(service, token, token_file).create_port(network, **fields)
    emit_json(port) if as_json else show([port], "port created")


@port_app.command("list")
def list_ports(
    network: Annotated[str | None, typer.Option(help="Only this network's ports.")] = None,
    device_id: Annotated[str | None, typer.Option(help="Only this device's ports.")] = None,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """List ports."""
    ports = connect(service, token, token_file).list_ports(network_id=network, device_id=device_id)
    emit_json(ports) if as_json else show(ports, "ports")


@port_app.command("show")
def show_port(
    port_id: Annotated[str, typer.Argument(metavar="ID")],
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Show one port."""
    port = connect(service, token, token_file).get_port(port_id)
    emit_json(port) if as_json else show([port], "port")


@port_app.command("delete")
def delete(
    port_id: Annotated[str, typer.Argument(metavar="ID")],
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
) -> None:
    """Delete a port and its bindings."""
    connect(service, token, token_file).delete_port(port_id)
    typer.echo(f"port {port_id} deleted", err=True)
