"""``vmware``: vSphere clusters, on a distributed port group or a standard port group."""

from __future__ import annotations

from collections.abc import Sequence

from vifbind.backends.base import Backend, BindContext, Proposal, Rejection, build, platform_key
from vifbind.backends.platform import platform_segment
from vifbind.contract.host import VmwarePlatform
from vifbind.contract.vifs.vmware import VmwareVif10


class VmwareBackend(Backend):
    """vSphere NIC backed by the port group the cluster reports for the segment."""

    name = "vmware"
    description = "vSphere distributed or standard port group (per-cluster identifiers)"
    hypervisors = frozenset({"vmware"})
    vnic_types = frozenset({"normal"})

    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """A distributed port group when the cluster has one for the segment, else a standard."""
        vmware = ctx.host.platform.vmware or VmwarePlatform()
        distributed = vmware.portgroups if vmware.dvs_uuid is not None else {}
        segment = platform_segment(
            ctx,
            self.name,
            "port group",
            {
                "platform.vmware.portgroups": distributed,
                "platform.vmware.networks": vmware.networks,
            },
        )
        if isinstance(segment, Rejection):
            return [segment]
        key = platform_key(segment)
        if key in distributed:
            details = {"dvs_uuid": vmware.dvs_uuid, "portgroup_key": distributed[key]}
        else:
            details = {"network_name": vmware.networks[key]}
        return [build(VmwareVif10, details, segment)]
