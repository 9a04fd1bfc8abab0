"""The ``vifbind`` command: one module per command group, each registering its commands on
``app.app`` when it is imported.

``vifbind agent`` loads its own group only: it is a daemon on every host, held to a memory
budget, and the other groups (with rich for their tables) were megabytes of it. Any other
command line loads every group (the help lists them all).
"""

from __future__ import annotations

import importlib
import sys

from vifbind.cli.app import app
from vifbind.cli.app import main as _main

GROUPS = (
    "agent",
    "bindings",
    "demo",
    "doctor",
    "hosts",
    "negotiate",
    "networks",
    "ports",
    "render",
    "schema",
    "serve",
)
"""The command modules (``vifbind.cli.<name>``)."""


def load(groups: tuple[str, ...] = GROUPS) -> None:
    """Register the commands of ``groups`` on ``app`` (a program that runs ``app`` itself
    calls this first)."""
    for group in groups:
        importlib.import_module(f"vifbind.cli.{group}")


def main() -> None:
    """Entry point of the ``vifbind`` console script."""
    load(("agent",) if sys.argv[1:2] == ["agent"] else GROUPS)
    _main()


__all__ = ["GROUPS", "app", "load", "main"]
