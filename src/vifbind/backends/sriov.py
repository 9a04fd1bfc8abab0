"""``sriov``: SR-IOV virtual functions (``direct``) and whole functions (``direct-physical``).

Only hosts with the NIC on the segment's physnet qualify, and only for the device the compute
side claimed in the bind request's profile. A VF's embedded switch can guard its source MAC
(``vf-spoofchk``) but nothing more; whatever else the port requires must be enforceable by the
host on the chosen attachment, or the port is not bound here.
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
from vifbind.contract.vifs.hostdev_physical import HostdevPhysicalVif10
from vifbind.contract.vifs.hw_veb import HwVebVif10


class SriovBackend(Backend):
    """SR-IOV: flat and vlan segments on a physnet mapped to an SR-IOV capable device."""

    name = "sriov"
    description = "SR-IOV VF (hw_veb) or physical function passthrough"
    hypervisors = frozenset({"kvm", "qemu"})
    vnic_types = frozenset({"direct", "direct-physical"})

    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """The claimed VF as PCI passthrough, then as macvtap passthrough; or the claimed PF."""
        profile = ctx.profile
        if profile is None or profile.pci_address is None:
            return [
                Rejection(
                    "the bind request's profile has no pci_address: the compute side must "
                    f"claim a {'VF' if ctx.port.vnic_type == 'direct' else 'PF'} before binding"
                )
            ]
        direct = ctx.port.vnic_type == "direct"

        def reach(segment: Segment) -> str | None:
            if profile.physnet is not None and profile.physnet != segment.physnet:
                return f"the claimed device is on physnet {profile.physnet}"
            mapping, reason = physnet_reason(ctx, segment, "device")
            if mapping is not None and direct and mapping.free_vfs < 1:
                return (
                    f"physnet {segment.physnet} on host {ctx.host.host} has no free VF "
                    f"(device {mapping.device}, free_vfs 0)"
                )
            return reason

        segment = pick_segment(ctx, frozenset({"flat", "vlan"}), reach, self.name)
        if isinstance(segment, Rejection):
            return [segment]
        if not direct:
            return [build(HostdevPhysicalVif10, {"pci_address": profile.pci_address}, segment)]
        details = {
            "pci_address": profile.pci_address,
            "physnet": segment.physnet,
            "vlan": segment.segmentation_id or 0,
        }
        return [
            build(HwVebVif10, {**details, "attach": "hostdev"}, segment),
            build(
                HwVebVif10,
                {**details, "attach": "direct"},
                segment,
                note="macvtap passthrough on the VF, so that host filters can act",
            ),
        ]
