"""What the agent's dependencies weigh on their own: the resident memory of a fresh interpreter
that imports only one of them, so that the agent's RSS can be read against its floor."""

from __future__ import annotations

import subprocess
import sys

from vifbind.cli import GROUPS

MODULES = {
    "Python alone": "",
    "pydantic + vifbind.contract": "vifbind.contract",
    "vifbind.client (on http.client)": "vifbind.client",
    "pyroute2": "pyroute2",
    "the ovs library's OVSDB IDL": "ovs.db.idl",
    "typer + the agent's command": "vifbind.cli.app, vifbind.cli.agent",
    "every command of the vifbind CLI (rich included)": ", ".join(
        f"vifbind.cli.{group}" for group in GROUPS
    )
    + ", rich.console, rich.table",
    "everything the agent imports": "vifbind.cli.app, vifbind.cli.agent, vifbind.host.agent, "
    "vifbind.host.host",
}
_PROBE = (
    "{imports}\n"
    "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS:')))"
)


def resident_mib(modules: str) -> float:
    """VmRSS in MiB of a fresh interpreter after importing ``modules`` (comma-separated)."""
    imports = f"import {modules}" if modules else ""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(imports=imports)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return int(done.stdout.strip()) / 1024


def footprint() -> str:
    """Each dependency's resident memory on its own, for the notes."""
    return ", ".join(f"{name} {resident_mib(modules):.0f} MiB" for name, modules in MODULES.items())
