"""``ovs``: a device on an Open vSwitch bridge, tagged with the logical port it serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.protections import PACKET_FILTERS
from vifbind.contract.types import BridgeName, InterfaceName, Uuid
from vifbind.contract.vif import AddedField, VifBase, VifTypeSpec, VifVersion


class OvsDetails10(Model):
    """``ovs`` 1.0 details."""

    bridge: BridgeName = Field(description="Integration bridge the port is added to.")
    interface_id: Uuid = Field(description="external_ids:iface-id, the logical port.")
    devname: InterfaceName = Field(description="Name of the device the host creates.")
    hybrid: bool = Field(
        default=False,
        description="Host must put a Linux bridge and a veth pair between guest and OVS so "
        "that it can filter the guest's traffic.",
    )


class OvsDetails11(OvsDetails10):
    """``ovs`` 1.1 details: adds the bridge's datapath type."""

    datapath_type: Literal["system", "netdev"] = Field(
        default="system", description="Datapath of the bridge; 1.0 implies 'system'."
    )


@dataclass(frozen=True)
class HybridNames:
    """The devices of a hybrid plug, all derived from the guest device's name."""

    bridge: str
    bridge_end: str
    ovs_end: str


def hybrid_names(devname: str) -> HybridNames:
    """``tapXXXX`` -> ``qbrXXXX`` (the per-port bridge), ``qvbXXXX`` (veth end on it),
    ``qvoXXXX`` (veth end on OVS), as in Neutron. A name without the ``tap`` prefix keeps its
    whole self as the suffix, cut to fit 15 bytes.

    The host agent (which creates these devices) and the renderers (which attach the guest to
    the bridge) both derive them here, so that they cannot disagree.
    """
    suffix = (devname[3:] if devname.startswith("tap") else devname)[:12]
    return HybridNames(f"qbr{suffix}", f"qvb{suffix}", f"qvo{suffix}")


class _OvsVif(VifBase):
    details: OvsDetails10

    def host_mechanisms(self) -> frozenset[str]:
        # Without the hybrid bridge the guest's frames go straight into OVS, past any host
        # packet filter; with it they cross a Linux bridge where nftables/iptables see them.
        return PACKET_FILTERS if self.details.hybrid else frozenset()

    def summary(self) -> str:
        hybrid = ", hybrid" if self.details.hybrid else ""
        return f"ovs {self.version} on {self.details.bridge}{hybrid}"


class OvsVif10(_OvsVif):
    """An ``ovs`` VIF, version 1.0."""

    type: Literal["ovs"] = "ovs"
    version: Literal["1.0"] = "1.0"
    details: OvsDetails10


class OvsVif11(_OvsVif):
    """An ``ovs`` VIF, version 1.1."""

    type: Literal["ovs"] = "ovs"
    version: Literal["1.1"] = "1.1"
    details: OvsDetails11


SPEC = VifTypeSpec(
    type="ovs",
    description="Device on an Open vSwitch bridge (the OVS integration convention).",
    versions=(
        VifVersion("1.0", OvsVif10),
        VifVersion("1.1", OvsVif11, added=(AddedField("datapath_type", ("system",)),)),
    ),
)
