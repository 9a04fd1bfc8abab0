"""``hyperv``: Hyper-V hosts, on the virtual switch mapped to the physnet; VLAN on the port."""

from __future__ import annotations

from collections.abc import Sequence

from vifbind.backends.base import Backend, BindContext, Proposal, Rejection, build, pick_segment
from vifbind.contract import Segment
from vifbind.contract.vifs.hyperv import HypervVif10


class HypervBackend(Backend):
    """Hyper-V adapter on the physnet's virtual switch, in the segment's access VLAN."""

    name = "hyperv"
    description = "Hyper-V virtual switch per physnet, access VLAN on the port"
    hypervisors = frozenset({"hyperv"})
    vnic_types = frozenset({"normal"})

    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """The physnet's virtual switch; the VLAN is set on the adapter's port."""
        switches = ctx.host.platform.hyperv_vswitches

        def reach(segment: Segment) -> str | None:
            if str(segment.physnet) in switches:
                return None
            listed = ", ".join(sorted(switches)) or "none"
            return (
                f"host {ctx.host.host} has no Hyper-V virtual switch for physnet "
                f"{segment.physnet} (platform.hyperv_vswitches: {listed})"
            )

        segment = pick_segment(ctx, frozenset({"flat", "vlan"}), reach, self.name)
        if isinstance(segment, Rejection):
            return [segment]
        return [
            build(
                HypervVif10,
                {"vswitch": switches[str(segment.physnet)], "vlan": segment.segmentation_id},
                segment,
            )
        ]
