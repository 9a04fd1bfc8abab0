"""Bodies of the HTTP API beyond the core documents: what clients send and the service answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from vifbind.contract import AddressPair, Binding, HostReport, Segment
from vifbind.contract.base import Model, Record
from vifbind.contract.port import MAX_ADDRESSES, VnicType
from vifbind.contract.types import DeviceId, HostName, IpAddress, MacAddress, SafeId, Uuid

NAME_PATTERN = r"^[^\x00-\x1f\x7f]*$"


class NetworkCreate(Model):
    """``POST /v1/networks``."""

    id: Uuid | None = Field(default=None, description="Chosen by the service when absent.")
    name: str = Field(default="", max_length=255, pattern=NAME_PATTERN)
    mtu: int = Field(default=1500, ge=68, le=65535)
    segments: list[Segment] = Field(min_length=1, max_length=16)


class NetworkUpdate(Model):
    """``PATCH /v1/networks/{id}``: fields left out stay as they are."""

    name: str | None = Field(default=None, max_length=255, pattern=NAME_PATTERN)
    mtu: int | None = Field(default=None, ge=68, le=65535)


class NetworkView(Record):
    """A network as served, with its revision."""

    id: Uuid
    name: str
    mtu: int
    segments: list[Segment]
    revision: int


class PortCreate(Model):
    """``POST /v1/ports``; the MAC is allocated when absent."""

    id: Uuid | None = None
    network_id: Uuid
    mac: MacAddress | None = None
    fixed_ips: list[IpAddress] = Field(default_factory=list, max_length=MAX_ADDRESSES)
    vnic_type: VnicType = "normal"
    port_security: bool = True
    allowed_address_pairs: list[AddressPair] = Field(default_factory=list, max_length=MAX_ADDRESSES)
    security_groups: list[SafeId] = Field(default_factory=list, max_length=MAX_ADDRESSES)
    device_id: DeviceId = ""


class PortUpdate(Model):
    """``PATCH /v1/ports/{id}``: fields left out stay as they are; bindings are re-decided."""

    fixed_ips: list[IpAddress] | None = Field(default=None, max_length=MAX_ADDRESSES)
    vnic_type: VnicType | None = None
    port_security: bool | None = None
    allowed_address_pairs: list[AddressPair] | None = Field(default=None, max_length=MAX_ADDRESSES)
    security_groups: list[SafeId] | None = Field(default=None, max_length=MAX_ADDRESSES)
    device_id: DeviceId | None = None


class PortView(Record):
    """A port as served: the contract's port plus its revision."""

    id: Uuid
    network_id: Uuid
    mac: MacAddress
    fixed_ips: list[IpAddress]
    vnic_type: VnicType
    port_security: bool
    allowed_address_pairs: list[AddressPair]
    security_groups: list[SafeId]
    device_id: DeviceId
    revision: int


class HostView(Record):
    """A host's stored report, when it arrived and how old it is."""

    host: HostName
    report: HostReport
    received_at: datetime
    age_seconds: float
    revision: int


PLUG_ERROR_MAX = 2000
"""The longest reason a host may give for not plugging (longer ones are cut by the agent)."""


class PluggedReport(Model):
    """``PUT /v1/ports/{id}/bindings/{host}/plugged`` (agent)."""

    plugged: bool
    revision: int = Field(
        ge=0,
        le=2**63 - 1,
        description="Revision of the binding the host acted on; older decisions are refused.",
    )
    error: str | None = Field(
        default=None, max_length=PLUG_ERROR_MAX, description="Why it is not plugged."
    )
    retrying: bool = Field(
        default=False,
        description="The host will try again by itself (a system error, not a refusal).",
    )


MAX_PLUGGED_REPORTS = 5000
"""Ports in one ``PUT /v1/hosts/{host}/plugged``; an agent with more sends several."""


class PortPlugged(PluggedReport):
    """One port's entry of a host's plugged reports."""

    port_id: Uuid


class PluggedReports(Model):
    """``PUT /v1/hosts/{host}/plugged`` (agent): what the host did with several bindings,
    recorded in one transaction — one request for a batch the host plugged together."""

    reports: list[PortPlugged] = Field(min_length=1, max_length=MAX_PLUGGED_REPORTS)

    @field_validator("reports")
    @classmethod
    def _each_port_once(cls, reports: list[PortPlugged]) -> list[PortPlugged]:
        seen: set[str] = set()
        for report in reports:
            if report.port_id in seen:
                raise ValueError(f"port {report.port_id} is reported twice")
            seen.add(report.port_id)
        return reports


class PluggedOutcome(Record):
    """What became of one port's plugged report: recorded, or refused as the single-port
    request would have been (``error`` says why, ``error_type`` is that error's type)."""

    port_id: str
    recorded: bool
    error: str | None = None
    error_type: str | None = None


class PluggedOutcomes(Record):
    """Answer of ``PUT /v1/hosts/{host}/plugged``: one outcome per report, in order."""

    outcomes: list[PluggedOutcome]


class HostBindings(Record):
    """Answer of the agent watch: the host's bindings changed after ``since``.

    With ``complete`` (``since`` was 0 or older than the retained history) the list is every
    binding of the host; otherwise only the changed ones, removed ones with status ``unbound``.
    """

    revision: int
    complete: bool
    bindings: list[Binding]
    peers: dict[Uuid, list[IpAddress]] = Field(
        default_factory=dict,
        description="Per network the host carries over its own tunnels (linuxbridge VXLAN), the "
        "tunnel endpoints of the other hosts with a bound port on it; always complete.",
    )
    peers_changed: bool = Field(
        default=False, description="Another host's port on one of these networks changed."
    )


EventKind = Literal[
    "bound", "updated", "activated", "deactivated", "plugged", "unplugged", "deleted"
]


class Event(Record):
    """One change to one binding."""

    revision: int
    kind: EventKind
    port_id: Uuid
    host: HostName
    binding: Binding
    created_at: datetime


class Events(Record):
    """Answer of ``GET /v1/events``."""

    revision: int
    events: list[Event]


class TokenCreate(Model):
    """``POST /v1/tokens`` (admin)."""

    role: Literal["admin", "compute", "agent", "reader"]
    host: HostName | None = None
    name: str = Field(default="", max_length=255, pattern=NAME_PATTERN)


class TokenView(Record):
    """A token's metadata; ``token`` (the secret) is present only in the answer that created it."""

    id: str
    role: str
    host: HostName | None
    name: str
    created_at: datetime
    token: str | None = None


class ErrorDetail(Record):
    """What went wrong, for people and for programs."""

    type: str
    message: str
    field: str | None = None


class ErrorBody(Record):
    """Body of every 4xx/5xx answer."""

    error: ErrorDetail


class Health(Record):
    """``GET /healthz``."""

    status: Literal["ok"]
    revision: int
    database: str
