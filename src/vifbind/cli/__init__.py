"""The ``vifbind`` command: one module per command group, all registered on ``app.app``."""

# Importing a command module registers its commands on the app.
from vifbind.cli import (  # noqa: F401
    agent,
    bindings,
    demo,
    doctor,
    hosts,
    negotiate,
    networks,
    ports,
    render,
    schema,
    serve,
)
from vifbind.cli.app import app, main

__all__ = ["app", "main"]
