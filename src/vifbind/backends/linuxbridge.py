"""``linuxbridge``: one Linux bridge per network; the host filters with its packet filter.

Flat segments use the physnet's bridge when the host maps one, else a bridge per network over
the physnet's device; VLAN segments a bridge per network over a VLAN sub-interface of the
device; VXLAN segments a bridge per network with a kernel VXLAN device.
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
from vifbind.contract.vifs.bridge import BridgeVif10, network_bridge_name


class LinuxBridgeBackend(Backend):
    """Linux bridges: flat, vlan and vxlan segments; every protection on the host."""

    name = "linuxbridge"
    description = "Linux bridge per network (VXLAN or physnet uplink), host-side filtering"
    hypervisors = frozenset({"kvm", "qemu", "netns"})
    vnic_types = frozenset({"normal"})

    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """One ``bridge`` VIF on the bridge that carries the reachable segment."""

        def reach(segment: Segment) -> str | None:
            if segment.type == "vxlan":
                return tunnel_reason(ctx.host, segment)
            if segment.type == "vlan":
                return physnet_reason(ctx, segment, "device")[1]
            return physnet_reason(ctx, segment, "bridge", "device")[1]

        segment = pick_segment(ctx, frozenset({"flat", "vlan", "vxlan"}), reach, self.name)
        if isinstance(segment, Rejection):
            return [segment]
        bridge = network_bridge_name(ctx.network.id)
        if segment.type == "flat":
            mapped = ctx.host.physnets[str(segment.physnet)].bridge
            bridge = mapped if mapped is not None else bridge
        return [
            build(
                BridgeVif10,
                {"bridge": bridge, "devname": device_name("tap", ctx.port)},
                segment,
            )
        ]
