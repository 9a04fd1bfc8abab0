"""What the host reports back, per port and per reconcile."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vifbind.host.reconcile import Drift

Outcome = Literal["plugged", "unplugged", "refused", "failed"]
"""``plugged``: everything is in place, protections first; ``unplugged``: nothing of the port is
left; ``refused``: the host would not act on the binding (nothing changed); ``failed``: the host
tried and the system refused, what was created was removed again."""


class PortResult(BaseModel):
    """The outcome for one port; ``reason`` says why when it is not the expected one."""

    model_config = ConfigDict(frozen=True)

    port_id: str
    outcome: Outcome
    reason: str | None = None
    changed: bool = Field(default=False, description="Whether anything on the host changed.")


class ReconcileReport(BaseModel):
    """What reconcile found and did."""

    model_config = ConfigDict(frozen=True)

    drift: list[Drift] = Field(description="What differed before reconciling.")
    results: list[PortResult] = Field(description="The desired ports, each plugged or not.")
    removed: list[str] = Field(description="Orphaned ports and networks that were removed.")
