"""``vifbind demo``: the whole system on this machine, step by step (see ``vifbind.demo``)."""

from __future__ import annotations

from typing import Annotated

import typer

from vifbind.cli.app import app


@app.command("demo")
def demo(
    keep: Annotated[
        bool, typer.Option("--keep", help="Leave everything running until Ctrl-C.")
    ] = False,
) -> None:
    """Run OVN, OVS, the service and an agent with three guests, and show every step."""
    import logging
    import sys

    from rich.console import Console

    from vifbind.demo import Demo

    logging.basicConfig(level=logging.WARNING)
    # Piped (CI, a log file): wide enough that the decision tables stay readable.
    console = Console(width=None if sys.stdout.isatty() else 160)
    raise typer.Exit(Demo(console, keep=keep).run())
