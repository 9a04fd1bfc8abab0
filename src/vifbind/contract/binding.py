"""Bindings: the decision for one (port, host), why it was made, and the requests for it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from vifbind.contract.base import Model, Record
from vifbind.contract.host import HostReport
from vifbind.contract.network import Segment
from vifbind.contract.port import AddressPair
from vifbind.contract.protections import PROTECTIONS, HostMechanisms, Protections
from vifbind.contract.types import (
    DeviceId,
    HostName,
    IpAddress,
    MacAddress,
    PciAddress,
    PhysnetName,
    Uuid,
)
from vifbind.contract.vifs import Vif

Status = Literal["bound", "failed", "unbound"]
"""``bound``: a VIF was chosen; ``failed``: none could be (see decisions); ``unbound``: removed."""

Outcome = Literal["chosen", "skipped", "failed", "alternative"]
"""Per candidate: ``chosen``; ``skipped`` (cannot serve this port on this host); ``alternative``
(could serve, but an earlier candidate was chosen); ``failed`` (the backend as a whole cannot
serve, no candidate)."""


class Decision(Record):
    """One backend's verdict on one candidate, with a reason a person can act on."""

    backend: str
    vif_type: str | None = None
    version: str | None = None
    outcome: Outcome
    reason: str


class BindingProfile(Model):
    """What the compute side claimed for this port before binding it."""

    pci_address: PciAddress | None = Field(
        default=None, description="The VF (direct) or PF (direct-physical) reserved for the port."
    )
    physnet: PhysnetName | None = Field(
        default=None, description="Physnet of the claimed device, when the compute side knows it."
    )


VOLATILE_FIELDS = frozenset(
    {
        "active",
        "plugged",
        "plugged_at",
        "plug_error",
        "plug_retrying",
        "revision",
        "decisions",
        "profile",
    }
)
"""Fields of a binding the host does not act on: a change to them alone needs no work there."""


class Binding(Record):
    """The decision for one (port, host); also the record the network service stores."""

    port_id: Uuid
    host: HostName
    status: Status
    active: bool = True
    backend: str | None = None
    vif: Vif | None = None
    protections: Protections | None = None
    host_enforcement: HostMechanisms = Field(
        default_factory=HostMechanisms,
        description="The mechanism the host must use for each protection assigned to it.",
    )
    mac: MacAddress
    mtu: int = Field(ge=68, le=65535)
    fixed_ips: list[IpAddress] = Field(
        default_factory=list, description="The port's addresses, for host-side anti-spoofing."
    )
    allowed_address_pairs: list[AddressPair] = Field(
        default_factory=list, description="Extra (MAC, IP) the guest may send from."
    )
    device_id: DeviceId = Field(
        default="", description="The guest (for netns hosts: its network namespace)."
    )
    network_id: Uuid | None = None
    segment: Segment | None = Field(default=None, description="The segment the VIF is on.")
    profile: BindingProfile | None = None
    decisions: list[Decision] = Field(default_factory=list)
    plugged: bool = False
    plugged_at: datetime | None = Field(
        default=None, description="When the host last reported plugged or unplugged (UTC)."
    )
    plug_error: str | None = Field(
        default=None, description="Why the host could not plug it (it refused or failed)."
    )
    plug_retrying: bool = Field(
        default=False, description="The host will retry by itself: the error may pass."
    )
    revision: int = Field(default=0, ge=0)

    def host_content(self) -> dict[str, Any]:
        """What the host acts on (everything but ``VOLATILE_FIELDS``), JSON-ready."""
        content: dict[str, Any] = self.model_dump(mode="json", exclude=set(VOLATILE_FIELDS))
        return content

    @model_validator(mode="after")
    def _consistent(self) -> Binding:
        if self.status == "bound":
            if self.vif is None or self.backend is None or self.protections is None:
                raise ValueError("vif: a bound binding needs vif, backend and protections")
            for name in PROTECTIONS:
                assigned = self.protections.get(name) == "host"
                if assigned != (getattr(self.host_enforcement, name) is not None):
                    raise ValueError(
                        f"host_enforcement.{name}: a mechanism is named exactly when the "
                        "protection is assigned to the host"
                    )
        elif self.status == "failed":
            if self.vif is not None:
                raise ValueError("vif: a failed binding has none")
            if not self.decisions:
                raise ValueError("decisions: a failed binding says why")
        return self


class BindRequest(Model):
    """``POST /v1/ports/{id}/bindings``: bind a port to a host."""

    host: HostName
    host_report: HostReport | None = Field(
        default=None, description="A fresh report to decide from instead of the stored one."
    )
    profile: BindingProfile | None = None

    @model_validator(mode="after")
    def _same_host(self) -> BindRequest:
        if self.host_report is not None and self.host_report.host != self.host:
            raise ValueError(
                f"host_report.host: report is for {self.host_report.host!r}, not {self.host!r}"
            )
        return self


class ExplainRequest(BindRequest):
    """``POST /v1/explain``: what binding ``port_id`` to ``host`` would decide; nothing stored."""

    port_id: Uuid
