"""``ovn``: OVN logical switches; ovn-controller on the host's OVS claims the port.

OVN enforces every protection itself (port security for MAC and IP, ACLs for security groups),
so the host filters nothing. On a userspace-datapath OVS that can create vhost-user ports the
guest gets vhost-user; otherwise a device on the integration bridge.
"""

from __future__ import annotations

from collections.abc import Sequence

from vifbind.backends.base import (
    Backend,
    BindContext,
    Proposal,
    Rejection,
    build,
    device_name,
    physnet_reason,
    pick_segment,
    tunnel_reason,
)
from vifbind.contract import PROTECTIONS, Segment
from vifbind.contract.vifs.ovs import OvsVif11
from vifbind.contract.vifs.vhostuser import VhostuserVif11

VHOSTUSER_IFACE = "dpdkvhostuserclient"


class OvnBackend(Backend):
    """OVN: geneve overlays and bridge-mapped physnets, all protections in the network."""

    name = "ovn"
    description = "OVN logical switch port, claimed by ovn-controller (iface-id)"
    hypervisors = frozenset({"kvm", "qemu", "netns"})
    vnic_types = frozenset({"normal", "vhost"})

    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """vhost-user where the host's OVS offers it, else an OVS device."""
        ovs = ctx.host.ovs
        if ovs is None:
            return [Rejection(f"host {ctx.host.host} reports no Open vSwitch; ovn needs one")]

        def reach(segment: Segment) -> str | None:
            if segment.type == "geneve":
                return tunnel_reason(ctx.host, segment)
            return physnet_reason(ctx, segment, "bridge")[1]

        segment = pick_segment(ctx, frozenset({"geneve", "vlan", "flat"}), reach, self.name)
        if isinstance(segment, Rejection):
            return [segment]
        enforces = frozenset(PROTECTIONS)
        proposals: list[Proposal] = []
        if ovs.datapath_type == "netdev" and VHOSTUSER_IFACE in ovs.iface_types:
            proposals.append(
                build(
                    VhostuserVif11,
                    {
                        "socket_path": f"{ovs.vhostuser_socket_dir}/{device_name('vhu', ctx.port)}",
                        "mode": "server",
                        "ovs_bridge": ovs.bridge,
                        "queues": 1,
                    },
                    segment,
                    enforces,
                    note=f"host OVS ({ovs.datapath_type}) offers {VHOSTUSER_IFACE}",
                )
            )
        else:
            proposals.append(
                Rejection(
                    f"host {ctx.host.host} reports no {VHOSTUSER_IFACE} interface type "
                    f"(ovs datapath {ovs.datapath_type}, iface_types: "
                    f"{', '.join(ovs.iface_types) or 'none'})",
                    "vhostuser",
                )
            )
        if ctx.port.vnic_type == "vhost":
            return proposals
        proposals.append(
            build(
                OvsVif11,
                {
                    "bridge": ovs.bridge,
                    "interface_id": ctx.port.id,
                    "devname": device_name("tap", ctx.port),
                    "datapath_type": ovs.datapath_type,
                    "hybrid": False,
                },
                segment,
                enforces,
            )
        )
        return proposals
