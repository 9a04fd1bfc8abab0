"""The host attachment: what the compute host did, or leaves to the hypervisor, for one VIF."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vifbind.contract.base import Model
from vifbind.contract.types import InterfaceName

XEN_MAX_DEVICE = 63


class HostAttachment(Model):
    """Host-local facts a renderer needs beyond the binding; the defaults suit vifbind's agent."""

    tap_created_by: Literal["agent", "hypervisor"] = Field(
        default="agent",
        description="Who creates the guest's tap of an 'ovs' (non-hybrid) or 'tap' VIF: the "
        "host agent (the hypervisor opens it unmanaged) or the hypervisor (libvirt creates it "
        "and, for 'ovs', adds the OVS port itself).",
    )
    vf_netdev: InterfaceName | None = Field(
        default=None,
        description="Host netdev of the virtual function of an 'hw_veb' VIF attached 'direct'.",
    )
    xen_device: int = Field(
        default=0,
        ge=0,
        le=XEN_MAX_DEVICE,
        description="XenAPI VIF device number: the interface's position in the guest.",
    )
