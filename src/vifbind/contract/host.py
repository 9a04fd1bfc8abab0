"""The host report: what a compute host states about itself.

Every decision the network service makes for a host is made from this report alone, so that
hosts may differ (hypervisor, NICs, per-cluster identifiers, contract versions) without any
per-host configuration in the service.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vifbind.contract.base import Record
from vifbind.contract.protections import Enforcement, ProtectionName
from vifbind.contract.types import (
    BridgeName,
    DisplayName,
    DvsUuid,
    HostName,
    InterfaceName,
    IpAddress,
    PhysnetName,
    PortProfileId,
    SafeId,
    SocketPath,
    Uuid,
    Version,
)

Hypervisor = Literal["kvm", "qemu", "xen", "vmware", "hyperv", "netns"]
"""What runs the guests; ``netns`` means containers or test guests in network namespaces."""

MAX_ENTRIES = 1024


class Dot1QbgProfile(Record):
    """The VSI type an 802.1Qbg (VDP) switch applies on this physnet."""

    manager_id: int = Field(ge=0, le=255)
    type_id: int = Field(ge=0, le=2**24 - 1)
    type_id_version: int = Field(ge=0, le=255)
    enforces: list[ProtectionName] = Field(
        default_factory=list, description="Protections the switch applies through this VSI type."
    )


class Dot1QbhProfile(Record):
    """The port profile an 802.1Qbh port extender applies on this physnet."""

    profile_id: PortProfileId
    enforces: list[ProtectionName] = Field(
        default_factory=list, description="Protections the switch applies through this profile."
    )


class PhysnetMapping(Record):
    """How a physical network is reached on this host."""

    bridge: BridgeName | None = Field(
        default=None, description="Bridge (OVS or Linux) that carries this physnet."
    )
    device: InterfaceName | None = Field(
        default=None, description="Host NIC on this physnet (SR-IOV PF, macvtap parent, uplink)."
    )
    free_vfs: int = Field(default=0, ge=0, description="SR-IOV virtual functions still free.")
    mtu: int | None = Field(default=None, ge=68, le=65535, description="Largest MTU it carries.")
    dot1qbg: Dot1QbgProfile | None = None
    dot1qbh: Dot1QbhProfile | None = None


class OvsFacts(Record):
    """The host's Open vSwitch, as its agent found it."""

    bridge: BridgeName = Field(description="Integration bridge.")
    datapath_type: Literal["system", "netdev"] = "system"
    iface_types: list[SafeId] = Field(default_factory=list, max_length=MAX_ENTRIES)
    vhostuser_socket_dir: SocketPath = Field(
        default="/var/run/openvswitch",
        description="Directory in which the host accepts vhost-user sockets.",
    )


class VmwarePlatform(Record):
    """A vSphere cluster's identifiers."""

    dvs_uuid: DvsUuid | None = None
    portgroups: dict[PhysnetName, SafeId] = Field(
        default_factory=dict, description="Distributed port group key per physnet."
    )
    networks: dict[PhysnetName, DisplayName] = Field(
        default_factory=dict, description="Standard port group name per physnet."
    )


class Platform(Record):
    """Identifiers that only a hypervisor platform knows, per physnet."""

    xen_networks: dict[PhysnetName, Uuid] = Field(default_factory=dict)
    vmware: VmwarePlatform | None = None
    hyperv_vswitches: dict[PhysnetName, DisplayName] = Field(default_factory=dict)


class HostReport(Record):
    """Everything a host states about itself; the only input about hosts that binding uses."""

    host: HostName
    hypervisor: Hypervisor
    cluster: SafeId | None = None
    vif_types: dict[SafeId, list[Version]] = Field(
        description="Every VIF type and contract version the host can consume.",
        max_length=MAX_ENTRIES,
    )
    enforcement: Enforcement = Field(default_factory=Enforcement)
    physnets: dict[PhysnetName, PhysnetMapping] = Field(
        default_factory=dict, max_length=MAX_ENTRIES
    )
    tunnels: dict[SafeId, IpAddress] = Field(
        default_factory=dict, description="Tunnel endpoint address per overlay type."
    )
    ovs: OvsFacts | None = None
    platform: Platform = Field(default_factory=Platform)
    agent_version: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _consistent(self) -> HostReport:
        for vif_type, versions in self.vif_types.items():
            if not versions:
                raise ValueError(f"vif_types.{vif_type}: list at least one version, or omit it")
        return self

    def understands(self, vif_type: str) -> list[str]:
        """The versions of ``vif_type`` the host can consume (empty: not understood)."""
        return list(self.vif_types.get(vif_type, []))
