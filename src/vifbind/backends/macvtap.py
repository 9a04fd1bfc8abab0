"""``macvtap``: a macvtap on the physnet's device, or the switch's port profile when the host
reports one (802.1Qbg VSI type, 802.1Qbh port profile).

A port profile's switch enforces what the host report says it does; a plain macvtap leaves
every protection to the host.
"""

from __future__ import annotations

from collections.abc import Sequence

from vifbind.backends.base import (
    Backend,
    BindContext,
    Proposal,
    Rejection,
    build,
    physnet_reason,
    pick_segment,
)
from vifbind.contract import Segment
from vifbind.contract.vifs.dot1qbg import Dot1QbgVif10
from vifbind.contract.vifs.dot1qbh import Dot1QbhVif10
from vifbind.contract.vifs.macvtap import MacvtapVif10


class MacvtapBackend(Backend):
    """macvtap on the physnet's device (a VLAN sub-interface of it for vlan segments)."""

    name = "macvtap"
    description = "macvtap on a host device; 802.1Qbg/802.1Qbh where the switch offers them"
    hypervisors = frozenset({"kvm", "qemu"})
    vnic_types = frozenset({"macvtap"})

    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """Port-profile candidates first (the switch does the work), then a plain macvtap."""

        def reach(segment: Segment) -> str | None:
            return physnet_reason(ctx, segment, "device")[1]

        segment = pick_segment(ctx, frozenset({"flat", "vlan"}), reach, self.name)
        if isinstance(segment, Rejection):
            return [segment]
        mapping = ctx.host.physnets[str(segment.physnet)]
        parent = str(mapping.device)
        if segment.type == "vlan":
            parent = f"{parent}.{segment.segmentation_id}"
        proposals: list[Proposal] = []
        if mapping.dot1qbg is not None:
            vsi = mapping.dot1qbg
            proposals.append(
                build(
                    Dot1QbgVif10,
                    {
                        "parent": parent,
                        "manager_id": vsi.manager_id,
                        "type_id": vsi.type_id,
                        "type_id_version": vsi.type_id_version,
                        "instance_id": ctx.port.id,
                    },
                    segment,
                    frozenset(vsi.enforces),
                    note=f"the switch on physnet {segment.physnet} applies VSI type {vsi.type_id}",
                )
            )
        if mapping.dot1qbh is not None:
            profile = mapping.dot1qbh
            proposals.append(
                build(
                    Dot1QbhVif10,
                    {"parent": parent, "profile_id": profile.profile_id},
                    segment,
                    frozenset(profile.enforces),
                    note=f"the switch on physnet {segment.physnet} applies port profile "
                    f"{profile.profile_id}",
                )
            )
        proposals.append(build(MacvtapVif10, {"parent": parent, "mode": "bridge"}, segment))
        return proposals
