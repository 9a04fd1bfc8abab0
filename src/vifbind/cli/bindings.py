"""``vifbind bind|unbind|activate|explain|bindings``: bindings of a running service."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from vifbind.cli.app import app
from vifbind.cli.remote import (
    AsJson,
    ServiceUrl,
    Token,
    TokenFile,
    connect,
    console,
    emit_json,
    errors,
    read_json,
    table,
)
from vifbind.client import Client
from vifbind.contract import Binding, BindingProfile, HostReport
from vifbind.errors import BindingFailed, InvalidInput

Host = Annotated[str, typer.Option("--host", help="Compute host.")]
PortId = Annotated[str, typer.Argument(metavar="PORT", help="Port id.")]
ReportFile = Annotated[
    Path | None,
    typer.Option("--report", metavar="FILE", help="Host report to decide from (JSON)."),
]
ProfileFile = Annotated[
    Path | None, typer.Option("--profile", metavar="FILE", help="Bind request profile (JSON).")
]


def _inputs(
    report: Path | None, profile: Path | None
) -> tuple[HostReport | None, BindingProfile | None]:
    data = read_json(report, "--report")
    claimed = read_json(profile, "--profile")
    try:
        return (
            HostReport.model_validate(data) if data is not None else None,
            BindingProfile.model_validate(claimed) if claimed is not None else None,
        )
    except ValueError as exc:
        raise InvalidInput(f"--report/--profile: {exc}".replace("\n", " ")) from None


def show_binding(binding: Binding) -> None:
    """The binding's outcome, then every decision with its reason."""
    vif = f"{binding.vif.type} {binding.vif.version}" if binding.vif else "-"
    protections = (
        ", ".join(f"{k} {v}" for k, v in binding.protections.model_dump().items())
        if binding.protections
        else "-"
    )
    console.print(
        f"port {binding.port_id} on {binding.host}: [bold]{binding.status}[/bold] "
        f"backend {binding.backend or '-'}  vif {vif}  active {binding.active}  "
        f"plugged {binding.plugged}  revision {binding.revision}"
    )
    console.print(f"protections: {protections}")
    table(
        "decisions",
        ["backend", "candidate", "outcome", "reason"],
        [
            (d.backend, f"{d.vif_type or '-'} {d.version or ''}".strip(), d.outcome, d.reason)
            for d in binding.decisions
        ],
    )


@app.command("bind")
def bind(
    port: PortId,
    host: Host,
    report: ReportFile = None,
    profile: ProfileFile = None,
    wait_plugged: Annotated[
        float | None,
        typer.Option(metavar="SECONDS", help="Then wait until the host has plugged it."),
    ] = None,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Bind a port to a host (exit 1 when no VIF could be chosen)."""
    api = connect(service, token, token_file)
    host_report, claimed = _inputs(report, profile)
    binding = api.bind(port, host, host_report=host_report, profile=claimed)
    if binding.status == "bound" and wait_plugged is not None:
        started = time.monotonic()
        with errors.status(f"waiting for {host} to plug port {port}…"):
            binding = api.wait_plugged(port, host, wait_plugged)
        errors.print(f"plugged after {1000 * (time.monotonic() - started):.0f} ms")
    emit_json(binding) if as_json else show_binding(binding)
    if binding.status != "bound":
        raise BindingFailed(f"port {port} could not be bound to {host}", binding.decisions)


@app.command("unbind")
def unbind(
    port: PortId,
    host: Host,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Remove a port's binding on a host."""
    gone = connect(service, token, token_file).unbind(port, host)
    emit_json(gone) if as_json else errors.print(f"port {port} unbound from {host}")


@app.command("activate")
def activate(
    port: PortId,
    host: Host,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Make the binding on a host the port's active one (live migration)."""
    binding = connect(service, token, token_file).activate(port, host)
    emit_json(binding) if as_json else show_binding(binding)


@app.command("explain")
def explain(
    port: PortId,
    host: Host,
    report: ReportFile = None,
    profile: ProfileFile = None,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """Show what binding a port to a host would decide, and why; nothing is stored."""
    host_report, claimed = _inputs(report, profile)
    answer = connect(service, token, token_file).explain(
        port, host, host_report=host_report, profile=claimed
    )
    emit_json(answer) if as_json else show_binding(answer)


@app.command("bindings")
def bindings(
    host: Annotated[str | None, typer.Option(help="Only this host's bindings.")] = None,
    port: Annotated[str | None, typer.Option(help="Only this port's bindings.")] = None,
    watch: Annotated[bool, typer.Option(help="Keep printing changes (Ctrl-C stops).")] = False,
    service: ServiceUrl = None,
    token: Token = None,
    token_file: TokenFile = None,
    as_json: AsJson = False,
) -> None:
    """List bindings (of a host or a port); --watch follows their changes."""
    api = connect(service, token, token_file)
    current, revision = _current(api, host, port)
    if as_json:
        emit_json(current)
    else:
        _table(current, "bindings")
    while watch:
        answer = api.events(since=revision, wait=30, port_id=port, host=host)
        revision = answer.revision
        for event in answer.events:
            if as_json:
                emit_json(event)
            else:
                b = event.binding
                console.print(
                    f"r{event.revision} {event.kind:<11} port {b.port_id} host {b.host} "
                    f"status {b.status} active {b.active} plugged {b.plugged}"
                )


def _current(api: Client, host: str | None, port: str | None) -> tuple[list[Binding], int]:
    revision = api.events(since=2**62).revision  # only the current revision, no events
    if port is not None:
        found = [b for b in api.list_bindings(port) if host is None or b.host == host]
    else:
        found = api.all_bindings(host=host)
    return found, revision


def _table(found: list[Binding], title: str) -> None:
    table(
        title,
        ["port", "host", "status", "backend", "vif", "active", "plugged", "revision"],
        [
            (
                b.port_id,
                b.host,
                b.status,
                b.backend or "-",
                f"{b.vif.type} {b.vif.version}" if b.vif else "-",
                b.active,
                b.plugged,
                b.revision,
            )
            for b in found
        ],
    )
