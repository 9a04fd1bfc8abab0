"""The ``vifbind`` command: one module per command group, all registered on ``app.app``."""

from vifbind.cli import negotiate, render, schema  # noqa: F401  (importing registers the commands)
from vifbind.cli.app import app, main

__all__ = ["app", "main"]
