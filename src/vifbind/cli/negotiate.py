"""``vifbind negotiate``: decide a binding offline from files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vifbind.backends import registry
from vifbind.cli.app import JsonFile, app, read_model
from vifbind.contract import BindingProfile, HostReport, Network, Port
from vifbind.negotiate import negotiate

EXIT_FAILED_BINDING = 1


@app.command("negotiate")
def negotiate_command(
    network: JsonFile,
    port: JsonFile,
    host: JsonFile,
    profile: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Bind request profile (JSON).")
    ] = None,
    backends: Annotated[
        str | None,
        typer.Option(metavar="A,B", help="Backends in order of preference (default: all)."),
    ] = None,
) -> None:
    """Decide a binding offline from files and print it as JSON (exit 0 bound, 1 failed)."""
    names = [n.strip() for n in backends.split(",") if n.strip()] if backends is not None else None
    binding = negotiate(
        read_model(Network, network, "--network"),
        read_model(Port, port, "--port"),
        read_model(HostReport, host, "--host"),
        registry.load(names),
        read_model(BindingProfile, profile, "--profile") if profile is not None else None,
    )
    typer.echo(binding.model_dump_json(indent=2))
    if binding.status != "bound":
        raise typer.Exit(EXIT_FAILED_BINDING)
