"""What the host reports back, per port and per reconcile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vifbind.host.reconcile import Drift

Outcome = Literal["plugged", "unplugged", "refused", "failed"]
"""``plugged``: everything is in place, protections first; ``unplugged``: nothing of the port is
left; ``refused``: the host would not act on the binding (nothing changed); ``failed``: the host
tried and the system refused, what was created was removed again."""


# Plain slotted records, not models: a reconcile reports on each of thousands of ports, and a
# pydantic model of four fields weighs some 460 bytes where these weigh some 80. They never
# leave the process (the service is told through ``PortPlugged``).
@dataclass(frozen=True, slots=True, kw_only=True)
class PortResult:
    """The outcome for one port; ``reason`` says why when it is not the expected one."""

    port_id: str
    outcome: Outcome
    reason: str | None = None
    changed: bool = False
    """Whether anything on the host changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconcileReport:
    """What reconcile found and did."""

    drift: list[Drift]
    """What differed before reconciling."""
    results: list[PortResult]
    """The desired ports, each plugged or not."""
    removed: list[str]
    """Orphaned ports and networks that were removed."""
