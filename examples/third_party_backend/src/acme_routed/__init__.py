"""ACME routed networking for vifbind: a bare tap per guest, on a flat physnet.

ACME's routing daemon on each host (not vifbind) routes the guest's addresses to its tap and
announces them upstream. The VIF is therefore a ``tap``: the host creates the device and, since
ACME enforces nothing itself, the host's packet filter enforces MAC and IP anti-spoofing on it.
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
)
from vifbind.contract import Segment
from vifbind.contract.vifs.tap import TapVif10


class AcmeRoutedBackend(Backend):
    """Routed guests on flat segments whose physnet the host reaches through a device."""

    name = "acme-routed"
    description = "ACME routed networking: a bare tap, routed by ACME's host daemon"
    hypervisors = frozenset({"kvm", "qemu", "netns"})
    vnic_types = frozenset({"normal"})

    def propose(self, ctx: BindContext) -> Sequence[Proposal]:
        """One ``tap`` VIF on the first flat segment the host reaches, or why there is none."""
        port = ctx.port
        if port.port_security and port.security_groups:
            # A bare tap has no connection tracking, so neither ACME nor the host could apply
            # the groups' stateful rules: refuse rather than leave the port unprotected.
            return [
                Rejection(
                    f"port has security groups ({', '.join(port.security_groups)}); "
                    "acme-routed cannot apply them on a bare tap",
                    "tap",
                )
            ]

        def reach(segment: Segment) -> str | None:
            return physnet_reason(ctx, segment, "device")[1]

        segment = pick_segment(ctx, frozenset({"flat"}), reach, self.name)
        if isinstance(segment, Rejection):
            return [segment]
        uplink = ctx.host.physnets[str(segment.physnet)].device
        routed = ", ".join(port.fixed_ips) or "no address"
        return [
            build(
                TapVif10,
                {"devname": device_name("acr", port)},
                segment,
                note=f"ACME's daemon routes {routed} to the tap, upstream via {uplink}",
            )
        ]
