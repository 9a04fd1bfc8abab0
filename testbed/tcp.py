"""Free TCP ports on the loopback address (the embedded service's helper, for testbed users)."""

from __future__ import annotations

from vifbind.service.embedded import free_port

__all__ = ["free_port"]
