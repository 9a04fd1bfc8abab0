"""XenServer / XCP-ng: the XenAPI ``VIF.create`` record of a VIF, and the guest's NIC."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from vifbind.contract.base import Model
from vifbind.contract.binding import Binding
from vifbind.contract.types import IpAddress, MacAddress, Uuid
from vifbind.contract.vifs.xen import XenVif10
from vifbind.errors import NotRenderable
from vifbind.render.attachment import HostAttachment
from vifbind.render.nic import XEN, NicRequest
from vifbind.render.protections import allowed_sources, duties, own_mac_only
from vifbind.render.table import RenderTable

VIF_LOCKING = "xen-vif-locking"

LockingMode = Literal["network_default", "locked", "unlocked", "disabled"]
"""XenAPI ``vif_locking_mode``."""


class XenNic(Model):
    """How the guest sees the VIF: the paravirtual frontend or an emulated (ioemu) device."""

    model: Literal["netfront", "ioemu"]


class XenVifRecord(Model):
    """The fields of XenAPI ``VIF.create`` that come from the binding, under XenAPI's names.

    ``network_uuid`` stays a UUID: the caller resolves it (``network.get_by_uuid``) and names
    the VM when it calls ``create_args``, the only XenAPI-specific step left.
    """

    model_config = ConfigDict(populate_by_name=True)

    device: str = Field(pattern=r"^[0-9]{1,2}$", description="Position in the guest.")
    network_uuid: Uuid
    mac: MacAddress = Field(alias="MAC")
    mtu: int = Field(alias="MTU", ge=68, le=65535)
    other_config: dict[str, str] = Field(default_factory=dict)
    qos_algorithm_type: str = ""
    qos_algorithm_params: dict[str, str] = Field(default_factory=dict)
    locking_mode: LockingMode
    ipv4_allowed: list[IpAddress] = Field(default_factory=list)
    ipv6_allowed: list[IpAddress] = Field(default_factory=list)

    @model_validator(mode="after")
    def _families(self) -> XenVifRecord:
        for name, version in (("ipv4_allowed", 4), ("ipv6_allowed", 6)):
            for address in getattr(self, name):
                if ipaddress.ip_address(address).version != version:
                    raise ValueError(f"{name}: {address} is not an IPv{version} address")
        return self

    def create_args(self, vm_ref: str, network_ref: str) -> dict[str, Any]:
        """The record to pass to XenAPI ``VIF.create`` for the VM and network references."""
        record = self.model_dump(by_alias=True, exclude={"network_uuid"})
        return record | {"VM": vm_ref, "network": network_ref}


class XenVif(Model):
    """A rendered Xen VIF: the host mapping (``vif``) and the guest's NIC (``nic``)."""

    vif: XenVifRecord
    nic: XenNic


def _locking(vif: XenVif10, binding: Binding) -> tuple[LockingMode, list[str], list[str]]:
    owed = duties(binding, vif, VIF_LOCKING)
    if not owed:
        protections = binding.protections
        unprotected = protections is not None and (
            protections.mac_spoofing == protections.ip_spoofing == "off"
        )
        return ("unlocked" if unprotected else "network_default"), [], []
    if owed != {"mac_spoofing", "ip_spoofing"}:
        raise NotRenderable(
            f"host_enforcement: {VIF_LOCKING} locks the MAC and the IP addresses together, but "
            f"the binding assigns it only {', '.join(sorted(owed))}"
        )
    own_mac_only(binding, VIF_LOCKING)
    addresses = [ipaddress.ip_address(s.address(VIF_LOCKING)) for s in allowed_sources(binding)]
    return (
        "locked",
        [str(a) for a in addresses if a.version == 4],
        [str(a) for a in addresses if a.version == 6],
    )


def _xen(vif: XenVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest) -> XenVif:
    chosen = XEN.choose(nic)
    mode, ipv4, ipv6 = _locking(vif, binding)
    record = XenVifRecord(
        device=str(attachment.xen_device),
        network_uuid=vif.details.network_uuid,
        mac=binding.mac,
        mtu=binding.mtu,
        # XenServer's Open vSwitch integration copies this key into the OVS interface's
        # external_ids:iface-id, the convention by which a controller claims the port.
        other_config={"nicira-iface-id": binding.port_id},
        locking_mode=mode,
        ipv4_allowed=ipv4,
        ipv6_allowed=ipv6,
    )
    return XenVif(vif=record, nic=XenNic.model_validate({"model": chosen.model}))


TABLE: RenderTable[XenVif] = RenderTable("xen", {"xen": _xen})
"""Every VIF type a XenAPI VIF record can express."""


render = TABLE.render
"""Render a binding: ``render(binding, attachment=None, nic=None)``."""
