"""``ovs``: a device on the integration bridge, claimed by the OVS integration convention.

``hybrid``: the guest's device sits on a per-port Linux bridge, joined to OVS by a veth pair,
so that the host's packet filter sees the guest's frames (Neutron's ``qbr``/``qvb``/``qvo``).
"""

from __future__ import annotations

from vifbind.contract import Binding, VifBase
from vifbind.contract.types import check_interface_name
from vifbind.contract.vifs.ovs import OvsDetails10, hybrid_names
from vifbind.errors import UnsafeVIF
from vifbind.host.config import HostConfig
from vifbind.host.layout import FilterPoint, Layout, LinkSpec, OvsPortSpec, Peer, port_owner
from vifbind.host.ovsdb import OWNER_KEY
from vifbind.host.plugs.base import Plug, guest_link


def ovs_external_ids(binding: Binding, interface_id: str) -> dict[str, str]:
    """The OVS integration convention (OVN claims the port by ``iface-id``) + vifbind's mark."""
    return {
        "iface-id": interface_id,
        "attached-mac": binding.mac,
        "vm-uuid": binding.device_id,
        "iface-status": "active",
        OWNER_KEY: binding.port_id,
    }


class OvsPlug(Plug):
    """Plain or hybrid device on the integration bridge."""

    vif_type = "ovs"
    versions = ("1.0", "1.1")

    def check(self, binding: Binding, vif: VifBase, config: HostConfig) -> None:
        details = _details(vif)
        if details.bridge != config.integration_bridge:
            raise UnsafeVIF(
                f"vif.details.bridge: {details.bridge!r} is not this host's integration bridge "
                f"{config.integration_bridge!r}"
            )
        if details.hybrid:
            for name in vars(hybrid_names(details.devname)).values():
                check_interface_name(name)

    def layout(self, binding: Binding, vif: VifBase, config: HostConfig) -> Layout:
        details = _details(vif)
        external_ids = ovs_external_ids(binding, details.interface_id)
        if not details.hybrid:
            guest = guest_link(binding, details.devname, config, feeds_ovs=True)
            port = OvsPortSpec(details.devname, details.bridge, external_ids, binding.mtu)
            return Layout(binding.port_id, (guest,), ovs=port)
        names = hybrid_names(details.devname)
        owner = port_owner(binding.port_id)
        links = (
            LinkSpec(names.bridge, "bridge", owner, binding.mtu),
            guest_link(binding, details.devname, config, master=names.bridge, feeds_ovs=True),
            LinkSpec(
                names.bridge_end,
                "veth",
                owner,
                binding.mtu,
                master=names.bridge,
                peer=Peer(names.ovs_end, mtu=binding.mtu),
            ),
        )
        port = OvsPortSpec(names.ovs_end, details.bridge, external_ids, binding.mtu)
        return Layout(
            binding.port_id, links, ovs=port, filter=FilterPoint(details.devname, "bridge")
        )


def _details(vif: VifBase) -> OvsDetails10:
    details = vif.details
    assert isinstance(details, OvsDetails10)
    return details
