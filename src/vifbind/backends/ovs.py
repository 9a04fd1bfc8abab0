"""``ovs``: plain Open vSwitch, the host filters (the hybrid plug).

The switch isolates networks but enforces no protection, so every required protection falls to
the host, and the guest's device sits on a per-port Linux bridge where host packet filters see
it. When the port needs no protection the hybrid bridge is left out: it exists only to filter.
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
from vifbind.contract import Segment
from vifbind.contract.network import OVERLAY_TYPES
from vifbind.contract.vifs.ovs import OvsVif11


class OvsBackend(Backend):
    """Plain OVS: flat/vlan on bridge-mapped physnets, vxlan/geneve tunnels; host filters."""

    name = "ovs"
    description = "Open vSwitch port with host-side filtering (hybrid plug)"
    hypervisors = frozenset({"kvm", "qemu", "netns"})
    vnic_types = frozenset({"normal"})

    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """One OVS device, hybrid when the port needs protections."""
        ovs = ctx.host.ovs
        if ovs is None:
            return [Rejection(f"host {ctx.host.host} reports no Open vSwitch; ovs needs one")]

        def reach(segment: Segment) -> str | None:
            if segment.type in OVERLAY_TYPES:
                return tunnel_reason(ctx.host, segment)
            return physnet_reason(ctx, segment, "bridge")[1]

        segment = pick_segment(
            ctx, frozenset({"flat", "vlan", "vxlan", "geneve"}), reach, self.name
        )
        if isinstance(segment, Rejection):
            return [segment]
        hybrid = ctx.port.port_security
        return [
            build(
                OvsVif11,
                {
                    "bridge": ovs.bridge,
                    "interface_id": ctx.port.id,
                    "devname": device_name("tap", ctx.port),
                    "datapath_type": ovs.datapath_type,
                    "hybrid": hybrid,
                },
                segment,
                note="" if hybrid else "port security off: no hybrid bridge needed",
            )
        ]
