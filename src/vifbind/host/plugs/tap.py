"""``tap``: a bare device the backend wires itself (routes, flows); nobody else manages it.

With ``kvm`` it is a persistent tap that libvirt opens (``managed='no'``); with ``netns`` a veth
into the guest. The guest's frames arrive on the host device, where a netdev ingress hook sees
them.
"""

from __future__ import annotations

from vifbind.contract import Binding, VifBase
from vifbind.contract.vifs.tap import TapDetails10
from vifbind.host.config import HostConfig
from vifbind.host.layout import FilterPoint, Layout
from vifbind.host.plugs.base import Plug, guest_link


class TapPlug(Plug):
    """A bare tap (kvm) or veth (netns)."""

    vif_type = "tap"
    versions = ("1.0",)
    # Stateful filtering needs a bridge's connection tracking, which a bare device lacks.
    security_groups = False

    def layout(self, binding: Binding, vif: VifBase, config: HostConfig) -> Layout:
        details = vif.details
        assert isinstance(details, TapDetails10)
        guest = guest_link(binding, details.devname, config)
        return Layout(
            binding.port_id, (guest,), filter=FilterPoint(details.devname, "netdev", "ingress")
        )
