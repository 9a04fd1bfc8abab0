"""Hyper-V: the settings of a VM network adapter's switch port, and the adapter's kind.

Field names follow the WMI classes that hold them (``Msvm_SyntheticEthernetPortSettingData``,
``Msvm_EthernetSwitchPortVlanSettingData``, ``…SecuritySettingData``, ``…AclSettingData``)
in snake case, so that a Windows-side agent applies them one to one.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.binding import Binding
from vifbind.contract.types import DisplayName, IpAddressOrPrefix
from vifbind.contract.vifs.hyperv import HypervVif10
from vifbind.render.attachment import HostAttachment
from vifbind.render.nic import HYPERV, NicRequest
from vifbind.render.protections import allowed_sources, duties, own_mac_only
from vifbind.render.table import RenderTable

PORT_ACL = "hyperv-port-acl"

RESOURCE_SUB_TYPES: dict[str, str] = {
    "synthetic": "Microsoft:Hyper-V:Synthetic Ethernet Port",
    "legacy": "Microsoft:Hyper-V:Emulated Ethernet Port",
}
"""The WMI resource subtype of each adapter kind ``nic.HYPERV`` offers."""

ALWAYS_ALLOWED = ("0.0.0.0/32", "::/128")
"""Unspecified sources a guest needs before it has an address: DHCP discovery and IPv6
duplicate address detection."""


class HypervAdapter(Model):
    """The adapter the guest sees (from the NIC model alone)."""

    kind: Literal["synthetic", "legacy"]
    resource_sub_type: str


class HypervVlan(Model):
    """The port's VLAN: untagged towards the guest, tagged with ``access_vlan_id`` outside."""

    operation_mode: Literal["access"] = "access"
    access_vlan_id: int = Field(ge=1, le=4094)


class HypervAcl(Model):
    """A port ACL entry on the guest's outgoing traffic, by the guest-side (local) address.

    Hyper-V applies the entry with the most specific prefix, so the ``allow`` of an address
    wins over the ``deny`` of its whole family.
    """

    direction: Literal["outbound"] = "outbound"
    action: Literal["allow", "deny"]
    local_address: IpAddressOrPrefix


class HypervPort(Model):
    """The switch port's settings (from the binding alone)."""

    switch_name: DisplayName
    mac_address: str = Field(pattern=r"^[0-9A-F]{12}$", description="Hyper-V's MAC format.")
    static_mac_address: bool = True
    vlan: HypervVlan | None = None
    allow_mac_spoofing: bool
    acls: list[HypervAcl] = Field(default_factory=list)


class HypervPortSettings(Model):
    """A rendered Hyper-V VIF: the switch port (``port``) and the adapter kind (``adapter``)."""

    port: HypervPort
    adapter: HypervAdapter


def _link_local(mac: str) -> str:
    """The EUI-64 link-local address a guest derives from ``mac`` for neighbour discovery."""
    octets = bytes.fromhex(mac.replace(":", ""))
    eui64 = bytes([octets[0] ^ 0x02]) + octets[1:3] + b"\xff\xfe" + octets[3:]
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui64)) + "/128"


def _ip_acls(binding: Binding) -> list[HypervAcl]:
    allowed = [
        *ALWAYS_ALLOWED,
        _link_local(binding.mac),
        *(str(source.network) for source in allowed_sources(binding)),
    ]
    return [HypervAcl(action="allow", local_address=a) for a in allowed] + [
        HypervAcl(action="deny", local_address=family) for family in ("0.0.0.0/0", "::/0")
    ]


def _hyperv(
    vif: HypervVif10, binding: Binding, attachment: HostAttachment, nic: NicRequest
) -> HypervPortSettings:
    kind = HYPERV.choose(nic).model
    owed = duties(binding, vif, PORT_ACL)
    if "mac_spoofing" in owed:
        own_mac_only(binding, PORT_ACL)
    vlan = vif.details.vlan
    port = HypervPort(
        switch_name=vif.details.vswitch,
        mac_address=binding.mac.replace(":", "").upper(),
        vlan=HypervVlan(access_vlan_id=vlan) if vlan is not None else None,
        allow_mac_spoofing="mac_spoofing" not in owed,
        acls=_ip_acls(binding) if "ip_spoofing" in owed else [],
    )
    adapter = HypervAdapter.model_validate(
        {"kind": kind, "resource_sub_type": RESOURCE_SUB_TYPES[kind]}
    )
    return HypervPortSettings(port=port, adapter=adapter)


TABLE: RenderTable[HypervPortSettings] = RenderTable("hyperv", {"hyperv": _hyperv})
"""Every VIF type Hyper-V port settings can express."""


render = TABLE.render
"""Render a binding: ``render(binding, attachment=None, nic=None)``."""
