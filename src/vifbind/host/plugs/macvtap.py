"""``macvtap``: a macvtap on a host NIC listed under the host's physnets (kvm guests).

The contract names no device for it; the host derives ``mvt`` + the port id. The guest's frames
are transmitted by the macvtap device itself and never cross a bridge, so the host filters
them on the device's netdev egress hook.
"""

from __future__ import annotations

from vifbind.contract import Binding, VifBase
from vifbind.contract.vifs.macvtap import MacvtapDetails10
from vifbind.errors import UnsafeVIF
from vifbind.host.config import HostConfig
from vifbind.host.layout import FilterPoint, Layout, LinkSpec, port_owner
from vifbind.host.plugs.base import Plug, derived_name


def macvtap_name(port_id: str) -> str:
    """The macvtap device of ``port_id``."""
    return derived_name("mvt", port_id)


class MacvtapPlug(Plug):
    """macvtap on an allowed parent."""

    vif_type = "macvtap"
    versions = ("1.0",)
    hypervisors = frozenset({"kvm"})
    # The netdev family has no connection tracking: no stateful filter on a macvtap.
    security_groups = False

    def check(self, binding: Binding, vif: VifBase, config: HostConfig) -> None:
        parent = _details(vif).parent
        if parent not in config.physnet_devices():
            raise UnsafeVIF(
                f"vif.details.parent: {parent!r} is not a physnet device of this host's "
                "configuration"
            )

    def layout(self, binding: Binding, vif: VifBase, config: HostConfig) -> Layout:
        details = _details(vif)
        name = macvtap_name(binding.port_id)
        link = LinkSpec(
            name,
            "macvtap",
            port_owner(binding.port_id),
            binding.mtu,
            parent=details.parent,
            mode=details.mode,
            mac=binding.mac,
        )
        return Layout(binding.port_id, (link,), filter=FilterPoint(name, "netdev", "egress"))


def _details(vif: VifBase) -> MacvtapDetails10:
    details = vif.details
    assert isinstance(details, MacvtapDetails10)
    return details
