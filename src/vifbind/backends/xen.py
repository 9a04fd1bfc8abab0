"""``xen``: XenServer / XCP-ng, whose networks are identified per pool by UUID."""

from __future__ import annotations

from collections.abc import Sequence

from vifbind.backends.base import Backend, BindContext, Proposal, Rejection, build, platform_key
from vifbind.backends.platform import platform_segment
from vifbind.contract.vifs.xen import XenVif10


class XenBackend(Backend):
    """XenAPI VIF on the pool network the host reports for the segment."""

    name = "xen"
    description = "XenServer pool network (per-pool UUID from the host report)"
    hypervisors = frozenset({"xen"})
    vnic_types = frozenset({"normal"})

    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """The pool's network for the segment, as the host reported it."""
        networks = ctx.host.platform.xen_networks
        segment = platform_segment(
            ctx, self.name, "XenServer network", {"platform.xen_networks": networks}
        )
        if isinstance(segment, Rejection):
            return [segment]
        return [build(XenVif10, {"network_uuid": networks[platform_key(segment)]}, segment)]
