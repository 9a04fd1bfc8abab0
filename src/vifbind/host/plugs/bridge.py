"""``bridge``: the guest's device on a Linux bridge.

Either a bridge the host's configuration lists (flat physnets), or the network's own bridge
that vifbind creates with a kernel VXLAN device for the network's VXLAN segment (the
linuxbridge backend's data plane), named ``brq`` + the network id's first 11 characters.
"""

from __future__ import annotations

from vifbind.contract import Binding, VifBase
from vifbind.contract.vifs.bridge import BridgeDetails10, network_bridge_name
from vifbind.errors import UnsafeVIF
from vifbind.host.config import HostConfig
from vifbind.host.layout import FilterPoint, Layout, LinkSpec, NetworkLayout, network_owner
from vifbind.host.plugs.base import Plug, guest_link


def vxlan_device(vni: int) -> str:
    """The VXLAN device of VNI ``vni`` (at most ``vxlan-16777215``, 14 bytes)."""
    return f"vxlan-{vni}"


def _network_bridge_wanted(binding: Binding, bridge: str, config: HostConfig) -> bool:
    segment = binding.segment
    return (
        config.network_bridges
        and binding.network_id is not None
        and segment is not None
        and segment.type == "vxlan"
        and bridge == network_bridge_name(binding.network_id)
    )


class BridgePlug(Plug):
    """Device on an allowed Linux bridge, or on the network's VXLAN bridge."""

    vif_type = "bridge"
    versions = ("1.0",)

    def check(self, binding: Binding, vif: VifBase, config: HostConfig) -> None:
        bridge = _details(vif).bridge
        if bridge in config.allowed_linux_bridges():
            return
        if not _network_bridge_wanted(binding, bridge, config):
            raise UnsafeVIF(
                f"vif.details.bridge: {bridge!r} is neither a Linux bridge this host's "
                "configuration allows nor the bridge of the binding's VXLAN network"
            )
        if "vxlan" not in config.tunnels:
            raise UnsafeVIF("segment: this host has no VXLAN tunnel endpoint configured")

    def layout(self, binding: Binding, vif: VifBase, config: HostConfig) -> Layout:
        details = _details(vif)
        guest = guest_link(binding, details.devname, config, master=details.bridge)
        network = None
        if _network_bridge_wanted(binding, details.bridge, config):
            assert binding.network_id is not None
            assert binding.segment is not None
            vni = int(binding.segment.segmentation_id or 0)
            owner = network_owner(binding.network_id)
            network = NetworkLayout(
                binding.network_id,
                bridge=LinkSpec(details.bridge, "bridge", owner, binding.mtu),
                vxlan=LinkSpec(
                    vxlan_device(vni),
                    "vxlan",
                    owner,
                    binding.mtu,
                    master=details.bridge,
                    vni=vni,
                    local=config.tunnels["vxlan"],
                    dstport=config.vxlan_port,
                ),
            )
        return Layout(
            binding.port_id,
            (guest,),
            filter=FilterPoint(details.devname, "bridge"),
            network=network,
        )


def _details(vif: VifBase) -> BridgeDetails10:
    details = vif.details
    assert isinstance(details, BridgeDetails10)
    return details
