"""``vifbind doctor``: this machine's prerequisites, and what to install."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from vifbind.cli.app import app
from vifbind.cli.remote import AsJson, table
from vifbind.errors import HostPrerequisiteMissing


@app.command("doctor")
def doctor(
    with_libvirt: Annotated[
        bool, typer.Option("--libvirt", help="Also check libvirt (render validation).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Check root, iproute2, namespaces, nftables, Open vSwitch, OVN and Python modules."""
    from vifbind.doctor import run_checks

    checks = run_checks(with_libvirt)
    if as_json:
        typer.echo(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        table(
            "vifbind doctor",
            ["", "check", "found", "fix"],
            [
                ("✓" if c.ok else ("✗" if c.level == "required" else "!"), c.name, c.detail, c.fix)
                for c in checks
            ],
        )
    missing = [c.name for c in checks if not c.ok and c.level == "required"]
    if missing:
        raise HostPrerequisiteMissing(f"missing: {', '.join(missing)} (see the fix column)")
